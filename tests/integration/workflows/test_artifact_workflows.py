"""QA_CERTIFICATION_REQUEST and MARK_FOR_PRODUCTION_* on the real definitions."""

from __future__ import annotations

import json

import boto3

from lambdas.domain.contracts import MarkForProductionOutputs, QaRequestOutputs
from tests.integration.workflows.conftest import Deployment
from tests.integration.workflows.helpers import one_error, one_result, register_ami, workflow_input


def _object_exists(uri: str) -> bool:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bool(boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read())


def test_qa_request_exports_the_ami_and_tells_qa_how_to_fetch_it(deployment: Deployment) -> None:
    ami_id = register_ami()

    deployment.run("qa-certification-request", workflow_input("QA_CERTIFICATION_REQUEST", ami_id=ami_id))

    result = one_result(deployment.messages("creation"))
    assert result.status == "COMPLETED", result.reason
    outputs = result.typed_outputs()
    assert isinstance(outputs, QaRequestOutputs) and _object_exists(outputs.export_s3_uri)
    notices = deployment.cloud.drain(deployment.qa_inbox)
    assert len(notices) == 1
    attributes = {k: v["Value"] for k, v in notices[0]["MessageAttributes"].items()}
    assert attributes == {"audience": "qa", "lifecycle_id": "lc-0123456789abcdef", "stack_tag": "main",
                          "event": "QA_CERTIFICATION_REQUEST", "status": "COMPLETED", "severity": "INFO"}
    message = notices[0]["Message"]
    assert "/ami-creation/lifecycles/lc-0123456789abcdef/export-link" in message
    assert "AMI_QA_CERTIFICATION" in message and ami_id in message
    assert "https://" not in message and "X-Amz-" not in message  # never a long-lived link


def test_failed_export_is_reported_as_error(deployment: Deployment) -> None:
    deployment.cloud.ec2_images.fail_next_export("Failed: the AMI has a marketplace product code")

    execution = deployment.run("qa-certification-request", workflow_input("QA_CERTIFICATION_REQUEST", ami_id=register_ami()))

    assert execution["status"] == "FAILED"
    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "ExportFailed"
    assert "product code" in json.dumps(error.error)
    assert deployment.messages("creation") == [] and deployment.cloud.drain(deployment.qa_inbox) == []


def test_mark_for_production_backs_the_patched_ami_up(deployment: Deployment) -> None:
    payload = workflow_input("MARK_FOR_PRODUCTION_PATCH", "ami-patch", ami_id=register_ami(), patch_number=1, approver="ops")

    deployment.run("mark-for-production", payload)

    result = one_result(deployment.messages("patch"))
    assert result.status == "COMPLETED", result.reason
    outputs = result.typed_outputs()
    assert isinstance(outputs, MarkForProductionOutputs) and _object_exists(outputs.backup_s3_uri)


def test_failed_backup_is_reported_as_error(deployment: Deployment) -> None:
    deployment.cloud.ec2_images.fail_next_store()

    deployment.run("mark-for-production", workflow_input("MARK_FOR_PRODUCTION_CREATE", ami_id=register_ami(), approver="ops"))

    assert one_error(deployment.messages("error")).error["Error"] == "StoreTaskFailed"
    assert deployment.messages("creation") == []
