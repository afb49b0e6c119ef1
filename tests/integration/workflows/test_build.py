"""BUILD_AMI on the real definition: callback wait, failed image, lost event, transitions by duration."""

from __future__ import annotations

import boto3
import pytest

from lambdas.domain.contracts import BuildOutputs
from tests.integration.workflows.conftest import Deployment
from tests.integration.workflows.helpers import one_error, one_result, workflow_input


def test_build_reports_the_new_ami_to_the_creation_receiver(deployment: Deployment) -> None:
    execution = deployment.run("build", workflow_input("BUILD_AMI"))

    assert execution["status"] == "SUCCEEDED"
    result = one_result(deployment.messages("creation"))
    assert result.status == "COMPLETED"
    outputs = result.typed_outputs()
    assert isinstance(outputs, BuildOutputs)
    images = boto3.client("ec2", region_name="us-east-1").describe_images(ImageIds=[outputs.ami.ami_id])["Images"]
    assert images and images[0]["State"] == "available"
    assert result.workflow_input.lifecycle_id == "lc-0123456789abcdef"
    assert deployment.messages("error") == []


def test_failed_image_build_is_a_failed_verdict(deployment: Deployment) -> None:
    deployment.cloud.image_builder.fail_next_build("Component 'hardening' failed at step 'sshd'")

    deployment.run("build", workflow_input("BUILD_AMI"))

    result = one_result(deployment.messages("creation"))
    assert result.status == "FAILED"
    assert "FAILED" in result.reason and "hardening" in result.reason
    assert deployment.messages("error") == []


def test_lost_image_event_is_recovered_by_one_check_at_the_build_timeout(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deployment.cloud.router, "rules", [])  # EventBridge delivery is best effort

    deployment.run("build", workflow_input("BUILD_AMI"))

    assert one_result(deployment.messages("creation")).status == "COMPLETED"


def test_start_failure_is_reported_to_the_error_queue(deployment: Deployment) -> None:
    deployment.cloud.fakes.fail_next("imagebuilder", "StartImagePipelineExecution", "ServiceQuotaExceededException")

    execution = deployment.run("build", workflow_input("BUILD_AMI"))

    assert execution["status"] == "FAILED"
    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "ServiceQuotaExceededException"  # botocore's modelled error class
    assert deployment.messages("creation") == []


def _measure(deployment: Deployment, monkeypatch: pytest.MonkeyPatch, minutes: float) -> tuple[int, int, int]:
    cloud = deployment.cloud
    monkeypatch.setattr(cloud.image_builder, "build_minutes", minutes)
    before = len(cloud.runtime.invocations)
    arn = cloud.start(deployment.machines["build"], workflow_input("BUILD_AMI"))
    assert cloud.wait(arn)["status"] == "SUCCEEDED"
    history = cloud.history(arn)
    entered = sum(1 for e in history if e["type"].endswith("StateEntered"))
    return entered, len(history), len(cloud.runtime.invocations) - before


def test_state_transitions_do_not_grow_with_build_duration(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    short = _measure(deployment, monkeypatch, 45)
    long = _measure(deployment, monkeypatch, 90)
    print(f"\n45-minute build: {short[0]} states entered, {short[1]} history events, {short[2]} Lambda invocations")
    print(f"90-minute build: {long[0]} states entered, {long[1]} history events, {long[2]} Lambda invocations")
    assert short == long
