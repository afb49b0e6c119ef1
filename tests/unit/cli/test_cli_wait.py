"""When --wait considers a lifecycle finished, and how it reports it."""

from __future__ import annotations

from cli.ami_cli.wait import failure, is_running


def _record(*states: tuple[str, bool, str], **extra: object) -> dict:
    names = ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST",
             "QA_CERTIFICATION_RESPONSE", "MARK_FOR_PRODUCTION_CREATE"]
    events = [{"name": name, "enabled": enabled, "status": status, "attempt": int(status != "NOT_STARTED")}
              for name, (enabled, status) in zip(names, [(s[1], s[2]) for s in states], strict=False)]
    return {"lifecycle_id": "lc", "events": events, "stage": 1, "semver": "1.0.0", **extra}


ON, OFF = True, False


def test_running_while_in_progress_or_about_to_start_the_next_automatic_event() -> None:
    in_progress = _record(("b", ON, "IN_PROGRESS"), ("s", ON, "NOT_STARTED"), ("v", OFF, "NOT_STARTED"),
                          ("q", OFF, "NOT_STARTED"), ("r", ON, "NOT_STARTED"), ("m", ON, "NOT_STARTED"))
    assert is_running(in_progress, "ami-creation")
    between = _record(("b", ON, "COMPLETED"), ("s", ON, "NOT_STARTED"), ("v", OFF, "NOT_STARTED"),
                      ("q", OFF, "NOT_STARTED"), ("r", ON, "NOT_STARTED"), ("m", ON, "NOT_STARTED"))
    assert is_running(between, "ami-creation")


def test_done_when_only_manual_steps_or_nothing_remain() -> None:
    waiting_for_qa = _record(("b", ON, "COMPLETED"), ("s", ON, "COMPLETED"), ("v", ON, "COMPLETED"),
                             ("q", ON, "COMPLETED"), ("r", ON, "NOT_STARTED"), ("m", ON, "NOT_STARTED"),
                             ami={"ami_id": "ami-1", "region": "us-east-1"}, stage=4)
    assert not is_running(waiting_for_qa, "ami-creation") and failure(waiting_for_qa) is None


def test_a_failed_event_ends_the_wait_with_its_reason() -> None:
    failed = _record(("b", ON, "COMPLETED"), ("s", ON, "FAILED"), ("v", ON, "NOT_STARTED"),
                     ("q", OFF, "NOT_STARTED"), ("r", ON, "NOT_STARTED"), ("m", ON, "NOT_STARTED"))
    failed["events"][1]["reason"] = "root login allowed"
    assert not is_running(failed, "ami-creation")
    assert failure(failed) == "SMOKE_TESTS_AMI_CREATE FAILED: root login allowed"
