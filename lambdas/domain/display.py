"""How people read lifecycle values: event titles, stages, times and durations, in one format.

The API stores ISO 8601 UTC (sometimes with microseconds, `Z` or `+00:00`); people read
`2026-12-02 05:46:24 UTC` and `2 min 5 s`. Messages and the CLI print UTC; the pages receive
`iso_utc` values and show them in the viewer's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lambdas.domain.events import EventName, EventStatus, Stage

EVENT_TITLES: dict[EventName, str] = {
    EventName.BUILD_AMI: "Build",
    EventName.SMOKE_TESTS_AMI_CREATE: "Smoke tests",
    EventName.VULNERABILITY_SCANS_AMI_CREATE: "Vulnerability scans",
    EventName.QA_CERTIFICATION_REQUEST: "QA export",
    EventName.QA_CERTIFICATION_RESPONSE: "QA certification",
    EventName.MARK_FOR_PRODUCTION_CREATE: "Production approval",
    EventName.PATCH_AMI: "Patch",
    EventName.SMOKE_TESTS_AMI_PATCH: "Smoke tests",
    EventName.VULNERABILITY_SCANS_AMI_PATCH: "Vulnerability scans",
    EventName.MARK_FOR_PRODUCTION_PATCH: "Production approval",
}
STATUS_WORDS: dict[EventStatus, str] = {
    EventStatus.NOT_STARTED: "not started",
    EventStatus.IN_PROGRESS: "running",
    EventStatus.COMPLETED: "done",
    EventStatus.FAILED: "failed",
    EventStatus.ERROR: "error",
}
STAGE_WORDS: dict[Stage, str] = {
    Stage.NONE: "not built yet",
    Stage.HARDENED: "hardened",
    Stage.SMOKE_TESTED: "smoke-tested",
    Stage.SCANNED: "scanned",
    Stage.QA_REQUESTED: "in QA",
    Stage.QA_CERTIFIED: "QA-certified",
    Stage.PRODUCTION: "production",
}


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_utc(text: str | None) -> str | None:
    """One machine format for the pages: seconds precision, always `Z`."""
    moment = parse_time(text)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def format_time(text: str | None) -> str:
    moment = parse_time(text)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def format_duration(seconds: float) -> str:
    """`<1 s`, `45 s`, `2 min 5 s`, `1 h 3 min`, `2 d 4 h`: the two largest units."""
    total = int(seconds)
    if total < 1:
        return "<1 s"
    parts: list[tuple[int, str]] = []
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if total >= size or parts:
            parts.append((total // size, unit))
            total %= size
    shown = [f"{value} {unit}" for value, unit in parts[:2] if value or unit == parts[0][1]]
    return " ".join(shown)


def duration_between(start: str | None, end: str | None) -> str | None:
    first, last = parse_time(start), parse_time(end)
    if first is None or last is None:
        return None
    return format_duration(max((last - first).total_seconds(), 0.0))


def brief(text: str, limit: int = 240) -> str:
    """One line of at most `limit` characters (a terminal line, not a whole error document)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "\u2026"
