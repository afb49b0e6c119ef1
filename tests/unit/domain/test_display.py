"""How values read: one time format, durations, event details in words, and printed commands."""

import shlex

import pytest

from lambdas.domain.cli_commands import LifecycleCommands, cli_command
from lambdas.domain.display import brief, duration_between, format_duration, format_time, iso_utc
from lambdas.domain.event_details import event_details, findings_text
from lambdas.domain.events import EventName
from lambdas.domain.models import EventState
from lambdas.domain.notifications import qa_request_lines

LC = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"


@pytest.mark.parametrize("stored", ["2026-12-02T05:46:24.123456Z", "2026-12-02T05:46:24+00:00",
                                    "2026-12-02T06:46:24.5+01:00", "2026-12-02T05:46:24"])
def test_every_stored_time_reads_one_way(stored):
    assert format_time(stored) == "2026-12-02 05:46:24 UTC"
    assert iso_utc(stored) == "2026-12-02T05:46:24Z"


@pytest.mark.parametrize(("seconds", "text"), [
    (0.2, "<1 s"), (45, "45 s"), (60, "1 min"), (125, "2 min 5 s"), (3605, "1 h"), (3665, "1 h 1 min"),
    (2 * 86400 + 4 * 3600 + 59, "2 d 4 h"),
])
def test_durations_show_their_two_largest_units(seconds, text):
    assert format_duration(seconds) == text


def test_missing_times_read_as_a_dash_and_no_duration():
    assert format_time(None) == "-" and iso_utc("not a time") is None
    assert duration_between("2026-12-02T05:46:24Z", None) is None
    assert duration_between("2026-12-02T05:46:24Z", "2026-12-02T05:48:29.9Z") == "2 min 5 s"


def test_a_long_text_becomes_one_short_line():
    assert brief("a\n  b") == "a b"
    assert brief("x" * 300, 20) == "x" * 19 + "\u2026"


def test_event_outputs_read_as_words():
    build = EventState(name=EventName.BUILD_AMI, outputs={
        "ami": {"ami_id": "ami-0abc", "region": "us-east-1", "name": "golden"},
        "image_builder": {"image_arn": "arn:aws:imagebuilder:us-east-1:1:image/ami-lc-main/1.0.0/1",
                          "components": ["arn:aws:imagebuilder:us-east-1:1:component/hardening/1.0.0/1"]},
        "new_output_id": ["a", True, None],
    })
    assert event_details(build) == [("AMI", "ami-0abc (us-east-1)"), ("AMI name", "golden"),
                                    ("Image Builder image", "ami-lc-main/1.0.0/1"), ("Components", "hardening"),
                                    ("New output id", "a, yes, -")]
    scan = EventState(name=EventName.VULNERABILITY_SCANS_AMI_PATCH, outputs={
        "findings": {"CRITICAL": 1, "HIGH": 0, "LOW": 4}, "gate": "CRITICAL>0", "gate_passed": False})
    assert event_details(scan) == [("Findings", "1 critical, 4 low"), ("Gate", "failed (fails on CRITICAL>0)")]
    assert findings_text({}) == "none"
    smoke = EventState(name=EventName.SMOKE_TESTS_AMI_CREATE, outputs={"checks": [
        {"name": "sshd", "passed": True}, {"name": "root-login", "passed": False}]})
    assert event_details(smoke) == [("Checks", "1 of 2 passed; failed: root-login")]
    verdict = EventState(name=EventName.MARK_FOR_PRODUCTION_CREATE,
                         properties={"approval_status": "APPROVED", "approver": "ana", "ticket": "OPS-1"})
    assert event_details(verdict) == [("Decision", "APPROVED by ana"), ("ticket", "OPS-1")]
    assert event_details(EventState(name=EventName.SMOKE_TESTS_AMI_CREATE)) == []  # not run: nothing claimed


def test_printed_commands_quote_what_the_shell_would_split():
    command = cli_command("AMI_PATCH", lifecycleId=LC, patchChangeDescription="openssl fix; rm -rf /", wait=True,
                          owner=None)
    assert shlex.split(command)[2:] == ["--operation", "AMI_PATCH", "--lifecycleId", LC,
                                        "--patchChangeDescription", "openssl fix; rm -rf /", "--wait"]
    commands = LifecycleCommands("main", LC, patch=True, program="api-cli")
    assert commands.status() == (f"api-cli --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --stackTag main "
                                 f"--lifecycleId {LC} --lifecycleType ami-patch")
    assert commands.update(EventName.SMOKE_TESTS_AMI_PATCH).endswith("--events SMOKE_TESTS")


def test_the_qa_request_gives_complete_commands():
    lines = qa_request_lines(LC, "main")
    commands = [line.strip() for line in lines if line.startswith("  ")]
    assert commands == [
        f"python3 cli/api-cli.py --operation AMI_QA_EXPORT_LINK --stackTag main --lifecycleId {LC}",
        f"python3 cli/api-cli.py --operation AMI_QA_CERTIFICATION --stackTag main --lifecycleId {LC} "
        "--certificationStatus CERTIFIED",
        f"python3 cli/api-cli.py --operation AMI_QA_CERTIFICATION --stackTag main --lifecycleId {LC} "
        "--certificationStatus FAILED",
    ]
    assert not any("|" in line or "[" in line or "<" in line for line in commands)
