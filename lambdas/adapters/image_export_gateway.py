"""Copies of an AMI outside EC2: VM export (VMDK for QA) and the store-image task (S3 backup, and the
first leg of the QA export's store/restore round trip)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters.aws import client


def export_image(
    *, ami_id: str, disk_format: str, bucket: str, prefix: str, role_name: str, token: str, tags: dict[str, str]
) -> str:
    response = client("ec2").export_image(
        ImageId=ami_id,
        DiskImageFormat=disk_format,
        S3ExportLocation={"S3Bucket": bucket, "S3Prefix": prefix},
        RoleName=role_name,
        ClientToken=token[:64],
        TagSpecifications=[
            {"ResourceType": "export-image-task", "Tags": [{"Key": k, "Value": v[:255]} for k, v in tags.items()]}
        ],
    )
    return response["ExportImageTaskId"]


def export_task(task_id: str) -> dict[str, Any]:
    tasks = client("ec2").describe_export_image_tasks(ExportImageTaskIds=[task_id])["ExportImageTasks"]
    if not tasks:
        return {"status": "deleted", "message": "export task not found", "s3_bucket": "", "s3_prefix": "", "progress": None}
    task = tasks[0]
    location = task.get("S3ExportLocation", {})
    return {
        "status": task.get("Status", "active"),
        "message": task.get("StatusMessage", ""),
        "s3_bucket": location.get("S3Bucket", ""),
        "s3_prefix": location.get("S3Prefix", ""),
        "progress": _percent(task.get("Progress")),
    }


def cancel_export(task_id: str) -> None:
    try:
        client("ec2").cancel_export_task(ExportTaskId=task_id)
    except ClientError as exc:
        # Already finished or gone: nothing to cancel.
        if exc.response["Error"]["Code"] not in ("InvalidExportTaskID.NotFound", "IncorrectState"):
            raise


def store_image(*, ami_id: str, bucket: str, tags: dict[str, str]) -> str:
    response = client("ec2").create_store_image_task(
        ImageId=ami_id,
        Bucket=bucket,
        S3ObjectTags=[{"Key": k, "Value": v[:255]} for k, v in tags.items()],
    )
    return response["ObjectKey"]


def encryption_by_default() -> bool:
    return bool(client("ec2").get_ebs_encryption_by_default()["EbsEncryptionByDefault"])


def store_task(ami_id: str, bucket: str | None = None) -> dict[str, Any]:
    """The latest store task of the AMI (into `bucket` when given: one AMI may be stored in several).
    DescribeStoreImageTasks lists tasks in reverse chronological order."""
    results = client("ec2").describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"]
    results = [r for r in results if bucket is None or r.get("Bucket") == bucket]
    if not results:
        return {"state": "Failed", "reason": "store task not found", "bucket": "", "key": "", "progress": None}
    result = results[0]
    return {
        "state": result.get("StoreTaskState", "InProgress"),
        "reason": result.get("StoreTaskFailureReason", ""),
        "bucket": result.get("Bucket", ""),
        "key": result.get("S3objectKey", ""),
        "progress": _percent(result.get("ProgressPercentage")),
    }


def _percent(value: Any) -> float | None:
    """AWS's progress figure (an integer, or the export's string), None when absent."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
