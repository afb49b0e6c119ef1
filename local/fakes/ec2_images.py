"""EC2 image operations moto lacks, faked, refusing what AWS documents it refuses: VM export, storing
an AMI in S3 and restoring one from it, image deprecation.

- ExportImage refuses an image with encrypted EBS snapshots in its block device mapping, one of another
  account, a Windows or Marketplace image, an image not `available`, a format other than VMDK|RAW|VHD,
  a RoleName that is no IAM role, and a bucket that is missing, in another Region or SSE-KMS encrypted.
- CreateStoreImageTask writes `<ami-id>.bin` (decrypted, as AWS stores it) when the task completes;
  CreateRestoreImageTask needs such an object, refuses an AMI name already used in the account and
  Region, and registers a new AMI that is `pending` for a simulated duration, then `available` (or
  `failed`, snapshots `error`); its snapshots are unencrypted unless EBS encryption by default is on.
  There is no describe call for restore tasks on AWS either: the AMI's state is what one watches, and
  its end is emitted as AWS emits it, an "EC2 AMI State Change" event (available or failed, with
  ErrorMessage); RegisterImage, CreateImage and CopyImage AMIs, available at once in moto, emit
  theirs at once (EC2 User Guide, "Monitor AMI events using Amazon EventBridge").
- Store and export tasks report their progress (ProgressPercentage, Progress) growing linearly with
  their simulated duration; AWS emits no event for them.
- moto's RegisterImage ignores the block device mapping; the fake remembers which AMI snapshots are
  encrypted (Ebs.Encrypted, or an encrypted SnapshotId) and shows it in DescribeImages/DescribeSnapshots.
- CreateTags on an AMI or snapshot that does not exist (or no longer does) fails as on AWS.

`fail_next_export` / `fail_next_store` / `fail_next_restore` make the next task end as AWS reports a
failure. Every call to moto is made with the administrator's credentials (local/credentials.py).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from botocore.config import Config
from botocore.exceptions import ClientError

from local.events import aws_event
from local.fakes.buckets import require_bucket
from local.fakes.hooks import AdminClients, FakeAws, FakeError
from local.time_scale import TimeScale

FORMATS = ("VMDK", "RAW", "VHD")
DEFAULT_EBS_KEY = "alias/aws/ebs"  # the AWS managed key EBS encryption by default uses unless changed


@dataclass
class _Task:
    task_id: str
    ami_id: str
    bucket: str
    key: str
    started: float
    failure: str | None
    status: str
    meta: dict[str, Any] = field(default_factory=dict)  # store: the AMI as stored; export: the request


@dataclass
class _Restore:
    snapshots: list[str]
    started: float
    failure: str | None
    state: str = "pending"
    settled: float | None = None  # when it became available or failed (scale.now())


class Ec2ImagesFake:
    def __init__(self, *, scale: TimeScale, region: str, account: str | None = None, export_minutes: float = 20,
                 store_minutes: float = 10, restore_minutes: float = 15,
                 emit: Callable[[dict[str, Any]], None] = lambda event: None) -> None:
        self.scale, self.region, self._account, self.emit = scale, region, account, emit
        self.export_minutes, self.store_minutes, self.restore_minutes = export_minutes, store_minutes, restore_minutes
        self.exports: dict[str, _Task] = {}
        self.stores: dict[str, list[_Task]] = {}  # by AMI id, newest first (DescribeStoreImageTasks' order)
        self.restores: dict[str, _Restore] = {}  # by restored AMI id
        self.encrypted: dict[str, str] = {}  # snapshot id -> KMS key of an encrypted AMI snapshot
        self.deprecations: dict[str, str] = {}
        self._tokens: dict[str, str] = {}
        self._failures: dict[str, list[str]] = {"export": [], "store": [], "restore": []}
        self._lock = threading.RLock()
        # Plain uploads (no aws-chunked checksum body): what the fake writes needs no integrity trailer.
        self._aws = AdminClients(region, config=Config(request_checksum_calculation="when_required"))
        self._restoring: set[str] = set()  # names being registered by a restore: pending, not available
        self._timers: list[threading.Timer] = []

    def fail_next_export(self, message: str = "Failed: the image has a product code and cannot be exported") -> None:
        self._failures["export"].append(message)

    def fail_next_store(self, reason: str = "InternalError: the snapshot could not be read") -> None:
        self._failures["store"].append(reason)

    def fail_next_restore(self, reason: str = "Server.InternalError: the stored image could not be restored") -> None:
        self._failures["restore"].append(reason)

    def clear_injections(self) -> None:
        for failures in self._failures.values():
            failures.clear()

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def install(self, fakes: FakeAws) -> Ec2ImagesFake:
        self._aws.prepare("ec2", "s3", "iam")
        fakes.serve("ec2", {
            "ExportImage": self._export, "DescribeExportImageTasks": self._describe_exports,
            "CancelExportTask": self._cancel_export, "CreateStoreImageTask": self._store,
            "DescribeStoreImageTasks": self._describe_stores, "CreateRestoreImageTask": self._restore,
            "EnableImageDeprecation": self._enable_deprecation, "DisableImageDeprecation": self._disable_deprecation,
        })
        fakes.amend("ec2", "RegisterImage", self._registered)
        fakes.amend("ec2", "CreateImage", lambda _p, output: self._ami_event(output["ImageId"], "available"))
        fakes.amend("ec2", "CopyImage", lambda _p, output: self._ami_event(output["ImageId"], "available"))
        fakes.amend("ec2", "DescribeImages", self._image_view)
        fakes.amend("ec2", "DescribeSnapshots", self._snapshot_view)
        fakes.guard("ec2", "CreateTags", self._require_taggable)
        return self

    def export_task_tags(self, task_id: str) -> dict[str, str] | None:
        """The tags of an export task (for the endpoint's ec2:ResourceTag checks); None if not ours."""
        task = self.exports.get(task_id)
        return None if task is None else {t["Key"]: t.get("Value", "") for t in task.meta.get("Tags", [])}

    # ---- export
    def _export(self, p: dict[str, Any]) -> dict[str, Any]:
        token = p.get("ClientToken")
        if token and token in self._tokens:  # idempotent like AWS: the same token, the same task
            return self._export_view(self.exports[self._tokens[token]])
        if p["DiskImageFormat"] not in FORMATS:
            raise FakeError("InvalidParameterValue", f"Value ({p['DiskImageFormat']}) for parameter diskImageFormat is invalid. "
                            f"Valid values: {' | '.join(FORMATS)}")
        image = self._image(p["ImageId"])
        self._require_exportable(image)
        role = p.get("RoleName") or "vmimport"
        try:
            self._aws("iam").get_role(RoleName=role)
        except ClientError:
            raise FakeError("InvalidParameter", f"The service role {role} does not exist or does not have "
                            "sufficient permissions for the service to continue") from None
        location = p["S3ExportLocation"]
        require_bucket(self._aws("s3"), location["S3Bucket"], self.region, sse_kms_refused=True)
        task_id = f"export-ami-{uuid.uuid4().hex[:17]}"
        key = f"{location.get('S3Prefix', '')}{task_id}.{p['DiskImageFormat'].lower()}"
        tags = next((s["Tags"] for s in p.get("TagSpecifications", []) if s["ResourceType"] == "export-image-task"), [])
        failure = self._failures["export"].pop(0) if self._failures["export"] else None
        meta = {"DiskImageFormat": p["DiskImageFormat"], "RoleName": role, "Tags": tags}
        self.exports[task_id] = _Task(task_id, p["ImageId"], location["S3Bucket"], key, self.scale.now(), failure, "active", meta)
        if token:
            self._tokens[token] = task_id
        return self._export_view(self.exports[task_id])

    def _require_exportable(self, image: dict[str, Any]) -> None:
        ami_id = image["ImageId"]
        if image.get("OwnerId") != self._account_id():
            raise FakeError("NotExportable", f"The image {ami_id} is owned by account {image.get('OwnerId')}: "
                            "an image shared from another account cannot be exported")
        if image.get("Platform") == "windows" or image.get("ProductCodes"):
            raise FakeError("NotExportable", f"The image {ami_id} contains third-party software provided by AWS "
                            "(Windows or an AWS Marketplace product code) and cannot be exported")
        encrypted = [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if m.get("Ebs", {}).get("Encrypted")]
        if encrypted:
            raise FakeError("NotExportable", f"The image {ami_id} has encrypted EBS snapshots in its block device "
                            f"mapping ({', '.join(encrypted)}); an image with encrypted snapshots cannot be exported")
        if image.get("State") != "available":
            raise FakeError("IncorrectState", f"The image {ami_id} is {image.get('State')}, not available")

    def _describe_exports(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = p.get("ExportImageTaskIds") or list(self.exports)
        return {"ExportImageTasks": [self._export_view(self._advance(self.exports[i], self.export_minutes, "deleted", "completed"))
                                     for i in ids if i in self.exports]}

    def _export_view(self, task: _Task) -> dict[str, Any]:
        prefix = task.key.rsplit("/", 1)[0] + "/" if "/" in task.key else ""
        view = {"ExportImageTaskId": task.task_id, "ImageId": task.ami_id, "Status": task.status,
                "S3ExportLocation": {"S3Bucket": task.bucket, "S3Prefix": prefix}, "Tags": task.meta["Tags"],
                "DiskImageFormat": task.meta["DiskImageFormat"], "RoleName": task.meta["RoleName"],
                "Progress": str(self._progress(task, self.export_minutes)), "StatusMessage": "updating"}
        if task.status != "active":
            view["StatusMessage"] = task.failure or "cancelled" if task.status == "deleted" else ""
        return view

    def _cancel_export(self, p: dict[str, Any]) -> dict[str, Any]:
        task = self.exports.get(p["ExportTaskId"])
        if task is None:
            raise FakeError("InvalidExportTaskID.NotFound", f"{p['ExportTaskId']} does not exist")
        if task.status != "active":
            raise FakeError("IncorrectState", f"export task is {task.status}")
        task.status, task.failure = "deleted", "cancelled"
        return {}

    # ---- store
    def _store(self, p: dict[str, Any]) -> dict[str, Any]:
        image = self._image(p["ImageId"])
        if image.get("State") != "available":
            raise FakeError("IncorrectState", f"The image {p['ImageId']} is {image.get('State')}, not available")
        require_bucket(self._aws("s3"), p["Bucket"], self.region, sse_kms_refused=False)
        key = f"{p['ImageId']}.bin"  # "the same ID as the AMI, but with a .bin extension"
        failure = self._failures["store"].pop(0) if self._failures["store"] else None
        meta = {"image": {k: image.get(k) for k in ("ImageId", "Name", "Description", "Architecture", "RootDeviceName",
                                                    "OwnerId", "CreationDate")},
                "volumes": [{"DeviceName": m["DeviceName"], "VolumeSize": m["Ebs"].get("VolumeSize", 8)}
                            for m in image.get("BlockDeviceMappings", []) if "Ebs" in m],
                "tags": p.get("S3ObjectTags", []), "started_at": datetime.now(UTC)}
        task = _Task(key, p["ImageId"], p["Bucket"], key, self.scale.now(), failure, "InProgress", meta)
        self.stores.setdefault(p["ImageId"], []).insert(0, task)
        return {"ObjectKey": key}

    def _describe_stores(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = p.get("ImageIds") or list(self.stores)
        tasks = [self._advance(t, self.store_minutes, "Failed", "Completed") for i in ids for t in self.stores.get(i, [])]
        return {"StoreImageTaskResults": [
            {"AmiId": t.ami_id, "Bucket": t.bucket, "S3objectKey": t.key, "StoreTaskState": t.status,
             "TaskStartTime": t.meta["started_at"], "ProgressPercentage": self._progress(t, self.store_minutes),
             **({"StoreTaskFailureReason": t.failure} if t.status == "Failed" else {})}
            for t in tasks]}

    def _write_stored(self, task: _Task) -> None:
        image = task.meta["image"]
        body = json.dumps({"StoredImage": image, "Volumes": task.meta["volumes"]}, default=str)
        metadata = {"ami-name": image.get("Name") or "", "ami-owner-account": image.get("OwnerId") or "",
                    "ami-store-timestamp": datetime.now(UTC).isoformat()}
        self._aws("s3").put_object(Bucket=task.bucket, Key=task.key, Body=body.encode(), Metadata=metadata,
                                   Tagging=urlencode({t["Key"]: t["Value"] for t in task.meta["tags"]}))

    # ---- restore
    def _restore(self, p: dict[str, Any]) -> dict[str, Any]:
        stored = self._stored(p["Bucket"], p["ObjectKey"])
        image = stored["StoredImage"]
        name = p.get("Name") or image.get("Name")  # "If you do not provide a name ... the same name as the original"
        ec2 = self._aws("ec2")
        clash = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])["Images"]
        if clash:
            raise FakeError("InvalidAMIName.Duplicate", f"AMI name {name} is already in use by AMI {clash[0]['ImageId']}")
        self._restoring.add(name)
        try:
            ami_id = ec2.register_image(
                Name=name, Description=image.get("Description") or "", Architecture=image.get("Architecture") or "x86_64",
                RootDeviceName=image.get("RootDeviceName") or "/dev/xvda",
                BlockDeviceMappings=[{"DeviceName": v["DeviceName"], "Ebs": {"VolumeSize": v["VolumeSize"]}} for v in stored["Volumes"]],
            )["ImageId"]
        finally:
            self._restoring.discard(name)
        snapshots = self._snapshots_of(ami_id)
        if ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]:
            self.encrypted.update({s: DEFAULT_EBS_KEY for s in snapshots})  # EBS direct APIs cannot write unencrypted
        for spec in p.get("TagSpecifications", []):
            targets = {"image": [ami_id], "snapshot": snapshots}.get(spec["ResourceType"], [])
            if targets and spec.get("Tags"):
                ec2.create_tags(Resources=targets, Tags=spec["Tags"])
        failure = self._failures["restore"].pop(0) if self._failures["restore"] else None
        self.restores[ami_id] = _Restore(snapshots, self.scale.now(), failure)
        timer = threading.Timer(self.scale.seconds(self.restore_minutes * 60), self._settle, args=(ami_id,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()
        return {"ImageId": ami_id}

    def _stored(self, bucket: str, key: str) -> dict[str, Any]:
        try:
            stored = json.loads(self._aws("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
            assert "StoredImage" in stored
            return stored
        except (ClientError, ValueError, AssertionError):
            raise FakeError("InvalidParameterValue", f"s3://{bucket}/{key} is not an AMI object stored by "
                            "CreateStoreImageTask (or does not exist)") from None

    def _advance_restore(self, restore: _Restore) -> _Restore:
        if restore.state == "pending" and self.scale.elapsed(restore.started) >= self.restore_minutes * 60:
            self._settle(next(ami for ami, r in self.restores.items() if r is restore))
        return restore

    def _settle(self, ami_id: str) -> None:
        """The restore ends (its timer, or a describe after its duration): the AMI state and its one event."""
        restore = self.restores[ami_id]
        with self._lock:
            if restore.state != "pending":
                return
            restore.state, restore.settled = ("failed" if restore.failure else "available"), self.scale.now()
        self._ami_event(ami_id, restore.state, restore.failure or "")

    def _ami_event(self, ami_id: str, state: str, message: str = "") -> None:
        self.emit(aws_event(
            source="aws.ec2", detail_type="EC2 AMI State Change", account=self._account_id(), region=self.region,
            resources=[f"arn:aws:ec2:{self.region}::image/{ami_id}"],
            detail={"RequestId": str(uuid.uuid4()), "ImageId": ami_id, "State": state, "ErrorMessage": message},
        ))

    # ---- what moto leaves out of images and snapshots
    def _registered(self, p: dict[str, Any], parsed: dict[str, Any]) -> None:
        self._remember_encryption(p, parsed)
        if p.get("Name") not in self._restoring:
            self._ami_event(parsed["ImageId"], "available")

    def _remember_encryption(self, p: dict[str, Any], parsed: dict[str, Any]) -> None:
        requested = [m["Ebs"] for m in p.get("BlockDeviceMappings", []) if "Ebs" in m]
        keys = [e.get("KmsKeyId") or self._snapshot_key(e.get("SnapshotId")) or DEFAULT_EBS_KEY
                for e in requested if e.get("Encrypted") or self._snapshot_key(e.get("SnapshotId"))]
        if keys:  # moto gives every AMI one root snapshot of its own: that one is the encrypted one
            self.encrypted.update({s: keys[0] for s in self._snapshots_of(parsed["ImageId"])})

    def _snapshot_key(self, snapshot_id: str | None) -> str | None:
        if not snapshot_id:
            return None
        if snapshot_id in self.encrypted:
            return self.encrypted[snapshot_id]
        snapshot = self._aws("ec2").describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
        return snapshot.get("KmsKeyId") or DEFAULT_EBS_KEY if snapshot.get("Encrypted") else None

    def _image_view(self, _params: dict[str, Any], parsed: dict[str, Any]) -> None:
        for image in parsed.get("Images", []):
            ami_id = image.get("ImageId")
            if ami_id in self.deprecations:
                image["DeprecationTime"] = self.deprecations[ami_id]
            for mapping in image.get("BlockDeviceMappings", []):
                ebs = mapping.get("Ebs")
                if ebs is not None:
                    ebs["Encrypted"] = ebs.get("SnapshotId") in self.encrypted
                    if ebs["Encrypted"]:
                        ebs["KmsKeyId"] = self.encrypted[ebs["SnapshotId"]]
            if ami_id in self.restores:
                restore = self._advance_restore(self.restores[ami_id])
                image["State"] = restore.state
                if restore.state == "failed":
                    image["StateReason"] = {"Code": "Server.InternalError", "Message": restore.failure}

    def _snapshot_view(self, _params: dict[str, Any], parsed: dict[str, Any]) -> None:
        states = {"pending": "pending", "available": "completed", "failed": "error"}
        for snapshot in parsed.get("Snapshots", []):
            snapshot_id = snapshot["SnapshotId"]
            if snapshot_id in self.encrypted:
                snapshot["Encrypted"], snapshot["KmsKeyId"] = True, self.encrypted[snapshot_id]
            restore = next((r for r in self.restores.values() if snapshot_id in r.snapshots), None)
            if restore is not None:
                snapshot["State"] = states[self._advance_restore(restore).state]
                snapshot["Progress"] = "100%" if snapshot["State"] == "completed" else "50%"

    def _require_taggable(self, p: dict[str, Any]) -> None:
        ec2 = self._aws("ec2")
        for resource in p.get("Resources", []):
            if resource.startswith("ami-") and not ec2.describe_images(ImageIds=[resource])["Images"]:
                raise FakeError("InvalidAMIID.NotFound", f"The image id '[{resource}]' does not exist")
            if resource.startswith("snap-"):
                try:
                    ec2.describe_snapshots(SnapshotIds=[resource])
                except ClientError:
                    raise FakeError("InvalidSnapshot.NotFound", f"The snapshot '{resource}' does not exist.") from None

    # ---- deprecation
    def _enable_deprecation(self, p: dict[str, Any]) -> dict[str, Any]:
        self._image(p["ImageId"])
        when = p["DeprecateAt"]
        self.deprecations[p["ImageId"]] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z") if isinstance(when, datetime) else str(when)
        return {"Return": True}

    def _disable_deprecation(self, p: dict[str, Any]) -> dict[str, Any]:
        self.deprecations.pop(p["ImageId"], None)
        return {"Return": True}

    # ---- shared
    def _progress(self, task: _Task, minutes: float) -> int:
        if task.status in ("completed", "Completed"):
            return 100
        return min(99, int(100 * self.scale.elapsed(task.started) / (minutes * 60)))

    def _advance(self, task: _Task, minutes: float, failed: str, done: str) -> _Task:
        """Move a running task to its end state once its simulated duration has passed."""
        with self._lock:
            running = task.status in ("active", "InProgress")
            if running and self.scale.elapsed(task.started) >= minutes * 60:
                if task.failure:
                    task.status = failed
                    return task
                if task.status == "InProgress":
                    self._write_stored(task)
                else:
                    self._aws("s3").put_object(Bucket=task.bucket, Key=task.key,
                                               Body=f"local disk image of {task.ami_id}\n".encode())
                task.status = done
        return task

    def _account_id(self) -> str:
        if self._account is None:
            self._account = self._aws("sts").get_caller_identity()["Account"]
        return self._account

    def _image(self, ami_id: str) -> dict[str, Any]:
        images = self._aws("ec2").describe_images(ImageIds=[ami_id])["Images"]
        if not images:
            raise FakeError("InvalidAMIID.NotFound", f"The image id '[{ami_id}]' does not exist")
        return images[0]

    def _snapshots_of(self, ami_id: str) -> list[str]:
        image = self._aws("ec2").describe_images(ImageIds=[ami_id])["Images"][0]
        return [m["Ebs"]["SnapshotId"] for m in image.get("BlockDeviceMappings", []) if m.get("Ebs", {}).get("SnapshotId")]
