"""EC2 image operations moto lacks, faked: VM export, store-image (S3 backup) and image deprecation.

Export and store tasks finish after a simulated duration; on success they write the artifact object
into moto's S3, so what a workflow reports can be fetched. `fail_next_export` / `fail_next_store`
make the next task end deleted / Failed, as AWS reports it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from local.fakes.hooks import FakeAws, FakeError
from local.time_scale import TimeScale


@dataclass
class _Task:
    task_id: str
    ami_id: str
    bucket: str
    key: str
    started: float
    failure: str | None
    status: str = "active"


class Ec2ImagesFake:
    def __init__(self, *, scale: TimeScale, region: str, export_minutes: float = 20, store_minutes: float = 10) -> None:
        self.scale, self.region = scale, region
        self.export_minutes, self.store_minutes = export_minutes, store_minutes
        self.exports: dict[str, _Task] = {}
        self.stores: dict[str, _Task] = {}  # by AMI id, as DescribeStoreImageTasks reports them
        self.deprecations: dict[str, str] = {}
        self._export_failures: list[str] = []
        self._store_failures: list[str] = []
        self._lock = threading.Lock()

    def fail_next_export(self, message: str = "Failed: the image has a product code and cannot be exported") -> None:
        self._export_failures.append(message)

    def fail_next_store(self, reason: str = "InternalError: the snapshot could not be read") -> None:
        self._store_failures.append(reason)

    def clear_injections(self) -> None:
        self._export_failures.clear()
        self._store_failures.clear()

    def install(self, fakes: FakeAws) -> Ec2ImagesFake:
        fakes.serve(
            "ec2",
            {
                "ExportImage": self._export,
                "DescribeExportImageTasks": self._describe_exports,
                "CancelExportTask": self._cancel_export,
                "CreateStoreImageTask": self._store,
                "DescribeStoreImageTasks": self._describe_stores,
                "EnableImageDeprecation": self._enable_deprecation,
                "DisableImageDeprecation": self._disable_deprecation,
            },
        )
        fakes.amend("ec2", "DescribeImages", self._add_deprecation_times)
        return self

    # ---- export
    def _export(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_image(p["ImageId"])
        location = p["S3ExportLocation"]
        task_id = f"export-ami-{uuid.uuid4().hex[:17]}"
        key = f"{location.get('S3Prefix', '')}{task_id}.{p['DiskImageFormat'].lower()}"
        failure = self._export_failures.pop(0) if self._export_failures else None
        self.exports[task_id] = _Task(task_id, p["ImageId"], location["S3Bucket"], key, self.scale.now(), failure)
        return {"ExportImageTaskId": task_id, "ImageId": p["ImageId"], "Status": "active", "S3ExportLocation": location,
                "DiskImageFormat": p["DiskImageFormat"], "RoleName": p.get("RoleName", "vmimport")}

    def _describe_exports(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = p.get("ExportImageTaskIds") or list(self.exports)
        tasks = [self._advance(self.exports[i], self.export_minutes, failed="deleted", done="completed") for i in ids if i in self.exports]
        return {"ExportImageTasks": [self._export_view(t) for t in tasks]}

    def _export_view(self, task: _Task) -> dict[str, Any]:
        prefix = task.key.rsplit("/", 1)[0] + "/" if "/" in task.key else ""
        view = {"ExportImageTaskId": task.task_id, "ImageId": task.ami_id, "Status": task.status,
                "S3ExportLocation": {"S3Bucket": task.bucket, "S3Prefix": prefix},
                "Progress": "100" if task.status == "completed" else "40"}
        if task.status == "deleted":
            view["StatusMessage"] = task.failure or "cancelled"
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
        self._require_image(p["ImageId"])
        key = f"{p['ImageId']}.bin"
        failure = self._store_failures.pop(0) if self._store_failures else None
        self.stores[p["ImageId"]] = _Task(key, p["ImageId"], p["Bucket"], key, self.scale.now(), failure, "InProgress")
        return {"ObjectKey": key}

    def _describe_stores(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = p.get("ImageIds") or list(self.stores)
        tasks = [self._advance(self.stores[i], self.store_minutes, failed="Failed", done="Completed") for i in ids if i in self.stores]
        return {"StoreImageTaskResults": [
            {"AmiId": t.ami_id, "Bucket": t.bucket, "S3objectKey": t.key, "StoreTaskState": t.status,
             "ProgressPercentage": 100 if t.status == "Completed" else 50,
             **({"StoreTaskFailureReason": t.failure} if t.status == "Failed" else {})}
            for t in tasks]}

    # ---- deprecation
    def _enable_deprecation(self, p: dict[str, Any]) -> dict[str, Any]:
        self._require_image(p["ImageId"])
        when = p["DeprecateAt"]
        self.deprecations[p["ImageId"]] = when.strftime("%Y-%m-%dT%H:%M:%S.000Z") if isinstance(when, datetime) else str(when)
        return {"Return": True}

    def _disable_deprecation(self, p: dict[str, Any]) -> dict[str, Any]:
        self.deprecations.pop(p["ImageId"], None)
        return {"Return": True}

    def _add_deprecation_times(self, _params: dict[str, Any], parsed: dict[str, Any]) -> None:
        for image in parsed.get("Images", []):
            if image.get("ImageId") in self.deprecations:
                image["DeprecationTime"] = self.deprecations[image["ImageId"]]

    # ---- shared
    def _advance(self, task: _Task, minutes: float, *, failed: str, done: str) -> _Task:
        """Move a running task to its end state once its simulated duration has passed."""
        with self._lock:
            running = task.status in ("active", "InProgress")
            if running and self.scale.elapsed(task.started) >= minutes * 60:
                if task.failure:
                    task.status = failed
                else:
                    boto3.client("s3", region_name=self.region).put_object(
                        Bucket=task.bucket, Key=task.key, Body=f"local disk image of {task.ami_id}\n".encode()
                    )
                    task.status = done
        return task

    def _require_image(self, ami_id: str) -> None:
        images = boto3.client("ec2", region_name=self.region).describe_images(ImageIds=[ami_id])["Images"]
        if not images:
            raise FakeError("InvalidAMIID.NotFound", f"The image id '[{ami_id}]' does not exist")
