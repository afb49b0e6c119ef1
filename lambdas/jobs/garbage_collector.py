"""Scheduled: terminate this deployment's test instances that outlived the configured limit."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger, metrics
from lambdas.orchestrator.factory import get_orchestrator


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    terminated = get_orchestrator().collect_garbage()
    # Hourly, and usually with nothing to do: INFO only when it terminated something.
    log = logger.info if terminated else logger.debug
    log("garbage collection done", extra={"terminated": terminated})
    return {"terminated": terminated}
