"""SMOKE_TESTS_* and VULNERABILITY_SCANS_* on the real definitions: verdicts, gates, cleanup."""

from __future__ import annotations

import time

import boto3

from lambdas.domain.contracts import ScanOutputs, SmokeTestOutputs
from tests.integration.workflows.conftest import Deployment
from tests.integration.workflows.helpers import one_error, one_result, register_ami, workflow_input


def test_smoke_tests_pass_on_a_clean_ami(deployment: Deployment) -> None:
    ami_id = register_ami()

    deployment.run("smoke-tests", workflow_input("SMOKE_TESTS_AMI_CREATE", ami_id=ami_id))

    result = one_result(deployment.messages("creation"))
    assert result.status == "COMPLETED", result.reason
    outputs = result.typed_outputs()
    assert isinstance(outputs, SmokeTestOutputs) and outputs.checks and all(c.passed for c in outputs.checks)
    assert deployment.cloud.live_instances() == []
    instance = boto3.client("ec2", region_name="us-east-1").describe_instances(InstanceIds=[outputs.instance_id])
    launched = instance["Reservations"][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in launched["Tags"]}
    assert tags["AMI_LC_DEPLOYMENT"] == deployment.tag and tags["AMI_LC_EVENT_INSTANCE"] == "TRUE"
    assert launched["MetadataOptions"]["HttpTokens"] == "required"


def test_a_failed_check_fails_the_patch_event_and_terminates_the_instance(deployment: Deployment) -> None:
    deployment.cloud.ssm.fail_next_check("no-shell-history", "/root/.bash_history exists")

    deployment.run("smoke-tests", workflow_input("SMOKE_TESTS_AMI_PATCH", "ami-patch", ami_id=register_ami(), patch_number=1))

    result = one_result(deployment.messages("patch"))
    assert result.status == "FAILED"
    assert "no-shell-history" in result.reason and "/root/.bash_history" in result.reason
    assert deployment.messages("creation") == [] and deployment.messages("error") == []
    assert deployment.cloud.live_instances() == []


def test_a_step_raising_is_reported_as_error_and_leaves_nothing_behind(deployment: Deployment) -> None:
    deployment.cloud.fakes.fail_next("ssm", "SendCommand", "InvalidInstanceId", "the instance is not managed")

    execution = deployment.run("smoke-tests", workflow_input("SMOKE_TESTS_AMI_CREATE", ami_id=register_ami()))

    assert execution["status"] == "FAILED"
    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "InvalidInstanceId"
    assert error.workflow_input.event == "SMOKE_TESTS_AMI_CREATE"
    assert deployment.messages("creation") == []
    assert deployment.cloud.live_instances() == []


def test_scan_under_the_gate_completes_with_counts_and_a_stored_report(deployment: Deployment) -> None:
    deployment.run("vulnerability-scans", workflow_input("VULNERABILITY_SCANS_AMI_CREATE", ami_id=register_ami()))

    result = one_result(deployment.messages("creation"))
    assert result.status == "COMPLETED", result.reason
    outputs = result.typed_outputs()
    assert isinstance(outputs, ScanOutputs)
    assert outputs.findings["MEDIUM"] == 2 and outputs.findings["CRITICAL"] == 0 and outputs.gate_passed
    bucket, key = outputs.report_s3_uri.removeprefix("s3://").split("/", 1)
    assert boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert deployment.cloud.live_instances() == []


def test_a_critical_finding_fails_the_gate(deployment: Deployment) -> None:
    deployment.cloud.inspector.next_scan_reports({"CRITICAL": 1, "HIGH": 2})

    deployment.run("vulnerability-scans", workflow_input("VULNERABILITY_SCANS_AMI_CREATE", ami_id=register_ami()))

    result = one_result(deployment.messages("creation"))
    assert result.status == "FAILED"
    outputs = result.typed_outputs()
    assert isinstance(outputs, ScanOutputs)
    assert outputs.findings["CRITICAL"] == 1 and outputs.findings["HIGH"] == 2 and not outputs.gate_passed
    assert "CRITICAL" in result.reason and outputs.gate == "CRITICAL>0 or HIGH>5"
    assert deployment.cloud.live_instances() == []


def _ec2_scanning(status: str) -> None:
    inspector = boto3.client("inspector2", region_name="us-east-1")
    (inspector.enable if status == "ENABLED" else inspector.disable)(resourceTypes=["EC2"])
    deadline = time.monotonic() + 5
    while inspector.batch_get_account_status()["accounts"][0]["resourceState"]["ec2"]["status"] != status:
        assert time.monotonic() < deadline, f"Inspector EC2 scanning never became {status}"
        time.sleep(0.01)


def test_scan_fails_at_once_with_the_remedy_when_inspector_ec2_scanning_is_disabled(deployment: Deployment) -> None:
    _ec2_scanning("DISABLED")
    try:
        execution = deployment.run("vulnerability-scans", workflow_input("VULNERABILITY_SCANS_AMI_CREATE", ami_id=register_ami()))
    finally:
        _ec2_scanning("ENABLED")

    result = one_result(deployment.messages("creation"))
    assert execution["status"] == "SUCCEEDED" and result.status == "FAILED"
    assert "Amazon Inspector EC2 scanning is not enabled in account 123456789012 / us-east-1" in result.reason
    assert "bash deploy.sh" in result.reason and "aws inspector2 enable --resource-types EC2" in result.reason
    outputs = result.typed_outputs()
    assert isinstance(outputs, ScanOutputs) and not outputs.gate_passed and outputs.report_s3_uri is None
    # The wait ends at its own first check, not at its timeout; no report stored for a scan that never ran.
    entered = [e["stateEnteredEventDetails"]["name"] for e in deployment.cloud.history(execution["executionArn"])
               if e["type"].endswith("StateEntered")]
    assert entered.count("Wait for scan") == 1 and "Check scan once" not in entered
    assert deployment.messages("error") == [] and deployment.cloud.live_instances() == []
