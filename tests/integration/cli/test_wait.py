"""--wait: follow a lifecycle with bounded backoff; exit 0 only when every started event COMPLETED."""

from __future__ import annotations

from collections.abc import Callable

from tests.support.calls import call_api
from tests.support.flow import complete_current as advance, in_progress, status

CREATE = ["--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "ownername", "--productVer", "1.0.0",
          "--productName", "My Product Name", "--notifications", "EMAIL::user@domain.com"]


def _running_lifecycle() -> str | None:
    items = call_api("GET", "/ami-creation/lifecycles/status", query={"stack_tag": "main"}).json()["items"]
    return next((item["lifecycle_id"] for item in items if in_progress(item)), None)


def workflows(deployment, **result) -> tuple[Callable[[float], None], list[float]]:
    """A sleep that plays the state machines: each pause ends with the running event's result."""
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        lifecycle_id = _running_lifecycle()
        if lifecycle_id:
            advance(deployment, lifecycle_id, **result)

    return sleep, pauses


def _progress(err: str) -> list[str]:
    return [line.split("s] ", 1)[1] for line in err.splitlines() if line.startswith("api-cli: [")]


def test_wait_after_create_succeeds_and_prints_the_final_record(cli, deployment, gateway):
    failures = iter([True])
    real_invoke = gateway.invoke

    def flaky(function, event):  # the first status poll meets a function error (502): retried, not fatal
        if event["resource"].endswith("/status") and next(failures, False):
            raise RuntimeError("cold start failed")
        return real_invoke(function, event)

    gateway.invoke = flaky
    sleep, pauses = workflows(deployment)
    run = cli(*CREATE, "--events", "SMOKE_TESTS", "--wait", "--output", "json", sleep=sleep)
    assert run.code == 0, run.err
    record = run.json()  # stdout is one JSON document: the final lifecycle record
    assert [(e["name"], e["status"]) for e in record["events"][:3]] == [
        ("BUILD_AMI", "COMPLETED"), ("SMOKE_TESTS_AMI_CREATE", "COMPLETED"), ("VULNERABILITY_SCANS_AMI_CREATE", "NOT_STARTED")]
    assert record == status(record["lifecycle_id"])
    assert "status poll failed, retrying: API error 502 InternalServerError: Internal server error" in run.err
    assert _progress(run.err) == ["BUILD_AMI COMPLETED", "SMOKE_TESTS_AMI_CREATE IN_PROGRESS",
                                  "SMOKE_TESTS_AMI_CREATE COMPLETED"]
    assert all(0 < pause <= 30 for pause in pauses) and len(pauses) == 2


def test_wait_exits_1_on_a_failed_event_and_a_retry_can_be_followed(cli, deployment):
    created = cli(*CREATE, "--events", "SMOKE_TESTS", "--output", "json")
    lifecycle_id = created.json()["lifecycle_id"]
    advance(deployment, lifecycle_id)  # BUILD_AMI

    sleep, _ = workflows(deployment, status="FAILED", reason="root login allowed")
    run = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", lifecycle_id, "--wait", sleep=sleep)
    assert run.code == 1
    assert run.error_lines == ["api-cli: error: SMOKE_TESTS_AMI_CREATE FAILED: root login allowed"]
    assert run.out.splitlines()[-3:] == [  # the lifecycle, with what can be done about it
        "SMOKE_TESTS_AMI_CREATE is FAILED.", "To retry SMOKE_TESTS_AMI_CREATE:",
        f"  python3 cli/api-cli.py --operation AMI_CREATE_UPDATE --stackTag main --lifecycleId {lifecycle_id}"]
    assert _progress(run.err) == ["BUILD_AMI COMPLETED", "SMOKE_TESTS_AMI_CREATE IN_PROGRESS",
                                  "SMOKE_TESTS_AMI_CREATE FAILED - root login allowed"]

    sleep, _ = workflows(deployment)
    retried = cli("--operation", "AMI_CREATE_UPDATE", "--stackTag", "main", "--lifecycleId", lifecycle_id, "--wait",
                  sleep=sleep)
    assert retried.code == 0, retried.err
    lines = retried.out.splitlines()
    assert lines[0] == f"Lifecycle {lifecycle_id} (ami-creation, semver 1.0.0): SMOKE_TESTS_AMI_CREATE started."
    assert lines[3] == f"Lifecycle {lifecycle_id} (stack tag main)"
    assert lines[5].startswith("  Stage:   smoke-tested; AMI ami-")
    assert lines[10:12] == ["  " + " " * 30 + "  Checks: 1 of 1 passed", "  " + " " * 30 + "  attempt 2; earlier: 1 FAILED"]
    assert lines[-2:] == ["Next: VULNERABILITY_SCANS_AMI_CREATE was not requested. To run it:",
                          f"  python3 cli/api-cli.py --operation AMI_CREATE_UPDATE --stackTag main --lifecycleId "
                          f"{lifecycle_id} --events VULNERABILITY_SCANS"]
    assert "SMOKE_TESTS_AMI_CREATE COMPLETED (attempt 2)" in _progress(retried.err)


def test_wait_on_a_paused_lifecycle_returns_at_once(cli, deployment):
    lifecycle_id = cli(*CREATE, "--events", "AMI_BUILD_ONLY", "--output", "json").json()["lifecycle_id"]
    advance(deployment, lifecycle_id)
    pauses: list[float] = []
    run = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", lifecycle_id, "--wait",
              sleep=pauses.append)
    assert run.code == 0 and pauses == []
    lines = run.out.splitlines()
    assert lines[0] == f"Lifecycle {lifecycle_id} (stack tag main)"
    assert lines[2] == f"  Stage:   hardened; AMI {status(lifecycle_id)['ami']['ami_id']} (us-east-1)"
    assert lines[5] == "  " + " " * 30 + f"  AMI: {status(lifecycle_id)['ami']['ami_id']} (us-east-1)"


def test_wait_times_out_with_exit_1(cli, deployment):
    now = [1000.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:  # time passes, nothing finishes
        pauses.append(seconds)
        now[0] += seconds

    run = cli(*CREATE, "--events", "AMI_BUILD_ONLY", "--wait", "--timeout", "60", sleep=sleep, clock=lambda: now[0])
    assert run.code == 1
    [error] = run.error_lines
    assert error.startswith("api-cli: error: timed out after 60s waiting for lifecycle ")
    assert error.endswith("(BUILD_AMI IN_PROGRESS)")
    assert pauses[:4] == [2.0, 3.0, 4.5, 6.75] and max(pauses) <= 30 and sum(pauses) == 60
