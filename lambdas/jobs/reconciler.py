"""Scheduled: events whose execution ended (or never began) without a recorded result become ERROR."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger, metrics
from lambdas.orchestrator.factory import get_orchestrator


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    marked = get_orchestrator().reconcile()
    # Every few minutes, and usually with nothing to do: INFO only when it changed something.
    log = logger.info if marked else logger.debug
    log("reconciliation done", extra={"marked_error": len(marked)})
    return {"marked_error": [{"lifecycle_id": lifecycle_id, "event": name.value} for lifecycle_id, name in marked]}
