import re

import pytest

from lambdas.domain import rules
from lambdas.domain.events import CREATION_SEQUENCE, PATCH_SEQUENCE, EventStatus
from lambdas.domain.models import NotificationTarget
from lambdas.domain.notifications import Severity, chain_paused_notification, event_notification, started_notification
from tests.unit.domain.factories import LIFECYCLE_ID, creation, patch, run, run_all

BUILD, SMOKE, SCAN, QA_REQUEST, QA_RESPONSE, PRODUCTION = CREATION_SEQUENCE
TARGETS = [
    NotificationTarget(method="EMAIL", target="user@domain.com"),
    NotificationTarget(method="HTTPS", target="https://hooks.example.com/ami"),
]
CLI = "python3 cli/api-cli.py"
STATUS_COMMAND = f"  {CLI} --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --stackTag main --lifecycleId {LIFECYCLE_ID}"
TIMELINE_COMMAND = f"  {CLI} --operation AMI_TIMELINE_CREATE --stackTag main --lifecycleId {LIFECYCLE_ID}"


def test_a_notification_says_what_happened_and_how_to_look():
    record = run_all(creation(notifications=TARGETS), (BUILD,))
    note = event_notification(record, BUILD, EventStatus.COMPLETED)
    assert note.subject == "[AMI lifecycle] BUILD_AMI COMPLETED - My Product Name 1.0.0"
    assert f"lifecycle {LIFECYCLE_ID} (stack tag main): BUILD_AMI is COMPLETED" in note.message
    assert note.message.splitlines()[-3:] == [
        "To look at the lifecycle (from the root of a checkout of the orchestrator repository):",
        STATUS_COMMAND, TIMELINE_COMMAND]
    assert "When:      2024-05-01 11:00:00 UTC" in note.message.splitlines()
    assert (note.lifecycle_id, note.stack_tag, note.event, note.status) == (
        LIFECYCLE_ID, "main", "BUILD_AMI", "COMPLETED")


def test_recipients_are_the_target_ids_of_the_lifecycle_targets():
    record = creation(notifications=TARGETS)
    note = event_notification(record, BUILD, EventStatus.COMPLETED)
    assert note.recipients == tuple(target.target_id for target in TARGETS)
    assert all(recipient.startswith("t-") and "@" not in recipient for recipient in note.recipients)


def test_a_start_is_sent_only_to_the_targets_that_asked_for_starts():
    assert started_notification(creation(notifications=TARGETS), BUILD) is None  # the default: outcomes only
    wants_starts = NotificationTarget(method="EMAIL", target="watcher@domain.com", in_progress=True)
    record = creation(notifications=[*TARGETS, wants_starts])
    note = started_notification(record, BUILD)
    assert note is not None and note.status == "IN_PROGRESS" and note.recipients == (wants_starts.target_id,)
    assert wants_starts.target_id == NotificationTarget(method="EMAIL", target="watcher@domain.com").target_id


def test_a_notification_never_carries_a_key():
    record = run_all(creation(notifications=TARGETS, properties={"team": "platform"}), CREATION_SEQUENCE[:4])
    for name in CREATION_SEQUENCE[:4]:
        note = event_notification(record, name, EventStatus.COMPLETED, detail="see the timeline")
        for text in (note.message, note.subject):
            assert "x-api-key" not in text.lower()
            assert "api_key" not in text.lower()
            assert not re.search(r"https?://\S*\?", text)  # no URL with a query string


def test_the_subject_fits_the_sns_limit():
    record = creation(product_name="A very long product name " * 10)
    for status in (EventStatus.IN_PROGRESS, EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.ERROR):
        note = event_notification(record, CREATION_SEQUENCE[2], status)
        assert len(note.subject) <= 100
        assert note.subject.startswith("[AMI lifecycle] VULNERABILITY_SCANS_AMI_CREATE")


@pytest.mark.parametrize(("status", "severity"), [
    (EventStatus.IN_PROGRESS, Severity.INFO),
    (EventStatus.COMPLETED, Severity.INFO),
    (EventStatus.FAILED, Severity.WARNING),
    (EventStatus.ERROR, Severity.ERROR),
])
def test_severity_follows_the_status(status, severity):
    assert event_notification(creation(), BUILD, status).severity is severity


def test_the_reason_of_a_failure_is_in_the_message():
    record = creation()
    run(record, BUILD, EventStatus.FAILED)
    record.event(BUILD).reason = "recipe step 3 failed"
    assert "Reason:    recipe step 3 failed" in event_notification(record, BUILD, EventStatus.FAILED).message


def test_a_patch_notification_names_the_run():
    record = run_all(patch(patch_number=2), (PATCH_SEQUENCE[0],))
    note = event_notification(record, PATCH_SEQUENCE[0], EventStatus.COMPLETED)
    assert "AMI patch lifecycle" in note.message
    assert "Patch run: 2" in note.message
    assert "Semver:    1.1.0" in note.message


def test_a_paused_chain_says_what_it_waits_for():
    record = run_all(creation(), CREATION_SEQUENCE[:4])
    assert f"  {CLI} --operation AMI_QA_CERTIFICATION --stackTag main --lifecycleId {LIFECYCLE_ID} " \
           "--certificationStatus CERTIFIED" in chain_paused_notification(record, QA_REQUEST).message.splitlines()
    rules.record_manual_verdict(record, QA_RESPONSE, status=EventStatus.COMPLETED, now="2024-05-02T00:00:00Z",
                                properties={})
    assert f"  {CLI} --operation AMI_APPROVAL_CREATE --stackTag main --lifecycleId {LIFECYCLE_ID} " \
           "--approvalStatusAmiCreation APPROVED" in chain_paused_notification(record, QA_RESPONSE).message.splitlines()
    run(record, PRODUCTION)
    done = chain_paused_notification(record, PRODUCTION).message.splitlines()
    assert "Every event is COMPLETED: the AMI is in production. Consumers select it with:" in done
    assert "  bash client/get_ami.sh --stackTag main --minStage production" in done


def test_a_chain_paused_at_an_event_not_requested_says_how_to_continue():
    record = run_all(creation(enabled=(BUILD,)), (BUILD,))
    note = chain_paused_notification(record, BUILD)
    lines = note.message.splitlines()
    assert "Next: SMOKE_TESTS_AMI_CREATE was not requested. To run it:" in lines
    assert f"  {CLI} --operation AMI_CREATE_UPDATE --stackTag main --lifecycleId {LIFECYCLE_ID} " \
           "--events SMOKE_TESTS" in lines
    assert note.event == "BUILD_AMI" and note.status == "COMPLETED"


def test_a_failure_says_how_to_retry_and_a_rejection_that_it_is_final():
    record = creation()
    run(record, BUILD, EventStatus.FAILED)
    lines = event_notification(record, BUILD, EventStatus.FAILED).message.splitlines()
    assert lines[lines.index("To retry BUILD_AMI:") + 1] == (
        f"  {CLI} --operation AMI_CREATE_UPDATE --stackTag main --lifecycleId {LIFECYCLE_ID}")
    rejected = run_all(creation(), CREATION_SEQUENCE[:4])
    rules.record_manual_verdict(rejected, QA_RESPONSE, status=EventStatus.COMPLETED, now="2024-05-02T00:00:00Z",
                                properties={})
    rules.record_manual_verdict(rejected, PRODUCTION, status=EventStatus.FAILED, now="2024-05-02T00:00:00Z",
                                properties={"approval_status": "NOT_APPROVED", "approver": "ana"})
    message = event_notification(rejected, PRODUCTION, EventStatus.FAILED).message
    assert "A rejected AMI stays rejected: patch its parent again or create a new lifecycle." in message
    assert "AMI_CREATE_UPDATE" not in message
