"""QA certification request steps: export the AMI as a disk image and tell QA how to fetch and certify it.

VM Import/Export cannot export an image with encrypted EBS snapshots, and the released AMI is encrypted.
The documented route: store the AMI in S3 (the store task decrypts as it stores), restore a temporary
unencrypted copy from that object, export the copy, then delete the copy, its snapshots and the object.
The store and the export are backoff waits guided by AWS's progress figure; the restored copy is an
event wait ("EC2 AMI State Change", callbacks function).
"""

from __future__ import annotations

import re
from typing import Any

from lambdas.adapters import image_export_gateway as exports
from lambdas.adapters import temporary_images as temporary
from lambdas.domain.contracts import QaRequestOutputs
from lambdas.domain.notifications import qa_request_lines
from lambdas.steps import backoff
from lambdas.steps.common import Step, step_handler, verdict
from lambdas.steps.errors import CleanupPending, ExportFailed, StoreTaskFailed
from lambdas.steps.qa_certification_request.inputs import (
    CleanupInput,
    ExportStatusInput,
    StartExportInput,
    StartRestoreInput,
    StartStoreInput,
    StoreStatusInput,
)

_AMI_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9()\[\] ./'@_-]")  # characters an AMI name may not contain


def _tags(lifecycle_id: str, deployment_tag: str, execution_name: str | None = None) -> dict[str, str]:
    tags = {"AMI_LC_LIFECYCLE_ID": lifecycle_id, "AMI_LC_DEPLOYMENT": deployment_tag}
    if execution_name:
        tags[temporary.EXECUTION_TAG] = execution_name
    return tags


def restored_name(deployment_tag: str, execution_name: str) -> str:
    """Unique per region and account (restored AMI names must be): one per execution, never reused."""
    return _AMI_NAME_UNSAFE.sub("-", f"ami-lc-{deployment_tag}-qa-export-{execution_name}")[:128]


def check_encryption_by_default(region: str) -> dict[str, Any]:
    if not exports.encryption_by_default():
        return {"blocked": False}
    reason = (
        f"EBS encryption by default is enabled in {region}; the QA export needs an unencrypted copy of the AMI "
        "(VM Import/Export cannot export encrypted snapshots), and a copy restored in this Region would be "
        f"encrypted again. Nothing was created; retry QA_CERTIFICATION_REQUEST once it is disabled in {region}."
    )
    return {"blocked": True, "verdict": verdict("FAILED", {}, reason)}


def start_store(event: StartStoreInput) -> dict[str, Any]:
    """The preflight, then the store: nothing is created when a copy could not be unencrypted."""
    preflight = check_encryption_by_default(event.region)
    if preflight["blocked"]:
        return preflight
    bucket, tags = event.staging_bucket, _tags(event.lifecycle_id, event.deployment_tag)
    key = exports.store_image(ami_id=event.ami_id, bucket=bucket, tags={**tags, **temporary.TEMPORARY_TAGS})
    return {"blocked": False, "bucket": bucket, "object_key": key}


def store_status(event: StoreStatusInput) -> dict[str, Any]:
    ami_id = event.ami_id
    task = exports.store_task(ami_id, bucket=event.staging_bucket)
    if task["state"] == "Failed":
        raise StoreTaskFailed(f"store task of {ami_id} failed: {task['reason'] or 'no reason given'}")
    return backoff.poll(event, task["state"] == "Completed", f"store task of {ami_id}", progress=task["progress"])


def start_restore(event: StartRestoreInput) -> dict[str, Any]:
    name = restored_name(event.deployment_tag, event.execution_name)
    tags = _tags(event.lifecycle_id, event.deployment_tag, event.execution_name)
    image_id = temporary.restore_image(bucket=event.staging_bucket, key=event.object_key, name=name, tags=tags)
    return {"image_id": image_id, "name": name}


def start_export(event: StartExportInput) -> dict[str, Any]:
    task_id = exports.export_image(
        ami_id=event.restored_ami_id,
        disk_format=event.disk_format,
        bucket=event.export_bucket,
        prefix=f"exports/{event.lifecycle_id}/{event.ami_id}/",  # named after the released AMI QA certifies
        role_name=event.role_name,
        token=event.execution_name,
        tags=_tags(event.lifecycle_id, event.deployment_tag),
    )
    return {"export_task_id": task_id}


def export_status(event: ExportStatusInput) -> dict[str, Any]:
    """One check of the export; once completed, the verdict (its fields beside the poll's) and the QA
    team's notice."""
    task_id = event.export_task_id
    task = exports.export_task(task_id)
    if task["status"] in ("deleting", "deleted") or task["message"].lower().startswith("fail"):
        raise ExportFailed(f"export {task_id} {task['status']}: {task['message'] or 'no message'}")
    if task["status"] != "completed":
        return backoff.poll(event, False, f"export {task_id}", progress=task["progress"])
    uri = f"s3://{task['s3_bucket']}/{task['s3_prefix']}{task_id}.{event.disk_format.lower()}"
    outputs = QaRequestOutputs(
        export_task_id=task_id, export_s3_uri=uri, disk_image_format=event.disk_format,
        exported_ami_id=event.restored_ami_id,
    )
    return backoff.poll(event, True, f"export {task_id}", **verdict("COMPLETED", outputs.model_dump(mode="json")),
                        qa=qa_message(event, uri))


def qa_message(event: ExportStatusInput, export_s3_uri: str) -> dict[str, str]:
    """The QA notification: how to get a fresh short-lived link and how to certify. Never a URL or key."""
    ami_id, product, semver = event.ami_id, event.product_name, event.semver
    message = "\n".join(
        [
            f"AMI {ami_id} ({product} {semver}) of lifecycle {event.lifecycle_id} is ready for QA certification.",
            f"It was exported as a {event.disk_format} disk image to {export_s3_uri}.",
            "",
            *qa_request_lines(event.lifecycle_id, event.stack_tag),
        ]
    )
    return {"subject": f"QA certification requested: {product} {semver} ({ami_id})"[:99], "message": message}


def cleanup(event: CleanupInput) -> dict[str, Any]:
    """Every path: whatever this execution created goes, whatever was recorded (ids are None when a step
    failed after AWS acted). Idempotent, so the state machine may retry it."""
    ami_id, bucket, execution_name = event.ami_id, event.staging_bucket, event.execution_name
    task_id, restored = event.export_task_id, event.restored_ami_id
    if task_id and exports.export_task(task_id)["status"] == "active":
        exports.cancel_export(task_id)  # it would read the copy deleted below
    name = restored_name(event.deployment_tag, execution_name)
    image = temporary.image(restored) if restored else temporary.find_image(name)
    if image is not None and image["state"] == "pending":
        raise CleanupPending(f"the restored AMI {image['image_id']} is still being written")
    snapshots = set(temporary.run_snapshots(execution_name))
    if image is not None:
        snapshots |= set(image["snapshots"])
        if image["state"] != "deregistered":
            temporary.deregister(image)
    temporary.delete_snapshots(sorted(snapshots))
    if exports.store_task(ami_id, bucket=bucket)["state"] == "InProgress":
        raise CleanupPending(f"the store task of {ami_id} is still writing its object")  # it would appear later
    temporary.delete_object(bucket, f"{ami_id}.bin")  # the store task's fixed key
    return {
        "deregistered": image["image_id"] if image else None,
        "deleted_snapshots": sorted(snapshots),
        "deleted_object": f"s3://{bucket}/{ami_id}.bin",
    }


STEPS: dict[str, Step] = {
    "start_store": start_store,
    "store_status": store_status,
    "start_restore": start_restore,
    "start_export": start_export,
    "export_status": export_status,
    "cleanup": cleanup,
}
lambda_handler = step_handler(STEPS)
