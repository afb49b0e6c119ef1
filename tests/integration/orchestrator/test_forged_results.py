"""A result a workflow execution did not send changes nothing, even once it is on the queue.

The receiver queues admit only the workflows' roles (tests/integration/local/test_resource_policies.py
proves the queue policy through the local endpoint). Here a message has reached a receiver anyway, as
one sent by an administrator would, and the receiver checks it against the execution it names: this
deployment's state machine of that event, the execution name of that lifecycle, event and attempt,
the same input, still running or ended as its last state ends it. A refused message is logged and
counted, not recorded, and deleted rather than retried (its verdict cannot change).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from tests.support.calls import call_receiver
from tests.support.flow import Flow, assert_unchanged, result_message, snapshot, status

SCAN = "VULNERABILITY_SCANS_AMI_CREATE"
PASSED_GATE = {"findings": {"CRITICAL": 0, "HIGH": 0}, "report_s3_uri": "s3://reports/forged.json",
               "gate": "CRITICAL>0", "gate_passed": True}


def _scan_in_progress(deployment) -> tuple[str, dict[str, Any]]:
    """A lifecycle whose vulnerability scan runs, and the genuine message its scan execution would send."""
    flow = Flow(deployment)
    lifecycle_id = flow.create(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", SCAN))["lifecycle_id"]
    flow.finish(lifecycle_id)
    flow.finish(lifecycle_id)
    scan = flow.event(lifecycle_id, SCAN)
    assert scan["status"] == "IN_PROGRESS"
    return lifecycle_id, result_message(deployment, scan["execution_name"], SCAN, outputs=PASSED_GATE)


@pytest.fixture
def refusals(monkeypatch) -> list[str]:
    """The reasons the receivers log for the messages they refuse (the logger keeps the stream it was
    built with, so its lines are read here rather than from captured output)."""
    from lambdas.core.observability import logger

    reasons: list[str] = []
    original = logger.warning

    def warning(message: str, *args: Any, **kwargs: Any) -> None:
        if message.startswith("message refused"):
            reasons.append(kwargs["extra"]["reason"])
        original(message, *args, **kwargs)

    monkeypatch.setattr(logger, "warning", warning)
    return reasons


def _refusals_counted(output: str) -> list[dict[str, Any]]:
    """The refusal metrics emitted (EMF lines on standard output)."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "UntrustedMessageRefused" in line]


def _forgeries(deployment, genuine: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    """Forged COMPLETED scan results that pass the gate, each with what its refusal must say."""
    arn = genuine["execution_arn"]
    other_machine = arn.replace(":ami-lc-test-vulnerability-scans:", ":ami-lc-test-smoke-tests:")
    other_deployment = arn.replace(":ami-lc-test-vulnerability-scans:", ":ami-lc-prod-vulnerability-scans:")
    later_attempt = {**genuine["workflow_input"], "attempt": 2}
    return {
        "another workflow's execution": ({**genuine, "execution_arn": other_machine}, f"not {arn}"),
        "another deployment's execution": ({**genuine, "execution_arn": other_deployment}, f"not {arn}"),
        "an execution never started": (
            {**genuine, "workflow_input": later_attempt, "execution_arn": arn.removesuffix("-1") + "-2"},
            "does not exist"),
        "another input than the execution's": (
            {**genuine, "workflow_input": {**genuine["workflow_input"], "semver": "9.0.0"}},
            "started with another input"),
    }


def test_forged_passing_scan_results_are_refused_logged_counted_and_change_nothing(deployment, capsys, refusals):
    lifecycle_id, genuine = _scan_in_progress(deployment)
    forgeries = _forgeries(deployment, genuine)
    before = snapshot(deployment)
    capsys.readouterr()

    for case, (message, _) in forgeries.items():
        assert call_receiver("creation", message) == {"batchItemFailures": []}, case  # deleted, never retried

    assert_unchanged(deployment, before)
    counted = _refusals_counted(capsys.readouterr().out)
    assert len(refusals) == len(forgeries)
    for (case, (_, why)), reason in zip(forgeries.items(), refusals, strict=True):
        assert why in reason, f"{case}: {reason}"
    assert len(counted) == len(forgeries) and all(metric["deployment"] == "test" for metric in counted)

    # The genuine message still passes the gate: the check refuses forgeries, not results.
    assert call_receiver("creation", genuine) == {"batchItemFailures": []}
    assert Flow(deployment).event(lifecycle_id, SCAN)["status"] == "COMPLETED"


@pytest.mark.parametrize("ended", ["ABORTED", "FAILED"])
def test_a_result_naming_an_execution_that_did_not_end_by_its_last_state_is_refused(deployment, ended, refusals):
    _, genuine = _scan_in_progress(deployment)
    sfn = boto3.client("stepfunctions")
    if ended == "ABORTED":
        sfn.stop_execution(executionArn=genuine["execution_arn"])
    else:  # moto's placeholder machines never run: make DescribeExecution say what AWS would
        from moto.stepfunctions.models import stepfunctions_backends

        backend = stepfunctions_backends["123456789012"]["us-east-1"]
        backend.describe_execution(genuine["execution_arn"]).status = "FAILED"
    before = snapshot(deployment)

    assert call_receiver("creation", genuine) == {"batchItemFailures": []}

    assert_unchanged(deployment, before)
    assert refusals == [f"execution {genuine['execution_arn']} is {ended}"]


def test_a_forged_error_is_refused_and_a_message_without_an_execution_is_never_recorded(deployment, refusals):
    lifecycle_id, genuine = _scan_in_progress(deployment)
    error = {"workflow_input": genuine["workflow_input"], "status_date": genuine["status_date"],
             "execution_arn": genuine["execution_arn"].replace("vulnerability-scans", "smoke-tests"),
             "error": {"Error": "States.TaskFailed", "Cause": "forged"}}
    anonymous = {key: value for key, value in genuine.items() if key != "execution_arn"}
    before = snapshot(deployment)

    assert call_receiver("error", error) == {"batchItemFailures": []}
    # Malformed: it fails, is retried and finally dead-lettered (alarmed), like any invalid message.
    with pytest.raises(BatchProcessingError, match="execution_arn"):
        call_receiver("creation", anonymous)

    assert_unchanged(deployment, before)
    assert len(refusals) == 1 and "not " + genuine["execution_arn"] in refusals[0]
    assert status(lifecycle_id)["events"][2]["status"] == "IN_PROGRESS"
