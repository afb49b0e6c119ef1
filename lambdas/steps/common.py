"""What every step handler shares: the step dispatcher, the base of the step inputs and the verdict shape.

One Lambda function serves one workflow; the state machine names the step in the payload
(`{"step": "...", ...}`). A handler module maps step names to plain functions (its `STEPS` table), each
taking one argument, the pydantic model of its input: the dispatcher validates the payload into it, so
a payload with a misspelt or missing key fails at once, naming the step and the field (and
tests/infrastructure/test_step_inputs.py checks every definition against these models before any run).
Each function stays testable without Lambda, and the state machine stays the only orchestrator.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from lambdas.core.observability import logger
from lambdas.steps.errors import InvalidStepInput

Step = Callable[[Any], dict[str, Any]]
# A value a step acts on: a JSONPath or a substitution resolving to "" is a definition bug, not a value.
NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]


class StrictModel(BaseModel):
    # Unknown keys fail: a misspelt key in a definition must not become a silently missing value.
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepInput(StrictModel):
    """A Task's payload, less `step` (the dispatcher's routing key). A field is required when every
    definition sends it, and has a default only where a sender may leave it out."""

    lifecycle_id: NonEmptyStr


def input_type(step: Step) -> Any:
    """What the step takes: the annotation of its one parameter (a StepInput, or a discriminated union)."""
    (parameter,) = inspect.signature(step, eval_str=True).parameters.values()
    return parameter.annotation


def describe(errors: Iterable[ErrorDetails]) -> str:
    """Where and why, never the values: payloads carry task tokens, and the message reaches the error queue."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in errors)


def step_handler(steps: Mapping[str, Step]) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Build a Lambda handler that validates the payload into the named step's input and runs the step."""
    inputs = {name: TypeAdapter(input_type(step)) for name, step in steps.items()}

    # log_event stays off: payloads carry task tokens and must not reach the logs.
    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        payload = dict(event)
        name = payload.pop("step", None)
        if name not in steps:
            raise InvalidStepInput(f"unknown step {name!r}; expected one of {sorted(steps)}")
        logger.append_keys(step=name, lifecycle_id=payload.get("lifecycle_id"))
        try:
            typed = inputs[name].validate_python(payload)
        except ValidationError as exc:
            # `from None`: the chained error would repeat the values.
            raise InvalidStepInput(f"step {name!r} got an invalid payload: {describe(exc.errors())}") from None
        return steps[name](typed)

    return lambda_handler


def verdict(status: str, outputs: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
    """The part of a WorkflowResult a step decides; the state machine adds input and date."""
    return {"status": status, "outputs": outputs, "reason": reason}
