"""Wires the orchestrator to its AWS adapters (clients are created lazily, on first use)."""

from __future__ import annotations

from functools import cache

from lambdas.adapters.ec2_resources import AmiTagger, TestInstances
from lambdas.adapters.lifecycle_repository import LifecycleRepository
from lambdas.adapters.lookup_repository import LookupRepository
from lambdas.adapters.notifier import Notifier
from lambdas.adapters.patch_components import PatchComponents
from lambdas.adapters.semver_seed import SemverSeed
from lambdas.adapters.workflow_starter import WorkflowStarter
from lambdas.core.settings import Settings, get_settings
from lambdas.orchestrator.service import Orchestrator


def build_orchestrator(settings: Settings) -> Orchestrator:
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


def reset() -> None:
    """Forget the cached settings and orchestrator (tests change the environment between cases)."""
    get_settings.cache_clear()
    get_orchestrator.cache_clear()
