"""The callbacks function: exactly one of the waiting task and AWS's event resumes a wait, a failure
carried by an event fails it at once with the step error its Catch expects, and the timeout check
decides once. Events are AWS's documented examples (docs/LOCAL_CLOUD.md cites the pages)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from lambdas.steps.callbacks import handler, watchers
from lambdas.steps.callbacks.inputs import AwaitInput, CheckInput
from lambdas.steps.errors import CommandFailed, NotReadyInTime, RestoreFailed


class Tokens:
    def __init__(self) -> None:
        self.stored: dict[str, str] = {}
        self.sent: list[tuple[str, Any]] = []

    def put_token(self, table: str, key: str, token: str, execution: str) -> None:
        self.stored[key] = token

    def pop_token(self, table: str, key: str) -> str | None:
        return self.stored.pop(key, None)

    def send_success(self, token: str, output: dict[str, Any]) -> None:
        self.sent.append((token, output))

    def send_failure(self, token: str, error: str, cause: str) -> None:
        self.sent.append((token, (error, cause)))


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> Tokens:
    fake = Tokens()
    monkeypatch.setenv("CALLBACK_TOKEN_TABLE", "tokens")
    for name in ("put_token", "pop_token", "send_success", "send_failure"):
        monkeypatch.setattr(handler.tokens, name, getattr(fake, name))
    return fake


def _ami_state(monkeypatch: pytest.MonkeyPatch, state: str, reason: str = "") -> None:
    monkeypatch.setattr(watchers.images, "image", lambda image_id: {"state": state, "reason": reason})


def _await(**resource: str) -> dict[str, Any]:
    payload = {"lifecycle_id": "lc-1", "task_token": "t-1", "execution_name": "run-1", **resource}
    return handler.await_resource(TypeAdapter(AwaitInput).validate_python(payload))


def _check_once(**resource: str) -> dict[str, Any]:
    return handler.check_once(TypeAdapter(CheckInput).validate_python({"lifecycle_id": "lc-1", **resource}))


AMI_FAILED = {  # EC2 User Guide, "Monitor AMI events using Amazon EventBridge"
    "version": "0", "id": "example-9f07", "detail-type": "EC2 AMI State Change", "source": "aws.ec2",
    "account": "012345678901", "time": "2024-01-01T00:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1::image/ami-0123456789example"],
    "detail": {"RequestId": "example-9dcc", "ImageId": "ami-0123456789example", "State": "failed",
               "ErrorMessage": "Description of failure"},
}
COMMAND_TIMED_OUT = {  # Systems Manager User Guide, "Amazon EventBridge event examples for Systems Manager"
    "version": "0", "id": "4780e1b8", "detail-type": "EC2 Command Invocation Status-change Notification",
    "source": "aws.ssm", "account": "123456789012", "time": "2016-07-10T21:51:32Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"command-id": "e8d3c0e4-71f7-4491-898f-c9b35bee5f3b", "document-name": "AWS-RunShellScript",
               "instance-id": "i-abcd1111", "requested-date-time": "2016-07-10T21:51:30.049Z", "status": "TimedOut"},
}
INITIAL_SCAN = {  # Inspector User Guide, "Amazon EventBridge event schema for Amazon Inspector events"
    "version": "0", "id": "28a46762", "detail-type": "Inspector2 Scan", "source": "aws.inspector2",
    "account": "111122223333", "time": "2023-01-20T22:52:35Z", "region": "us-east-1", "resources": ["i-087d63509b8c97098"],
    "detail": {"scan-status": "INITIAL_SCAN_COMPLETE", "finding-severity-counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "TOTAL": 0},
               "instance-id": "i-087d63509b8c97098", "version": "1.0"},
}


def test_work_done_before_the_token_was_stored_resumes_the_wait_at_once_and_only_once(
        tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    _ami_state(monkeypatch, "available")

    assert _await(kind="ami", image_id="ami-0123456789example") == {"resumed": True}
    late = {**AMI_FAILED, "detail": {**AMI_FAILED["detail"], "State": "available", "ErrorMessage": ""}}

    assert handler.on_event(late) == {"resumed": []}  # the event finds no token left
    assert tokens.sent == [("t-1", {"state": "available"})] and tokens.stored == {}


def test_a_failure_carried_by_the_event_fails_the_waiting_task_at_once(tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    _ami_state(monkeypatch, "pending")
    assert _await(kind="ami", image_id="ami-0123456789example") == {"resumed": False}

    assert handler.on_event(AMI_FAILED) == {"resumed": ["ami-0123456789example"]}
    assert tokens.sent == [("t-1", ("RestoreFailed", "AMI ami-0123456789example ended failed: Description of failure"))]


def test_a_timed_out_command_event_fails_the_smoke_test_wait_with_command_failed(
        tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watchers.commands, "invocation", lambda c, i: {"status": "InProgress", "stderr": ""})
    _await(kind="command", command_id="e8d3c0e4-71f7-4491-898f-c9b35bee5f3b", instance_id="i-abcd1111")

    handler.on_event(COMMAND_TIMED_OUT)

    ((token, (error, cause)),) = tokens.sent
    assert (token, error) == ("t-1", CommandFailed.__name__) and "TimedOut" in cause


def test_the_initial_scan_event_resumes_only_an_ec2_scan_wait(tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watchers.inspector, "ec2_scanning_blocker", lambda: None)
    monkeypatch.setattr(watchers.inspector, "coverage", lambda i: {"status": "ACTIVE", "reason": "PENDING_INITIAL_SCAN"})
    _await(kind="scan", instance_id="i-087d63509b8c97098")
    ecr_scan = {**INITIAL_SCAN, "resources": ["arn:aws:ecr:us-east-1:111122223333:repository/x"],
                "detail": {k: v for k, v in INITIAL_SCAN["detail"].items() if k != "instance-id"}}

    assert handler.on_event(ecr_scan) == {"resumed": []}
    assert handler.on_event(INITIAL_SCAN) == {"resumed": ["i-087d63509b8c97098"]}
    assert handler.on_event({**INITIAL_SCAN, "detail-type": "Inspector2 Finding"}) == {"resumed": []}  # not awaited


def test_the_timeout_check_decides_once_and_leaves_no_token_for_a_late_event(
        tokens: Tokens, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens.stored["ami#ami-1"] = "t-1"
    _ami_state(monkeypatch, "pending")
    with pytest.raises(NotReadyInTime, match="still not done when its wait timed out"):
        _check_once(kind="ami", image_id="ami-1")
    assert tokens.stored == {}

    _ami_state(monkeypatch, "failed", "Server.InternalError")
    with pytest.raises(RestoreFailed, match="Server.InternalError"):
        _check_once(kind="ami", image_id="ami-1")
    _ami_state(monkeypatch, "available")
    assert _check_once(kind="ami", image_id="ami-1") == {"state": "available"}


@pytest.mark.parametrize("step_input", [AwaitInput, CheckInput], ids=["await", "check"])
def test_every_kind_of_wait_a_step_accepts_has_its_watcher(step_input: Any) -> None:
    kinds = TypeAdapter(step_input).json_schema()["discriminator"]["mapping"]

    assert set(kinds) == set(watchers.WATCHERS)
