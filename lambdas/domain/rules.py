"""Lifecycle rules: ordering, immutability, single execution, retries, results and stage scoring.

Pure functions over `LifecycleRecord`; the orchestrator persists what they change with a conditional
write, so a rule checked here still holds when the write lands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lambdas.domain.contracts import BuildOutputs
from lambdas.domain.errors import Conflict, InvalidRequest
from lambdas.domain.events import (
    AUTOMATIC_CREATION_EVENTS,
    AUTOMATIC_PATCH_EVENTS,
    EVENT_CODE,
    STAGE_REACHED,
    EventName,
    EventStatus,
    LifecycleType,
)
from lambdas.domain.models import Attempt, EventState, LifecycleRecord

RETRYABLE = frozenset({EventStatus.NOT_STARTED, EventStatus.FAILED, EventStatus.ERROR})


def automatic_events(lifecycle_type: LifecycleType) -> tuple[EventName, ...]:
    return AUTOMATIC_CREATION_EVENTS if lifecycle_type is LifecycleType.CREATION else AUTOMATIC_PATCH_EVENTS


def validate_enabled_events(lifecycle_type: LifecycleType, enabled: Mapping[EventName, bool]) -> set[EventName]:
    """Enabled automatic events must form a prefix of the sequence: a gap would stall the chain."""
    allowed = automatic_events(lifecycle_type)
    unknown = [name.value for name in enabled if name not in allowed]
    if unknown:
        raise InvalidRequest(
            f"events: {', '.join(unknown)} cannot be requested on a {lifecycle_type.value} lifecycle; "
            f"allowed: {', '.join(name.value for name in allowed)}"
        )
    chosen = {name for name, on in enabled.items() if on}
    for earlier, later in zip(allowed, allowed[1:], strict=False):
        if later in chosen and earlier not in chosen:
            raise InvalidRequest(f"events: {later.value} is enabled but the earlier {earlier.value} is not")
    return chosen


def apply_event_selection(record: LifecycleRecord, enabled: Mapping[EventName, bool]) -> None:
    """Apply a PUT's event switches; a completed event is immutable and cannot be switched off."""
    allowed = automatic_events(record.lifecycle_type)
    refused = [name.value for name in enabled if name not in allowed]
    if refused:
        # Certification and approval are always possible: they are given through their own routes.
        raise InvalidRequest(
            f"events: {', '.join(refused)} cannot be requested on a {record.lifecycle_type.value} lifecycle; "
            f"allowed: {', '.join(name.value for name in allowed)}"
        )
    for name, on in enabled.items():
        state = record.event(name)
        if not on and state.status is EventStatus.COMPLETED:
            raise Conflict(f"{name.value} is COMPLETED and immutable; it cannot be disabled")
        if not on and state.status is EventStatus.IN_PROGRESS:
            raise Conflict(f"{name.value} is IN_PROGRESS; it cannot be disabled")
        state.enabled = on
    # A disabled event with completed successors would break the order rule.
    validate_enabled_events(record.lifecycle_type, {
        name: record.event(name).enabled for name in automatic_events(record.lifecycle_type)
    })


def ensure_can_start(record: LifecycleRecord, name: EventName) -> EventState:
    state = record.event(name)
    if state.status is EventStatus.COMPLETED:
        raise Conflict(f"{name.value} is COMPLETED and immutable")
    if state.properties.get("approval_status") == "NOT_APPROVED":
        raise Conflict(
            f"{name.value}: this AMI was NOT_APPROVED by {state.properties.get('approver', 'an approver')}; a rejected "
            "AMI stays rejected: patch it or create a new lifecycle"
        )
    running = record.event_in_progress
    if running is not None:
        raise Conflict(f"{running.name.value} is IN_PROGRESS; wait for its result before starting {name.value}")
    if not state.enabled:
        raise Conflict(f"{name.value} is not enabled on lifecycle {record.lifecycle_id}")
    for earlier in record.events:
        if earlier.name is name:
            break
        if earlier.status is not EventStatus.COMPLETED:
            raise Conflict(
                f"{name.value} needs {earlier.name.value} COMPLETED first (it is {earlier.status.value})"
            )
    return state


def next_automatic_event(record: LifecycleRecord, *, retry_failed: bool) -> EventName | None:
    """The event the chain should start now, if any.

    Results chain only into NOT_STARTED events; a FAILED or ERROR event waits for an explicit
    retry (a PUT), which passes `retry_failed=True`.
    """
    automatic = automatic_events(record.lifecycle_type)
    for state in record.events:
        if state.status is EventStatus.COMPLETED:
            continue
        if state.status is EventStatus.IN_PROGRESS or state.name not in automatic or not state.enabled:
            return None
        if state.status is not EventStatus.NOT_STARTED and not retry_failed:
            return None
        return state.name
    return None


def execution_name(record: LifecycleRecord, name: EventName, attempt: int) -> str:
    """Deterministic per attempt: Step Functions refuses a second execution with the same name."""
    patch = f"p{record.patch_number:04d}-" if record.patch_number else ""
    return f"{record.lifecycle_id}-{patch}{EVENT_CODE[name]}-{attempt}"


MAX_EARLIER_ATTEMPTS = 10  # keeps a retried-forever event's item small


def _keep_failed_attempt(state: EventState) -> None:
    """A retry overwrites the event's dates and reason: keep the failed attempt's for the timeline."""
    if state.status in (EventStatus.FAILED, EventStatus.ERROR):
        state.earlier_attempts.append(Attempt(
            attempt=state.attempt, status=state.status, started_at=state.started_at, ended_at=state.status_date,
            reason=state.reason,
        ))
        del state.earlier_attempts[:-MAX_EARLIER_ATTEMPTS]


def begin_event(record: LifecycleRecord, name: EventName, now: str) -> EventState:
    state = ensure_can_start(record, name)
    _keep_failed_attempt(state)
    state.attempt += 1
    state.status = EventStatus.IN_PROGRESS
    state.started_at = now
    state.status_date = now
    state.execution_name = execution_name(record, name, state.attempt)
    state.reason = None
    state.outputs = {}
    return state


def apply_result(
    record: LifecycleRecord,
    name: EventName,
    *,
    attempt: int,
    status: EventStatus,
    status_date: str,
    outputs: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> bool:
    """Record the verdict of the attempt in progress. False when it is a duplicate or stale message."""
    state = record.event(name)
    if state.status is not EventStatus.IN_PROGRESS or state.attempt != attempt:
        return False
    _settle(record, state, status=status, status_date=status_date, outputs=outputs, reason=reason)
    return True


def record_manual_verdict(
    record: LifecycleRecord,
    name: EventName,
    *,
    status: EventStatus,
    now: str,
    properties: Mapping[str, str],
    reason: str | None = None,
) -> EventState:
    """A verdict given through the API (QA certification, a NOT_APPROVED approval)."""
    state = ensure_can_start(record, name)
    _keep_failed_attempt(state)
    state.attempt += 1
    state.started_at = now
    state.execution_name = None
    _settle(record, state, status=status, status_date=now, outputs={}, reason=reason)
    state.properties = dict(properties)
    return state


def _settle(
    record: LifecycleRecord,
    state: EventState,
    *,
    status: EventStatus,
    status_date: str,
    outputs: Mapping[str, Any] | None,
    reason: str | None,
) -> None:
    if status not in {EventStatus.COMPLETED, EventStatus.FAILED, EventStatus.ERROR}:
        raise ValueError(f"{status.value} is not a verdict")
    state.status = status
    state.status_date = status_date
    state.outputs = dict(outputs or {})
    state.reason = reason
    if status is EventStatus.COMPLETED:
        if state.name in (EventName.BUILD_AMI, EventName.PATCH_AMI):
            built = BuildOutputs.model_validate(state.outputs).ami
            record.ami = built.model_copy(update={"semver": record.semver})
        # Only a succeeded event raises the stage: a FAILED or NOT_APPROVED verdict never does.
        record.stage = max(record.stage, STAGE_REACHED[state.name])
    record.updated_at = status_date


def enabled_map(names: Iterable[tuple[EventName, bool]]) -> dict[EventName, bool]:
    result: dict[EventName, bool] = {}
    for name, on in names:
        if name in result:
            raise InvalidRequest(f"events: {name.value} is listed twice")
        result[name] = on
    return result
