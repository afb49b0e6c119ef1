"""Drive a lifecycle the way the workflows would: read the execution's input, send its result."""

from __future__ import annotations

from typing import Any

from lambdas.domain.events import WORKFLOW_OF_EVENT, EventName
from tests.support.aws import EXPORT_BUCKET, Deployment, execution_input, make_ami
from tests.support.calls import call_api, call_receiver

STATUS_DATE = "2026-11-23T10:00:00.000Z"
PATCH_COMPONENT = "patches/openssl.yml"


def create_body(stack_tag: str = "main", product: str = "My Product Name", events: tuple[str, ...] = (
    "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST",
)) -> dict[str, Any]:
    return {
        "stack_tag": stack_tag,
        "owner": "ownername",
        "product_name": product,
        "product_ver": "1.0.0",
        "commit_ref": "0123abc",
        "notifications": [{"method": "EMAIL", "target": "user@domain.com"}],
        "events": [{"name": name, "enabled": True} for name in events],
    }


def outputs_for(event: EventName) -> dict[str, Any]:
    if event in (EventName.BUILD_AMI, EventName.PATCH_AMI):
        return {
            "ami": {"ami_id": make_ami(event.value.lower()), "region": "us-east-1", "name": "golden"},
            "image_builder": {
                "image_arn": "arn:aws:imagebuilder:us-east-1:123456789012:image/golden/1.0.0/1",
                "components": ["hardening", "agents"],
            },
        }
    if event.name.startswith("SMOKE"):
        return {"instance_id": "i-0123456789abcdef0", "checks": [{"name": "root-login", "passed": True}]}
    if event.name.startswith("VULNERABILITY"):
        return {"findings": {"CRITICAL": 0, "HIGH": 1}, "report_s3_uri": "s3://reports/r.json", "gate_passed": True}
    if event is EventName.QA_CERTIFICATION_REQUEST:
        return {"export_task_id": "export-ami-0123", "export_s3_uri": f"s3://{EXPORT_BUCKET}/exports/x.vmdk"}
    return {"backup_s3_uri": "s3://backups/ami.bin", "store_task_id": "st-1"}


def result_message(
    deployment: Deployment, execution_name: str, event: EventName, *, status: str = "COMPLETED",
    outputs: dict[str, Any] | None = None, reason: str | None = None,
) -> dict[str, Any]:
    workflow_input = execution_input(deployment, WORKFLOW_OF_EVENT[event], execution_name)
    message: dict[str, Any] = {
        "workflow_input": workflow_input,
        "status": status,
        "status_date": STATUS_DATE,
        "outputs": outputs_for(event) if outputs is None else outputs,
    }
    if reason:
        message["reason"] = reason
    return message


def status(lifecycle_id: str, kind: str = "ami-creation") -> dict[str, Any]:
    response = call_api("GET", f"/{kind}/lifecycles/{lifecycle_id}/status")
    assert response.status == 200, response.text
    body = response.json()
    return body if kind == "ami-creation" else body["patch"]


def in_progress(record: dict[str, Any]) -> dict[str, Any] | None:
    return next((event for event in record["events"] if event["status"] == "IN_PROGRESS"), None)


def complete_current(deployment: Deployment, lifecycle_id: str, kind: str = "ami-creation", **kwargs: Any) -> str:
    """Send the result of the event in progress; returns the event name."""
    record = status(lifecycle_id, kind)
    running = in_progress(record)
    assert running is not None, f"nothing in progress: {[(e['name'], e['status']) for e in record['events']]}"
    event = EventName(running["name"])
    receiver = "creation" if kind == "ami-creation" else "patch"
    response = call_receiver(receiver, result_message(deployment, running["execution_name"], event, **kwargs))
    assert response == {"batchItemFailures": []}, response
    return event.value


def create(deployment: Deployment, **kwargs: Any) -> str:
    response = call_api("POST", "/ami-creation/lifecycles", body=create_body(**kwargs))
    assert response.status == 201, response.text
    return response.json()["lifecycle_id"]


def certify(lifecycle_id: str, verdict: str = "CERTIFIED", stack_tag: str = "main") -> None:
    response = call_api(
        "POST", f"/ami-creation/lifecycles/{lifecycle_id}/certify", role="qa",
        body={"lifecycle_id": lifecycle_id, "stack_tag": stack_tag, "certification_status": verdict},
    )
    assert response.status == 200, response.text


def approve(lifecycle_id: str, verdict: str = "APPROVED", kind: str = "ami-creation", stack_tag: str = "main") -> None:
    response = call_api(
        "POST", f"/{kind}/lifecycles/{lifecycle_id}/approve", role="approver",
        body={"lifecycle_id": lifecycle_id, "stack_tag": stack_tag, "approval_status": verdict, "approver": "ana@example.com"},
    )
    assert response.status == 200, response.text


def production_lifecycle(deployment: Deployment, **kwargs: Any) -> str:
    """A creation lifecycle taken all the way to a production-approved AMI."""
    lifecycle_id = create(deployment, **kwargs)
    for _ in range(4):
        complete_current(deployment, lifecycle_id)
    certify(lifecycle_id)
    approve(lifecycle_id)
    complete_current(deployment, lifecycle_id)
    return lifecycle_id


def upload_patch_component(deployment: Deployment, key: str = PATCH_COMPONENT) -> str:
    import boto3

    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=deployment.patch_bucket, Key=key, Body=b"name: openssl\nschemaVersion: 1.0\nphases: []\n"
    )
    return f"s3://{deployment.patch_bucket}/{key}"


def patch_body(lifecycle_id: str, component_url: str, bump: str = "MINOR", stack_tag: str = "main") -> dict[str, Any]:
    return {
        "lifecycle_id": lifecycle_id,
        "stack_tag": stack_tag,
        "owner": "ownername",
        "notifications": [{"method": "EMAIL", "target": "user@domain.com"}],
        "events": [{"name": name, "enabled": True} for name in
                   ("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH")],
        "patch_component_url": component_url,
        "patch_change_description": "openssl security update",
        "semver_bump_type": bump,
    }
