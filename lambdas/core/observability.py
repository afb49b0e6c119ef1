"""Logger and metrics singletons shared by every handler (never instantiate them elsewhere)."""

from __future__ import annotations

import os
from datetime import datetime

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "AmiLifecycle"
_SERVICE_ENV = "POWERTOOLS_SERVICE_NAME"


class _FunctionLogger(Logger):
    """Names each invocation's log lines after the function that runs it.

    Powertools reads POWERTOOLS_SERVICE_NAME once, when the logger is built. On AWS every function
    has a process of its own, so that is enough; the local cloud runs every function in one process
    and applies each function's environment per invocation, so the name is read again whenever a
    handler starts (inject_lambda_context(clear_state=True) rebuilds the keys here).
    """

    def structure_logs(self, append: bool = False, formatter_options: dict | None = None, **keys: object) -> None:
        service = os.environ.get(_SERVICE_ENV)
        if service and service != self.service:
            self.service = service
            self._default_log_keys["service"] = service
        super().structure_logs(append=append, formatter_options=formatter_options, **keys)


class _QuietEmfProvider(AmazonCloudWatchEMFProvider):
    """Publishes only when a handler measured something: most invocations add no metric, and
    Powertools would warn about each of them ("No application metrics to publish")."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if not self.metric_set and not raise_on_empty_metrics:
            return
        self.service = os.environ.get(_SERVICE_ENV) or self.service  # same reason as _FunctionLogger
        super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)


logger = _FunctionLogger()
# Explicit namespace, so a process that imported this before its environment was set still emits valid EMF.
metrics = Metrics(namespace=NAMESPACE, provider=_QuietEmfProvider(namespace=NAMESPACE))


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
