"""QA_CERTIFICATION_REQUEST and MARK_FOR_PRODUCTION_* on the real definitions.

The released AMI is encrypted (as the recipe builds it), so the QA export goes the documented way:
store to S3, restore a temporary unencrypted copy, export the copy, delete the copy, its snapshots and
the stored object on every path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from lambdas.domain.contracts import MarkForProductionOutputs, QaRequestOutputs
from tests.integration.workflows.conftest import Deployment
from tests.integration.workflows.helpers import one_error, one_result, register_ami, workflow_input

QA = "qa-certification-request"


def _object_exists(uri: str) -> bool:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bool(boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read())


def _staging_bucket() -> str:
    (name,) = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"] if "exportstaging" in b["Name"]]
    return name


def _inventory() -> dict[str, Any]:
    """Every AMI and snapshot of the account, and what the staging bucket holds."""
    ec2, s3 = boto3.client("ec2", region_name="us-east-1"), boto3.client("s3", region_name="us-east-1")
    return {
        "images": sorted(i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]),
        "snapshots": sorted(s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]),
        "staged": [o["Key"] for o in s3.list_objects_v2(Bucket=_staging_bucket()).get("Contents", [])],
    }


def _image(ami_id: str) -> dict[str, Any]:
    return boto3.client("ec2", region_name="us-east-1").describe_images(ImageIds=[ami_id])["Images"][0]


@pytest.fixture
def released() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """An encrypted AMI, how it looked and what the account held before the run."""
    ami_id = register_ami()
    assert _image(ami_id)["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    yield ami_id, _image(ami_id), _inventory()


def _nothing_left_behind(released: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
    ami_id, image, inventory = released
    assert _inventory() == inventory  # no temporary AMI, snapshot or stored object
    assert _image(ami_id) == image  # the released AMI unchanged (still encrypted)


def test_qa_request_exports_an_unencrypted_copy_tells_qa_and_leaves_nothing_behind(
    deployment: Deployment, released: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    ami_id = released[0]

    deployment.run(QA, workflow_input("QA_CERTIFICATION_REQUEST", ami_id=ami_id), timeout=60)

    assert deployment.messages("error") == []
    result = one_result(deployment.messages("creation"))
    assert result.status == "COMPLETED", result.reason
    outputs = result.typed_outputs()
    assert isinstance(outputs, QaRequestOutputs) and _object_exists(outputs.export_s3_uri)
    assert outputs.exported_ami_id not in (None, ami_id)
    assert f"/exports/lc-0123456789abcdef/{ami_id}/" in outputs.export_s3_uri
    _nothing_left_behind(released)
    notices = deployment.cloud.drain(deployment.qa_inbox)
    assert len(notices) == 1
    attributes = {k: v["Value"] for k, v in notices[0]["MessageAttributes"].items()}
    assert attributes == {"audience": "qa", "lifecycle_id": "lc-0123456789abcdef", "stack_tag": "main",
                          "event": "QA_CERTIFICATION_REQUEST", "status": "COMPLETED", "severity": "INFO"}
    message = notices[0]["Message"]
    assert "/ami-creation/lifecycles/lc-0123456789abcdef/export-link" in message
    assert "AMI_QA_CERTIFICATION" in message and ami_id in message
    assert "https://" not in message and "X-Amz-" not in message  # never a long-lived link


@pytest.mark.parametrize(
    ("inject", "error_name", "detail"),
    [
        (lambda fake: fake.fail_next_export("Failed: the AMI has a marketplace product code"), "ExportFailed", "product code"),
        (lambda fake: fake.fail_next_store("InternalError: injected store failure"), "StoreTaskFailed", "injected store failure"),
        (lambda fake: fake.fail_next_restore("Server.InternalError: injected restore failure"), "RestoreFailed",
         "injected restore failure"),
    ],
    ids=["export", "store", "restore"],
)
def test_a_failed_task_is_reported_as_error_and_leaves_nothing_behind(
    deployment: Deployment, released: tuple[str, dict[str, Any], dict[str, Any]], inject: Any, error_name: str, detail: str
) -> None:
    inject(deployment.cloud.ec2_images)

    execution = deployment.run(QA, workflow_input("QA_CERTIFICATION_REQUEST", ami_id=released[0]), timeout=60)

    assert execution["status"] == "FAILED"
    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == error_name and detail in json.dumps(error.error)
    assert deployment.messages("creation") == [] and deployment.cloud.drain(deployment.qa_inbox) == []
    _nothing_left_behind(released)


def test_an_export_that_never_ends_is_bounded_cancelled_and_cleaned_up(
    deployment: Deployment, released: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    fake = deployment.cloud.ec2_images
    fake.export_minutes, minutes = 10_000, fake.export_minutes
    try:
        deployment.run(QA, workflow_input("QA_CERTIFICATION_REQUEST", ami_id=released[0]), timeout=180)
    finally:
        fake.export_minutes = minutes

    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "NotReadyInTime" and "not done after 4 h 0 min" in error.error["Cause"]
    last = list(fake.exports.values())[-1]
    assert (last.status, last.failure) == ("deleted", "cancelled")  # the cleanup cancelled it
    _nothing_left_behind(released)


def test_ebs_encryption_by_default_fails_the_event_at_once_with_its_reason(
    deployment: Deployment, released: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ec2.enable_ebs_encryption_by_default()
    try:
        deployment.run(QA, workflow_input("QA_CERTIFICATION_REQUEST", ami_id=released[0]))
    finally:
        ec2.disable_ebs_encryption_by_default()

    result = one_result(deployment.messages("creation"))
    assert result.status == "FAILED" and result.outputs == {}
    assert result.reason and result.reason.startswith("EBS encryption by default is enabled in us-east-1; the QA export "
                                                      "needs an unencrypted copy")
    assert ec2.describe_store_image_tasks(ImageIds=[released[0]])["StoreImageTaskResults"] == []  # nothing started
    assert deployment.cloud.drain(deployment.qa_inbox) == []
    _nothing_left_behind(released)


def test_the_qa_function_may_neither_export_nor_deregister_an_ami_that_is_not_its_temporary_copy(
    deployment: Deployment, released: tuple[str, dict[str, Any], dict[str, Any]]
) -> None:
    lambda_ = deployment.cloud.client("lambda")
    (steps, role) = [(f["FunctionName"], f["Role"]) for f in lambda_.list_functions()["Functions"]
                     if f["Handler"] == "lambdas.steps.qa_certification_request.handler.lambda_handler"][0]
    event = {"step": "start_export", "lifecycle_id": "lc-0123456789abcdef", "deployment_tag": deployment.tag,
             "execution_name": "probe", "ami_id": released[0], "restored_ami_id": released[0],
             "export_bucket": "any", "role_name": "any", "disk_format": "VMDK"}

    answer = lambda_.invoke(FunctionName=steps, Payload=json.dumps(event))

    error = json.loads(answer["Payload"].read())
    assert answer.get("FunctionError") and "UnauthorizedOperation" in error["errorMessage"], error
    assert "ec2:ExportImage" in error["errorMessage"]
    as_function = deployment.cloud.sessions.client(role, "ec2", "us-east-1")
    with pytest.raises(ClientError) as denied:
        as_function.deregister_image(ImageId=released[0])
    assert denied.value.response["Error"]["Code"] == "UnauthorizedOperation"
    _nothing_left_behind(released)


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
