"""Mark-for-production steps: back the approved AMI up to S3 with a store-image task (a backoff wait
guided by the task's progress figure: AWS emits no event for store tasks)."""

from __future__ import annotations

from typing import Any

from lambdas.adapters import image_export_gateway as exports
from lambdas.domain.contracts import MarkForProductionOutputs
from lambdas.steps import backoff
from lambdas.steps.common import Step, step_handler, verdict
from lambdas.steps.errors import StoreTaskFailed
from lambdas.steps.mark_for_production.inputs import BackupStatusInput, StartBackupInput


def start_store(event: StartBackupInput) -> dict[str, Any]:
    tags = {
        "AMI_LC_LIFECYCLE_ID": event.lifecycle_id,
        "CommitRef": event.commit_ref,
        "ProductName": event.product_name,
        "ProductVer": event.product_ver,
    }
    return {"object_key": exports.store_image(ami_id=event.ami_id, bucket=event.backup_bucket, tags=tags)}


def store_status(event: BackupStatusInput) -> dict[str, Any]:
    ami_id, bucket, key = event.ami_id, event.backup_bucket, event.object_key
    task = exports.store_task(ami_id)
    if task["state"] == "Failed":
        raise StoreTaskFailed(f"store task of {ami_id} failed: {task['reason'] or 'no reason given'}")
    if task["state"] != "Completed":
        return backoff.poll(event, False, f"store task of {ami_id}", progress=task["progress"])
    outputs = MarkForProductionOutputs(backup_s3_uri=f"s3://{bucket}/{key}", store_task_id=key)
    return backoff.poll(event, True, f"store task of {ami_id}", **verdict("COMPLETED", outputs.model_dump(mode="json")))


STEPS: dict[str, Step] = {"start_store": start_store, "store_status": store_status}
lambda_handler = step_handler(STEPS)
