"""Read use cases of the pages: what a timeline and the fleet dashboard need from the tables.

Reads only: GetItem of the lifecycle (and its latest patch run), two Limit=1 lookup Queries for the
version comparison, and for the dashboard a bounded number of pages of the `by_stack_tag` index
(never a Scan).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambdas.domain.errors import Conflict
from lambdas.domain.events import LifecycleType, Stage
from lambdas.domain.lookup import selector
from lambdas.domain.models import LifecycleRecord

if TYPE_CHECKING:
    from lambdas.adapters.lifecycle_repository import LifecycleRepository
    from lambdas.adapters.lookup_repository import LookupRepository

DASHBOARD_PAGE_SIZE = 100
DASHBOARD_MAX_PAGES = 3  # per lifecycle type: the newest 300 creations and 300 patch runs


@dataclass(frozen=True)
class TimelineFacts:
    record: LifecycleRecord
    latest: str | None  # highest selectable semver of the record's stack tag and product
    production: str | None  # highest production semver of the same


def lifecycle_record(repository: LifecycleRepository, lifecycle_type: LifecycleType, lifecycle_id: str) -> LifecycleRecord:
    """The creation record, or the latest patch run of the lifecycle."""
    creation = repository.get(lifecycle_id)
    if lifecycle_type is LifecycleType.CREATION:
        return creation
    if not creation.patch_count:
        raise Conflict(f"lifecycle {lifecycle_id} has no patch run")
    return repository.get(lifecycle_id, creation.patch_count)


def timeline_facts(repository: LifecycleRepository, lookup: LookupRepository, lifecycle_type: LifecycleType,
                   lifecycle_id: str) -> TimelineFacts:
    record = lifecycle_record(repository, lifecycle_type, lifecycle_id)
    # Before the build there is no AMI region yet: the deployment's own region (set by Lambda).
    region = record.ami.region if record.ami else os.environ.get("AWS_REGION", "")

    def highest(stage: Stage) -> str | None:
        entry = lookup.latest(selector(record.stack_tag, region, stage, record.product_name))
        return entry["semver"] if entry else None

    return TimelineFacts(record, highest(Stage.HARDENED), highest(Stage.PRODUCTION))


def fleet_records(repository: LifecycleRepository, stack_tag: str) -> tuple[list[LifecycleRecord], bool]:
    """The stack tag's creation records and patch runs, newest first; False when there are more."""
    records: list[LifecycleRecord] = []
    complete = True
    for lifecycle_type in LifecycleType:
        cursor: str | None = None
        for _ in range(DASHBOARD_MAX_PAGES):
            page, cursor = repository.list_by_stack_tag(
                stack_tag, lifecycle_type, limit=DASHBOARD_PAGE_SIZE, cursor=cursor)
            records += page
            if not cursor:
                break
        complete = complete and not cursor
    return sorted(records, key=lambda record: record.created_at, reverse=True), complete
