"""What the timeline page shows, as display-ready data (pure: no AWS, no HTML).

Every value is already words (event_details.py, display.py); only times travel as ISO 8601 UTC
(`iso_utc`) so the page shows them in the viewer's time zone. Durations are computed here, at
request time: a running event's "so far" grows with each live update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdas.domain.display import EVENT_TITLES, STAGE_WORDS, STATUS_WORDS, duration_between, iso_utc
from lambdas.domain.event_details import event_details
from lambdas.domain.events import EventStatus, LifecycleType
from lambdas.domain.models import EventState, LifecycleRecord
from lambdas.domain.notifications import commands_for, next_step_lines
from lambdas.domain.semver import Version

Row = dict[str, str | None]


def compare_semver(record: LifecycleRecord, latest: str | None, production: str | None) -> str:
    """The version against the latest AMI of the same stack tag *and product* (other products'
    versions count separately: their MAJOR numbers come from their own counter)."""
    where = f"{record.product_name} AMI of stack tag {record.stack_tag}"
    if latest is None:
        text = f"{record.semver}; no {where} is selectable yet"
    else:
        mine, theirs = Version.parse(record.semver), Version.parse(latest)
        if mine == theirs:
            text = f"{record.semver}, the latest {where}"
        else:
            text = f"{record.semver}, {'behind' if mine < theirs else 'ahead of'} {latest}, the latest {where}"
    return text + (f"; in production: {production}" if production else "; none in production yet")


def _row(label: str, text: str | None = None, *, field: str, time: str | None = None) -> Row:
    return {"label": label, "text": text, "field": field, "time": time}


def _header(record: LifecycleRecord, latest: str | None, production: str | None) -> list[Row]:
    patch = record.lifecycle_type is LifecycleType.PATCH
    rows = [
        _row("Lifecycle", record.lifecycle_id, field="lifecycle_id"),
        _row("Type", f"patch run {record.patch_number}" if patch else "creation", field="lifecycle_type"),
        _row("Stack tag", record.stack_tag, field="stack_tag"),
        _row("Product", f"{record.product_name} (product version {record.product_ver})", field="product"),
        _row("Version", compare_semver(record, latest, production), field="semver"),
        _row("Stage reached", STAGE_WORDS[record.stage], field="stage"),
        _row("AMI", f"{record.ami.ami_id} ({record.ami.region})" if record.ami else "not built yet", field="ami"),
    ]
    if record.parent_ami:
        parent = record.parent_ami
        rows.append(_row("Parent AMI", f"{parent.ami_id} ({parent.semver})", field="parent_ami"))
    rows += [
        _row("Owner", record.owner, field="owner"),
        _row("Commit", record.commit_ref, field="commit_ref"),
        _row("Created", field="created_at", time=iso_utc(record.created_at)),
        _row("Last update", field="updated_at", time=iso_utc(record.updated_at)),
    ]
    return rows


def _patch(record: LifecycleRecord) -> list[Row] | None:
    if record.patch is None:
        return None
    component = record.patch.component_s3_uri
    return [
        _row("Change", record.patch.change_description, field="change_description"),
        _row("Version bump", f"{record.patch.semver_bump_type} ({record.parent_ami.semver if record.parent_ami else '?'}"
             f" to {record.semver})", field="semver_bump_type"),
        _row("Component", f"{component.rsplit('/', 1)[-1]} ({component})", field="component"),
    ]


def _event(state: EventState, now: str) -> dict[str, Any]:
    running = state.status is EventStatus.IN_PROGRESS
    started = state.started_at if state.status is not EventStatus.NOT_STARTED else None
    ended = None if running or started is None else state.status_date
    duration = duration_between(started, now if running else ended)
    return {
        "name": state.name.value,
        "title": EVENT_TITLES[state.name],
        "status": state.status.value,
        "status_text": STATUS_WORDS[state.status] if state.enabled or started else "not requested",
        "requested": state.enabled,
        "started_at": iso_utc(started),
        "ended_at": iso_utc(ended),
        "duration": f"{duration} so far" if running and duration else duration,
        "attempt": state.attempt,
        "reason": state.reason,
        "details": [{"label": label, "text": text} for label, text in event_details(state)],
        "earlier_attempts": [
            {"attempt": earlier.attempt, "status": earlier.status.value, "started_at": iso_utc(earlier.started_at),
             "ended_at": iso_utc(earlier.ended_at), "duration": duration_between(earlier.started_at, earlier.ended_at),
             "reason": earlier.reason}
            for earlier in state.earlier_attempts
        ],
    }


def _state(record: LifecycleRecord) -> dict[str, str]:
    running = record.event_in_progress
    if running is not None:
        return {"kind": "running", "text": f"Running: {EVENT_TITLES[running.name]} ({running.name.value})"}
    failed = next((s for s in record.events if s.status in (EventStatus.FAILED, EventStatus.ERROR)), None)
    if failed is not None:
        return {"kind": "failed", "text": f"{failed.status.value}: {EVENT_TITLES[failed.name]} ({failed.name.value})"}
    waiting = next((s for s in record.events if s.status is not EventStatus.COMPLETED), None)
    if waiting is None:
        return {"kind": "done", "text": "Done: every event is completed"}
    return {"kind": "waiting", "text": f"Waiting for: {EVENT_TITLES[waiting.name]} ({waiting.name.value})"}


def timeline_view(record: LifecycleRecord, *, latest: str | None, production: str | None,
                  now: datetime) -> dict[str, Any]:
    """`latest` / `production`: the highest selectable and production semvers of the record's stack
    tag and product (None when there is none)."""
    at = now.isoformat()
    done = sum(state.status is EventStatus.COMPLETED for state in record.events)
    patch = record.lifecycle_type is LifecycleType.PATCH
    return {
        "title": f"{record.product_name} {record.semver}: " + (f"patch run {record.patch_number}" if patch
                                                                 else "creation lifecycle"),
        "state": _state(record),
        "progress": {"done": done, "total": len(record.events),
                     "text": f"{done} of {len(record.events)} events done"},
        "header": _header(record, latest, production),
        "patch": _patch(record),
        "events": [_event(state, at) for state in record.events],
        "next_step": next_step_lines(record, commands_for(record)),
    }
