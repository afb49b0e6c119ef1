"""A retried event keeps each failed attempt's times and reason (the timeline shows them)."""

from lambdas.domain import rules
from lambdas.domain.events import CREATION_SEQUENCE, EventStatus
from lambdas.domain.models import Attempt
from tests.unit.domain.factories import creation, run

BUILD, SMOKE = CREATION_SEQUENCE[:2]


def test_a_retry_keeps_the_failed_attempt():
    record = creation()
    run(record, BUILD)
    rules.begin_event(record, SMOKE, "2024-05-01T11:00:00Z")
    rules.apply_result(record, SMOKE, attempt=1, status=EventStatus.FAILED, status_date="2024-05-01T11:05:00Z",
                       reason="sshd: root login allowed")
    rules.begin_event(record, SMOKE, "2024-05-01T12:00:00Z")
    state = record.event(SMOKE)
    assert (state.attempt, state.status, state.reason) == (2, EventStatus.IN_PROGRESS, None)
    assert state.earlier_attempts == [Attempt(attempt=1, status=EventStatus.FAILED, started_at="2024-05-01T11:00:00Z",
                                              ended_at="2024-05-01T11:05:00Z", reason="sshd: root login allowed")]


def test_only_failed_attempts_are_kept_and_only_the_last_ten():
    record = creation()
    rules.begin_event(record, BUILD, "2024-05-01T10:00:00Z")
    assert record.event(BUILD).earlier_attempts == []  # a first start has no history
    for attempt in range(1, 13):
        rules.apply_result(record, BUILD, attempt=attempt, status=EventStatus.ERROR,
                           status_date=f"2024-05-01T10:{attempt:02d}:00Z", reason=f"boom {attempt}")
        rules.begin_event(record, BUILD, f"2024-05-01T10:{attempt:02d}:30Z")
    kept = record.event(BUILD).earlier_attempts
    assert [earlier.attempt for earlier in kept] == list(range(3, 13))
