"""Logger and metrics singletons shared by every handler (never instantiate them elsewhere)."""

from __future__ import annotations

import os
from datetime import datetime

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "AmiLifecycle"
logger = Logger()
# Explicit, so a process that imported this before its environment was set still emits valid EMF.
metrics = Metrics(namespace=NAMESPACE)


def _seconds_between(start: str, end: str) -> float:
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return max((parse(end) - parse(start)).total_seconds(), 0.0)


def record_event_outcome(event: str, status: str, started_at: str | None, ended_at: str | None) -> None:
    """EMF metrics per event and status: a count and, when both ends are known, the duration."""
    # single_metric: each record of a batch can carry its own dimensions without clashing.
    with single_metric(name="EventOutcome", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension(name="event", value=event)
        metric.add_dimension(name="status", value=status)
    if started_at and ended_at:
        with single_metric(name="EventDuration", unit=MetricUnit.Seconds,
                           value=_seconds_between(started_at, ended_at), namespace=NAMESPACE) as metric:
            metric.add_dimension(name="event", value=event)
            metric.add_dimension(name="status", value=status)
