"""Every wait on the real definitions: an event-driven wait costs the same whatever AWS takes, a lost
event still completes through the wait's one check at its timeout, a failure carried by an event
fails the run at once, and nothing is left behind on any of these paths."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.workflows.conftest import Deployment
from tests.integration.workflows.helpers import one_error, one_result, register_ami, workflow_input

QA = "qa-certification-request"


def _entered(deployment: Deployment, execution: dict[str, Any]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in deployment.cloud.history(execution["executionArn"])
            if e["type"].endswith("StateEntered")]


def _run(deployment: Deployment, workflow: str, event: str, timeout: float = 60) -> tuple[dict[str, Any], list[str]]:
    execution = deployment.run(workflow, workflow_input(event, ami_id=register_ami()), timeout)
    return execution, _entered(deployment, execution)


@pytest.mark.parametrize(("workflow", "event", "check", "longer"), [
    ("vulnerability-scans", "VULNERABILITY_SCANS_AMI_CREATE", "Check scan once", ("inspector", "scan_minutes", 40)),
    (QA, "QA_CERTIFICATION_REQUEST", "Check restore once", ("ec2_images", "restore_minutes", 60)),
])
def test_a_lost_event_completes_through_one_check_when_the_wait_times_out(
        deployment: Deployment, monkeypatch: pytest.MonkeyPatch, workflow: str, event: str, check: str,
        longer: tuple[str, str, int]) -> None:
    monkeypatch.setattr(deployment.cloud.router, "rules", [])  # EventBridge delivers best effort
    # Long enough to be running when the token is stored (however slow a first invocation is), short
    # enough to be done at the wait's timeout (scan 1 h, restore 6 h).
    fake, attribute, minutes = longer
    monkeypatch.setattr(getattr(deployment.cloud, fake), attribute, minutes)

    _, entered = _run(deployment, workflow, event)

    assert one_result(deployment.messages("creation")).status == "COMPLETED"
    assert entered.count(check) == 1, " > ".join(entered)
    assert deployment.cloud.live_instances() == []


def test_a_failed_restore_event_fails_the_qa_export_at_once_and_leaves_nothing_behind(deployment: Deployment) -> None:
    deployment.cloud.ec2_images.fail_next_restore("Server.InternalError: the stored image is corrupt")
    images_before = set(deployment.cloud.ec2_images.restores)

    execution, entered = _run(deployment, QA, "QA_CERTIFICATION_REQUEST")

    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "RestoreFailed" and "the stored image is corrupt" in error.error["Cause"]
    assert "Check restore once" not in entered and "Start export" not in entered  # the event ended the wait
    wait = [e for e in deployment.cloud.history(execution["executionArn"])
            if e.get("stateEnteredEventDetails", {}).get("name") in ("Wait for restore", "Clean up")]
    waited = (wait[1]["timestamp"] - wait[0]["timestamp"]).total_seconds() / deployment.cloud.scale.factor
    assert waited < 3600, f"the failure came {waited:.0f} simulated s into a 6 h wait"  # the restore takes 15 min
    (restored,) = set(deployment.cloud.ec2_images.restores) - images_before
    owned = deployment.cloud.client("ec2").describe_images(Owners=["self"])["Images"]
    assert restored not in {image["ImageId"] for image in owned}  # the failed copy was deregistered


def test_a_timed_out_command_event_fails_the_smoke_tests_at_once(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deployment.cloud.ssm, "command_minutes", 20)  # longer than the script's 10-minute timeout

    _, entered = _run(deployment, "smoke-tests", "SMOKE_TESTS_AMI_CREATE")

    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "CommandFailed" and "TimedOut" in json.dumps(error.error)
    assert "Check command once" not in entered and "Read results" not in entered
    assert deployment.cloud.live_instances() == []


def test_an_instance_inspector_cannot_scan_fails_the_scan_at_once(deployment: Deployment) -> None:
    deployment.cloud.inspector.fail_next_scan("UNSUPPORTED_OS")

    _, entered = _run(deployment, "vulnerability-scans", "VULNERABILITY_SCANS_AMI_CREATE")

    error = one_error(deployment.messages("error"))
    assert error.error["Error"] == "ScanFailed" and "UNSUPPORTED_OS" in error.error["Cause"]
    assert "Check scan once" not in entered and "Evaluate findings" not in entered
    assert deployment.cloud.live_instances() == []


def test_event_driven_waits_cost_the_same_whatever_aws_takes(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = []
    for minutes in (10, 40):
        monkeypatch.setattr(deployment.cloud.inspector, "scan_minutes", minutes)
        before = len(deployment.cloud.runtime.invocations)
        _, entered = _run(deployment, "vulnerability-scans", "VULNERABILITY_SCANS_AMI_CREATE")
        assert one_result(deployment.messages("creation")).status == "COMPLETED"
        runs.append((entered, len(deployment.cloud.runtime.invocations) - before))

    assert runs[0] == runs[1]  # the same states, the same invocations
    assert runs[0][0].count("Wait for scan") == 1
