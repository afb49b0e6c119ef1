"""What every step handler shares: the step dispatcher, input checks and the verdict shape.

One Lambda function serves one workflow; the state machine names the step in the payload
(`{"step": "...", ...}`). A handler module maps step names to plain functions of the payload, so
each function is testable without Lambda and the state machine stays the only orchestrator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdas.core.observability import logger
from lambdas.steps.errors import InvalidStepInput

Step = Callable[[dict[str, Any]], dict[str, Any]]


def step_handler(steps: dict[str, Step]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Build a Lambda handler that runs the step the payload names."""

    # log_event stays off: payloads carry task tokens and must not reach the logs.
    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        name = event.get("step")
        step = steps.get(name or "")
        if step is None:
            raise InvalidStepInput(f"unknown step {name!r}; expected one of {sorted(steps)}")
        logger.append_keys(step=name, lifecycle_id=event.get("lifecycle_id"))
        return step(event)

    return lambda_handler


def verdict(status: str, outputs: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
    """The part of a WorkflowResult a step decides; the state machine adds input and date."""
    return {"status": status, "outputs": outputs, "reason": reason}


def require(event: dict[str, Any], *names: str) -> list[Any]:
    missing = [name for name in names if event.get(name) in (None, "")]
    if missing:
        raise InvalidStepInput(f"step {event.get('step')!r} needs {', '.join(missing)}")
    return [event[name] for name in names]
