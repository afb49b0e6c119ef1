"""The creation and patch chains driven by receiver messages, as the workflows send them."""

import boto3

from lambdas.adapters.lookup_repository import LookupRepository
from tests.support.aws import ami_tags, drain_notifications, executions
from tests.support.calls import call_api, call_receiver
from tests.support.flow import (
    approve,
    certify,
    complete_current,
    create,
    patch_body,
    production_lifecycle,
    result_message,
    status,
    upload_patch_component,
)


def _latest(deployment, stage, product=None):
    selector = f"main#us-east-1#{stage}" + (f"#P#{product}" if product else "")
    return LookupRepository(deployment.lookup_table).latest(selector)


def test_creation_chain_from_build_to_production(deployment):
    lifecycle_id = create(deployment)
    completed = [complete_current(deployment, lifecycle_id) for _ in range(4)]
    assert completed == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"]
    # Each event started the next one exactly once.
    for workflow in ("build", "smoke-tests", "vulnerability-scans", "qa-certification-request"):
        assert len(executions(deployment, workflow)) == 1
    record = status(lifecycle_id)
    assert record["stage"] == 4 and record["event_in_progress"] if "event_in_progress" in record else True
    assert _latest(deployment, "qa-requested")["lifecycle_id"] == lifecycle_id
    assert _latest(deployment, "qa-certified") is None

    certify(lifecycle_id)
    assert _latest(deployment, "qa-certified")["ami_id"] == record["ami"]["ami_id"]
    assert _latest(deployment, "production") is None

    approve(lifecycle_id)
    [mfp] = executions(deployment, "mark-for-production")
    assert mfp["name"] == f"{lifecycle_id}-production-1"
    assert complete_current(deployment, lifecycle_id) == "MARK_FOR_PRODUCTION_CREATE"

    record = status(lifecycle_id)
    assert [event["status"] for event in record["events"]] == ["COMPLETED"] * 6
    assert record["stage"] == 6
    assert record["approved_ami"]["ami_id"] == record["ami"]["ami_id"]
    production = _latest(deployment, "production", "My Product Name")
    assert (production["ami_id"], production["semver"]) == (record["ami"]["ami_id"], "1.0.0")

    tags = ami_tags(record["ami"]["ami_id"])
    assert tags["AMI_LC_LIFECYCLE_ID"] == lifecycle_id
    assert tags["AMI_LC_CURRENT_AMI_SEMVER"] == "1.0.0"
    assert tags["AMI_LC_EVENT_MARK_FOR_PRODUCTION_CREATE_STATUS"] == "COMPLETED"
    assert tags["AMI_LC_APPROVAL_STATUS"] == "APPROVED"
    assert tags["AMI_LC_QA_CERTIFICATION_STATUS"] == "CERTIFIED"
    assert tags["AMI_LC_TOTAL_VULNERABILITIES"] == "1"

    subjects = [note["Subject"] for note in drain_notifications(deployment)]
    assert "[AMI lifecycle] MARK_FOR_PRODUCTION_CREATE COMPLETED - My Product Name 1.0.0" in subjects


def test_patch_chain_bumps_semver_and_becomes_the_production_ami(deployment):
    lifecycle_id = production_lifecycle(deployment)
    parent_ami = status(lifecycle_id)["ami"]["ami_id"]
    response = call_api("POST", "/ami-patch/lifecycles", body=patch_body(lifecycle_id, upload_patch_component(deployment)))
    assert response.status == 201, response.text
    assert response.json()["semver"] == "1.1.0"

    completed = [complete_current(deployment, lifecycle_id, "ami-patch") for _ in range(3)]
    assert completed == ["PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH"]
    patch_input = boto3.client("stepfunctions").describe_execution(
        executionArn=executions(deployment, "patch")[0]["executionArn"]
    )["input"]
    assert parent_ami in patch_input and "openssl CVE fix" in patch_input

    approve(lifecycle_id, kind="ami-patch")
    assert complete_current(deployment, lifecycle_id, "ami-patch") == "MARK_FOR_PRODUCTION_PATCH"

    patch = status(lifecycle_id, "ami-patch")
    assert patch["semver"] == "1.1.0" and patch["stage"] == 6
    production = _latest(deployment, "production")
    assert (production["ami_id"], production["semver"], production["lifecycle_type"]) == (
        patch["ami"]["ami_id"], "1.1.0", "ami-patch",
    )
    assert status(lifecycle_id)["approved_ami"]["ami_id"] == patch["ami"]["ami_id"]
    assert ami_tags(patch["ami"]["ami_id"])["AMI_LC_AMI_ANCESTRY"] == (
        f"{parent_ami} (v1.0.0) -> {patch['ami']['ami_id']} (v1.1.0)"
    )


def test_rejections_never_make_an_ami_selectable(deployment):
    lifecycle_id = create(deployment)
    for _ in range(4):
        complete_current(deployment, lifecycle_id)
    certify(lifecycle_id, "FAILED")
    assert _latest(deployment, "qa-certified") is None
    assert ami_tags(status(lifecycle_id)["ami"]["ami_id"])["AMI_LC_QA_CERTIFICATION_STATUS"] == "FAILED"

    other = create(deployment)
    for _ in range(4):
        complete_current(deployment, other)
    certify(other)
    approve(other, "NOT_APPROVED")
    record = status(other)
    assert record["events"][5]["status"] == "FAILED"
    assert record["events"][5]["properties"]["approver"] == "ana@example.com"
    assert _latest(deployment, "production") is None
    assert executions(deployment, "mark-for-production") == []
    # A rejected AMI stays rejected: a later approval is refused and changes nothing.
    second_opinion = call_api(
        "POST", f"/ami-creation/lifecycles/{other}/approve", role="approver",
        body={"lifecycle_id": other, "stack_tag": "main", "approval_status": "APPROVED", "approver": "bob"},
    )
    assert second_opinion.status == 409 and "NOT_APPROVED by ana@example.com" in second_opinion.json()["message"]
    assert executions(deployment, "mark-for-production") == []


def test_failed_gate_stops_the_chain_until_a_retry(deployment):
    lifecycle_id = create(deployment)
    complete_current(deployment, lifecycle_id)  # build
    complete_current(deployment, lifecycle_id, status="FAILED", reason="check root-login failed",
                     outputs={"checks": [{"name": "root-login", "passed": False}]})
    record = status(lifecycle_id)
    assert record["events"][1]["status"] == "FAILED" and record["stage"] == 1
    assert executions(deployment, "vulnerability-scans") == []
    assert _latest(deployment, "smoke-tested") is None
    notes = drain_notifications(deployment)
    failed = [note for note in notes if "SMOKE_TESTS_AMI_CREATE is FAILED" in note["Message"]]
    assert failed and failed[0]["MessageAttributes"]["severity"]["Value"] == "WARNING"
    assert "check root-login failed" in failed[0]["Message"]

    response = call_api("PUT", "/ami-creation/lifecycles", body={"lifecycle_id": lifecycle_id, "stack_tag": "main"})
    assert response.status == 200 and response.json()["event_started"] == "SMOKE_TESTS_AMI_CREATE"
    assert sorted(execution["name"] for execution in executions(deployment, "smoke-tests")) == [
        f"{lifecycle_id}-smoke-1", f"{lifecycle_id}-smoke-2",
    ]


def test_error_receiver_records_error_and_notifies(deployment):
    lifecycle_id = create(deployment)
    running = status(lifecycle_id)["events"][0]
    message = result_message(deployment, running["execution_name"], __import__("lambdas.domain.events", fromlist=["EventName"]).EventName.BUILD_AMI)
    error = {"workflow_input": message["workflow_input"], "execution_arn": message["execution_arn"],
             "status": "ERROR", "status_date": "2026-11-23T10:00:00.000Z",
             "error": {"Error": "ImageBuilderFailed", "Cause": "image state FAILED: component hardening failed"}}
    drain_notifications(deployment)
    assert call_receiver("error", error) == {"batchItemFailures": []}
    record = status(lifecycle_id)
    assert record["events"][0]["status"] == "ERROR"
    assert record["events"][0]["reason"].startswith("ImageBuilderFailed: image state FAILED")
    [note] = drain_notifications(deployment)
    assert note["MessageAttributes"]["severity"]["Value"] == "ERROR"
    assert executions(deployment, "smoke-tests") == []
