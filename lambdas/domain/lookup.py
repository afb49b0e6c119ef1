"""AMI lookup entries: the consumer-facing index of selectable AMIs.

An AMI that reached stage S is written under the selector of every stage up to S, once for "any
product" and once for its product. Each selector partition is sorted by semver, so "the latest AMI of
a stack tag / product / region that reached stage S" is one Query with Limit=1: it reads one item
whatever the size of the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.domain.events import Stage
from lambdas.domain.models import LifecycleRecord
from lambdas.domain.semver import Version


def selector(stack_tag: str, region: str, stage: Stage, product_name: str | None = None) -> str:
    base = f"{stack_tag}#{region}#{stage.slug}"
    return f"{base}#P#{product_name}" if product_name else base


def rank(semver: str, ami_id: str) -> str:
    return f"{Version.parse(semver).sort_key}#{ami_id}"


@dataclass(frozen=True)
class LookupEntry:
    selector: str
    rank: str
    ami_id: str
    region: str
    semver: str
    stage: str
    stack_tag: str
    product_name: str
    product_ver: str
    commit_ref: str
    lifecycle_id: str
    lifecycle_type: str
    reached_at: str


def entries_for(record: LifecycleRecord, reached_at: str) -> list[LookupEntry]:
    """Every entry that makes the record's AMI selectable at its current stage (none before a build)."""
    if record.ami is None or record.stage is Stage.NONE:
        return []
    ami = record.ami
    entries = []
    for stage in Stage:
        if stage is Stage.NONE or stage > record.stage:
            continue
        for product in (None, record.product_name):
            entries.append(
                LookupEntry(
                    selector=selector(record.stack_tag, ami.region, stage, product),
                    rank=rank(record.semver, ami.ami_id),
                    ami_id=ami.ami_id,
                    region=ami.region,
                    semver=record.semver,
                    stage=stage.slug,
                    stack_tag=record.stack_tag,
                    product_name=record.product_name,
                    product_ver=record.product_ver,
                    commit_ref=record.commit_ref,
                    lifecycle_id=record.lifecycle_id,
                    lifecycle_type=record.lifecycle_type.value,
                    reached_at=reached_at,
                )
            )
    return entries
