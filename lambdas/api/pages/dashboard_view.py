"""What the fleet dashboard of one stack tag shows, as display-ready data (pure: no AWS, no HTML).

Each creation record and each patch run is one version of a product. A version sits in exactly one
column: failed or rejected when its latest verdict said no, else the furthest stage it reached
(a version still running shows in its current column and among the lifecycles in flight).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from lambdas.domain.display import EVENT_TITLES, duration_between, iso_utc
from lambdas.domain.event_details import findings_text
from lambdas.domain.events import EventName, EventStatus, LifecycleType, Stage
from lambdas.domain.models import LifecycleRecord
from lambdas.domain.semver import Version

COLUMNS: tuple[tuple[str, str], ...] = (
    ("production", "Production"),
    ("approval", "Awaiting approval"),
    ("qa", "In QA"),
    ("tested", "Tested"),
    ("hardened", "Hardened"),
    ("building", "Building"),
    ("failed", "Failed or rejected"),
)
_COLUMN_OF_STAGE = {
    Stage.PRODUCTION: "production",
    Stage.QA_CERTIFIED: "approval",
    Stage.QA_REQUESTED: "qa",
    Stage.SCANNED: "tested",
    Stage.SMOKE_TESTED: "tested",
    Stage.HARDENED: "hardened",
    Stage.NONE: "building",
}
_SCANS = (EventName.VULNERABILITY_SCANS_AMI_CREATE, EventName.VULNERABILITY_SCANS_AMI_PATCH)
MAX_FAILURES = 10
MAX_TREND = 8


def _failure(record: LifecycleRecord) -> Any:
    if record.event_in_progress is not None:
        return None
    return next((s for s in record.events if s.status in (EventStatus.FAILED, EventStatus.ERROR)), None)


def _column(record: LifecycleRecord) -> str:
    return "failed" if _failure(record) is not None else _COLUMN_OF_STAGE[record.stage]


def _label(record: LifecycleRecord) -> str:
    return f"patch run {record.patch_number}" if record.lifecycle_type is LifecycleType.PATCH else "creation"


def _version(record: LifecycleRecord) -> dict[str, Any]:
    failed = _failure(record)
    running = record.event_in_progress
    note = _label(record)
    if running is not None:
        note += f", running {EVENT_TITLES[running.name].lower()}"
    elif failed is not None:
        rejected = failed.properties.get("approval_status") == "NOT_APPROVED"
        note += f", {'rejected' if rejected else failed.status.value.lower()} at {EVENT_TITLES[failed.name].lower()}"
    return {"semver": record.semver, "ami": record.ami.ami_id if record.ami else None, "note": note,
            "lifecycle_id": record.lifecycle_id}


def _trend(records: list[LifecycleRecord]) -> list[dict[str, str]]:
    """Scan findings per version, oldest version first: is each new version cleaner?"""
    points = []
    for record in records:
        scan = next((s for s in record.events if s.name in _SCANS and s.outputs.get("findings") is not None), None)
        if scan is not None:
            points.append((Version.parse(record.semver), {"semver": record.semver,
                                                         "text": findings_text(scan.outputs["findings"])}))
    return [point for _, point in sorted(points, key=lambda item: item[0])][-MAX_TREND:]


def _product(name: str, records: list[LifecycleRecord]) -> dict[str, Any]:
    ordered = sorted(records, key=lambda record: Version.parse(record.semver), reverse=True)
    cells: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in COLUMNS}
    for record in ordered:
        cells[_column(record)].append(_version(record))
    return {"name": name, "cells": [{"column": key, "versions": cells[key]} for key, _ in COLUMNS],
            "findings": _trend(ordered)}


def _in_flight(record: LifecycleRecord, now: str) -> dict[str, Any] | None:
    running = record.event_in_progress
    if running is None:
        return None
    return {"product": record.product_name, "semver": record.semver, "kind": _label(record),
            "event": running.name.value, "title": EVENT_TITLES[running.name], "attempt": running.attempt,
            "started_at": iso_utc(running.started_at), "running_for": duration_between(running.started_at, now),
            "lifecycle_id": record.lifecycle_id}


def _failures(records: list[LifecycleRecord]) -> list[dict[str, Any]]:
    found = [
        {"product": record.product_name, "semver": record.semver, "kind": _label(record), "event": state.name.value,
         "title": EVENT_TITLES[state.name], "status": state.status.value, "at": iso_utc(state.status_date),
         "reason": state.reason or "no reason recorded", "lifecycle_id": record.lifecycle_id}
        for record in records for state in record.events if state.status in (EventStatus.FAILED, EventStatus.ERROR)
    ]
    return sorted(found, key=lambda failure: failure["at"] or "", reverse=True)[:MAX_FAILURES]


def dashboard_view(stack_tag: str, records: list[LifecycleRecord], *, complete: bool, now: datetime) -> dict[str, Any]:
    """`records`: the stack tag's creation records and patch runs, newest first; `complete` is False
    when only the newest were read."""
    at = now.isoformat()
    by_product: dict[str, list[LifecycleRecord]] = defaultdict(list)
    for record in records:
        by_product[record.product_name].append(record)
    in_flight = [item for record in records if (item := _in_flight(record, at)) is not None]
    failures = _failures(records)
    return {
        "title": f"Fleet dashboard: stack tag {stack_tag}",
        "stack_tag": stack_tag,
        "summary": [
            {"label": "Products", "text": str(len(by_product))},
            {"label": "Versions", "text": str(len(records))},
            {"label": "In flight", "text": str(len(in_flight))},
            {"label": "In production", "text": str(sum(_column(r) == "production" for r in records))},
            {"label": "Failed or rejected", "text": str(sum(_column(r) == "failed" for r in records))},
        ],
        "columns": [{"key": key, "title": title} for key, title in COLUMNS],
        "products": [_product(name, items) for name, items in sorted(by_product.items())],
        "in_flight": in_flight,
        "failures": failures,
        "note": None if complete else "Only the newest lifecycles are shown: this stack tag has more.",
    }
