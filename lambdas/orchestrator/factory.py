"""Wires the use cases to their AWS adapters (clients are created lazily, on first use).

A read route needs only the two tables: `get_repository` / `get_lookup` serve it without importing
the orchestrator's adapters (workflows, notifier, EC2, S3) at cold start.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from lambdas.adapters.lifecycle_repository import LifecycleRepository
from lambdas.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from lambdas.adapters.lookup_repository import LookupRepository
    from lambdas.orchestrator.service import Orchestrator


def build_orchestrator(settings: Settings) -> Orchestrator:
    # Imported here: only the write routes, receivers and jobs need the whole dependency tree.
    from lambdas.adapters.ec2_resources import AmiTagger, TestInstances
    from lambdas.adapters.lookup_repository import LookupRepository
    from lambdas.adapters.notifier import Notifier
    from lambdas.adapters.patch_components import PatchComponents
    from lambdas.adapters.semver_seed import SemverSeed
    from lambdas.adapters.workflow_starter import WorkflowStarter
    from lambdas.orchestrator.service import Orchestrator

    return Orchestrator(
        settings=settings,
        repository=LifecycleRepository(settings.lifecycle_table),
        lookup=LookupRepository(settings.lookup_table),
        seeds=SemverSeed(settings.semver_seed_table),
        workflows=WorkflowStarter(),
        notifier=Notifier(settings.notification_topic_arn),
        tagger=AmiTagger(),
        components=PatchComponents(),
        instances=TestInstances(),
    )


@cache
def get_orchestrator() -> Orchestrator:
    return build_orchestrator(get_settings())


@cache
def get_repository() -> LifecycleRepository:
    return LifecycleRepository(get_settings().lifecycle_table)


@cache
def get_lookup() -> LookupRepository:
    from lambdas.adapters.lookup_repository import LookupRepository

    return LookupRepository(get_settings().lookup_table)


def reset() -> None:
    """Forget the cached settings and adapters (tests change the environment between cases)."""
    get_settings.cache_clear()
    get_orchestrator.cache_clear()
    get_repository.cache_clear()
    get_lookup.cache_clear()
