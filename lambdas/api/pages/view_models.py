"""The JSON the timeline and dashboard data routes answer (what timeline_view / dashboard_view build).

The data routes validate each view into these models, so the documented schema is the one served.
Built on first use (defer_build): the read function's other routes never need them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Row(View):
    label: str
    text: str | None
    field: str = Field(description="Stable name of the row, for scripts.")
    time: str | None = Field(description="ISO 8601 UTC; the page shows it in the viewer's time zone.")


class Detail(View):
    label: str
    text: str


class StateLine(View):
    kind: str = Field(description="running, failed, waiting or done.")
    text: str


class Progress(View):
    done: int
    total: int
    text: str


class EarlierAttempt(View):
    attempt: int
    status: str
    started_at: str | None
    ended_at: str | None
    duration: str | None
    reason: str | None


class TimelineEvent(View):
    name: str
    title: str
    status: str
    status_text: str
    requested: bool
    started_at: str | None
    ended_at: str | None
    duration: str | None
    attempt: int
    reason: str | None
    details: list[Detail]
    earlier_attempts: list[EarlierAttempt]


class TimelineView(View):
    title: str
    state: StateLine
    progress: Progress
    header: list[Row]
    patch: list[Row] | None = Field(description="The patch run's change, bump and component; null for a creation.")
    events: list[TimelineEvent]
    next_step: list[str]


class Label(View):
    label: str
    text: str


class Column(View):
    key: str
    title: str


class VersionCell(View):
    semver: str
    ami: str | None
    note: str
    lifecycle_id: str


class Cell(View):
    column: str
    versions: list[VersionCell]


class FindingsPoint(View):
    semver: str
    text: str


class Product(View):
    name: str
    cells: list[Cell]
    findings: list[FindingsPoint]


class InFlight(View):
    product: str
    semver: str
    kind: str
    event: str
    title: str
    attempt: int
    started_at: str | None
    running_for: str | None
    lifecycle_id: str


class Failure(View):
    product: str
    semver: str
    kind: str
    event: str
    title: str
    status: str
    at: str | None
    reason: str
    lifecycle_id: str


class DashboardView(View):
    title: str
    stack_tag: str
    summary: list[Label]
    columns: list[Column]
    products: list[Product]
    in_flight: list[InFlight]
    failures: list[Failure]
    note: str | None
