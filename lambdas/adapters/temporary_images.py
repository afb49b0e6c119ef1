"""The QA export's temporary AMI: an unencrypted copy restored from a store-image object, and its removal.

Every temporary AMI and its snapshots carry TEMPORARY_TAGS (plus the deployment, lifecycle and execution
tags), set by CreateRestoreImageTask itself; the function may deregister and delete only what carries
them (IAM ec2:ResourceTag conditions), so the released AMI can never be removed by mistake.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters.aws import client

TEMPORARY_TAGS = {"AMI_LC_TEMPORARY": "qa-export"}
EXECUTION_TAG = "AMI_LC_EXECUTION"


def restore_image(*, bucket: str, key: str, name: str, tags: dict[str, str]) -> str:
    tag_list = [{"Key": k, "Value": v[:256]} for k, v in {**tags, **TEMPORARY_TAGS}.items()]
    try:
        return client("ec2").create_restore_image_task(
            Bucket=bucket,
            ObjectKey=key,
            Name=name,
            TagSpecifications=[{"ResourceType": kind, "Tags": tag_list} for kind in ("image", "snapshot")],
        )["ImageId"]
    except ClientError as exc:
        # A retried call whose first attempt went through finds its own AMI under the run's unique name.
        existing = find_image(name) if exc.response["Error"]["Code"] == "InvalidAMIName.Duplicate" else None
        if existing is None:
            raise
        return existing["image_id"]


def find_image(name: str) -> dict[str, Any] | None:
    """The temporary AMI of that name (only one carrying TEMPORARY_TAGS: never another AMI)."""
    images = client("ec2").describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])["Images"]
    views = [_view(image) for image in images]
    return next((v for v in views if _is_temporary(v)), None)


def image(image_id: str) -> dict[str, Any] | None:
    try:
        images = client("ec2").describe_images(ImageIds=[image_id])["Images"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"):
            return None
        raise
    return _view(images[0]) if images else None


def deregister(view: dict[str, Any]) -> None:
    if not _is_temporary(view):
        raise ValueError(f"{view['image_id']} is not a temporary QA export copy: refusing to deregister it")
    try:
        client("ec2").deregister_image(ImageId=view["image_id"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"):
            raise


def run_snapshots(execution_name: str) -> list[str]:
    """Snapshots a restore of this execution created (found by tag: the AMI may be gone already)."""
    filters = [{"Name": f"tag:{EXECUTION_TAG}", "Values": [execution_name]}]
    filters += [{"Name": f"tag:{k}", "Values": [v]} for k, v in TEMPORARY_TAGS.items()]
    snapshots = client("ec2").describe_snapshots(OwnerIds=["self"], Filters=filters)["Snapshots"]
    return [s["SnapshotId"] for s in snapshots]


def delete_snapshots(snapshot_ids: list[str]) -> None:
    for snapshot_id in snapshot_ids:
        try:
            client("ec2").delete_snapshot(SnapshotId=snapshot_id)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "InvalidSnapshot.NotFound":
                raise


def delete_object(bucket: str, key: str) -> None:
    client("s3").delete_object(Bucket=bucket, Key=key)  # no error when already gone


def _view(image: dict[str, Any]) -> dict[str, Any]:
    mappings = image.get("BlockDeviceMappings", [])
    return {
        "image_id": image["ImageId"],
        "state": image.get("State", "pending"),
        "reason": image.get("StateReason", {}).get("Message", ""),
        "snapshots": [m["Ebs"]["SnapshotId"] for m in mappings if m.get("Ebs", {}).get("SnapshotId")],
        "encrypted": any(m.get("Ebs", {}).get("Encrypted") for m in mappings),
        "tags": {t["Key"]: t["Value"] for t in image.get("Tags", [])},
    }


def _is_temporary(view: dict[str, Any]) -> bool:
    return all(view["tags"].get(k) == v for k, v in TEMPORARY_TAGS.items())
