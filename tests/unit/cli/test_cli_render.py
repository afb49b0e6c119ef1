"""The default text output: what a person reads in a terminal, with commands that run as printed."""

from __future__ import annotations

from lambdas.domain import rules
from lambdas.domain.events import CREATION_SEQUENCE, EventStatus
from cli.ami_cli.render import accepted_lines, lifecycle_lines, link_lines, list_lines, verdict_lines
from tests.unit.domain.factories import LIFECYCLE_ID, creation, run, run_all

BUILD, SMOKE, SCAN, QA_REQUEST, QA_RESPONSE, PRODUCTION = CREATION_SEQUENCE
CLI = "python3 cli/api-cli.py"


def test_a_lifecycle_waiting_for_qa_fits_a_screen_and_says_who_acts_next():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    lines = lifecycle_lines(record, CLI)
    assert lines[:4] == [
        f"Lifecycle {LIFECYCLE_ID} (stack tag main)",
        "  Product: My Product Name 1.0.0 (product version 1.0.0), owner ownername",
        "  Stage:   in QA; AMI ami-0123456789abcdef0 (us-east-1)",
        "Events:",
    ]
    assert lines[4] == "  BUILD_AMI                       COMPLETED      at 2024-05-01 11:00:00 UTC (<1 s)"
    assert "                                  AMI: ami-0123456789abcdef0 (us-east-1)" in lines
    assert f"  {'QA_CERTIFICATION_RESPONSE':<30}  NOT_STARTED" in lines
    assert lines[-1] == (f"  {CLI} --operation AMI_QA_CERTIFICATION --stackTag main --lifecycleId {LIFECYCLE_ID} "
                         "--certificationStatus CERTIFIED")
    assert len(lines) <= 20
    assert not any(word in "\n".join(lines) for word in ("True", "None", "{'", "+00:00", '"stage": '))


def test_a_running_event_says_how_to_follow_it_with_the_program_as_it_was_run():
    record = creation()
    rules.begin_event(record, BUILD, "2024-05-01T10:00:00.000000Z")
    lines = lifecycle_lines(record, "api-cli")
    assert lines[4] == "  BUILD_AMI                       IN_PROGRESS    since 2024-05-01 10:00:00 UTC"
    assert lines[-2:] == ["Build (BUILD_AMI) is running. Follow it:",
                          f"  api-cli --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --stackTag main --lifecycleId "
                          f"{LIFECYCLE_ID} --wait"]


def test_a_long_failure_reason_is_one_short_line():
    record = creation()
    run(record, BUILD, EventStatus.ERROR)
    record.event(BUILD).reason = "States.Runtime: " + "x" * 2000
    [reason] = [line for line in lifecycle_lines(record, CLI) if "Reason:" in line]
    assert len(reason.strip()) <= 250 and reason.endswith("\u2026")


def test_what_an_operation_prints_after_the_api_answered():
    accepted = {"lifecycle_id": LIFECYCLE_ID, "lifecycle_type": "ami-creation", "semver": "2.0.0",
                "event_started": "BUILD_AMI"}
    assert accepted_lines(accepted, "main", CLI) == [
        f"Lifecycle {LIFECYCLE_ID} (ami-creation, semver 2.0.0): BUILD_AMI started.",
        f"Follow it:     {CLI} --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --stackTag main --lifecycleId "
        f"{LIFECYCLE_ID} --wait",
        f"Timeline page: {CLI} --operation AMI_TIMELINE_CREATE --stackTag main --lifecycleId {LIFECYCLE_ID}",
    ]
    certified = {"lifecycle_id": LIFECYCLE_ID, "event": "QA_CERTIFICATION_RESPONSE", "status": "COMPLETED",
                 "status_date": "2024-05-01T12:00:00.123456+00:00"}
    assert verdict_lines(certified, "main", "ami-creation", CLI) == [
        f"Lifecycle {LIFECYCLE_ID}: QA_CERTIFICATION_RESPONSE COMPLETED (2024-05-01 12:00:00 UTC).",
        "Next: an approver decides. To approve:",
        f"  {CLI} --operation AMI_APPROVAL_CREATE --stackTag main --lifecycleId {LIFECYCLE_ID} "
        "--approvalStatusAmiCreation APPROVED",
    ]
    assert link_lines("Dashboard", "https://x/api/ami-fleet/main/dashboard?token=t", "2026-11-23T11:00:00Z") == [
        "Dashboard: https://x/api/ami-fleet/main/dashboard?token=t", "Expires: 2026-11-23 11:00:00 UTC"]


def test_a_status_list_is_one_line_per_lifecycle():
    built = run_all(creation(), (BUILD,)).model_dump(mode="json")
    lines = list_lines([built], "main", "ami-creation")
    assert lines == ["1 ami-creation lifecycle on stack tag main, newest first:",
                     f"  {LIFECYCLE_ID}  My Product Name 1.0.0  ami-0123456789abcdef0  hardened  "
                     "(created 2024-05-01 10:00:00 UTC)"]
    assert list_lines([], "main", "ami-patch") == ["No ami-patch lifecycle on stack tag main."]
