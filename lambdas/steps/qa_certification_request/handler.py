"""QA certification request steps: export the AMI as VMDK and tell QA how to fetch and certify it."""

from __future__ import annotations

from typing import Any

from lambdas.adapters import image_export_gateway as exports
from lambdas.domain.contracts import QaRequestOutputs
from lambdas.steps.common import poll_result, require, step_handler, verdict
from lambdas.steps.errors import ExportFailed


def start_export(event: dict[str, Any]) -> dict[str, Any]:
    ami_id, lifecycle_id, bucket, role, execution_name = require(
        event, "ami_id", "lifecycle_id", "export_bucket", "role_name", "execution_name"
    )
    prefix = f"exports/{lifecycle_id}/{ami_id}/"
    task_id = exports.export_image(
        ami_id=ami_id,
        disk_format=event.get("disk_format", "VMDK"),
        bucket=bucket,
        prefix=prefix,
        role_name=role,
        token=execution_name,
        tags={"AMI_LC_LIFECYCLE_ID": lifecycle_id, "AMI_LC_DEPLOYMENT": event.get("deployment_tag", "")},
    )
    return {"export_task_id": task_id}


def export_status(event: dict[str, Any]) -> dict[str, Any]:
    (task_id,) = require(event, "export_task_id")
    task = exports.export_task(task_id)
    if task["status"] in ("deleting", "deleted") or task["message"].lower().startswith("fail"):
        raise ExportFailed(f"export {task_id} {task['status']}: {task['message'] or 'no message'}")
    if task["status"] != "completed":
        return poll_result(event, False, f"export {task_id}")
    disk_format = event.get("disk_format", "VMDK")
    uri = f"s3://{task['s3_bucket']}/{task['s3_prefix']}{task_id}.{disk_format.lower()}"
    outputs = QaRequestOutputs(export_task_id=task_id, export_s3_uri=uri, disk_image_format=disk_format)
    outputs = outputs.model_dump(mode="json")
    return poll_result(event, True, f"export {task_id}", verdict=verdict("COMPLETED", outputs))


def qa_message(event: dict[str, Any]) -> dict[str, Any]:
    """The QA notification: how to get a fresh short-lived link and how to certify. Never a URL or key."""
    lifecycle_id, ami_id, product, semver, uri = require(
        event, "lifecycle_id", "ami_id", "product_name", "semver", "export_s3_uri"
    )
    message = "\n".join(
        [
            f"AMI {ami_id} ({product} {semver}) of lifecycle {lifecycle_id} is ready for QA certification.",
            f"It was exported as a {event.get('disk_format', 'VMDK')} disk image to {uri}.",
            "",
            "To download it, obtain a fresh short-lived download link from the orchestrator API with your QA key:",
            f"  GET /ami-creation/lifecycles/{lifecycle_id}/export-link   (header x-api-key: <your QA key>)",
            f"  or: api-cli --mode BATCH --operation AMI_QA_EXPORT_LINK --lifecycleId {lifecycle_id}",
            "",
            "To record the outcome:",
            f"  api-cli --mode BATCH --operation AMI_QA_CERTIFICATION --lifecycleId {lifecycle_id} "
            "--certificationStatus CERTIFIED|FAILED [--properties KEY::VALUE]",
        ]
    )
    return {"subject": f"QA certification requested: {product} {semver} ({ami_id})"[:99], "message": message}


def cancel_export(event: dict[str, Any]) -> dict[str, Any]:
    task_id = event.get("export_task_id")
    if task_id:
        exports.cancel_export(task_id)
    return {"cancelled": bool(task_id)}


lambda_handler = step_handler(
    {
        "start_export": start_export,
        "export_status": export_status,
        "qa_message": qa_message,
        "cancel_export": cancel_export,
    }
)
