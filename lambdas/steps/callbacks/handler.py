"""Resume workflows waiting for AWS: the callback half of every event-driven wait.

Three callers:
- `await` (a `.waitForTaskToken` task): stores the task token under the awaited resource, then
  checks the resource once, so work AWS finished before the token was stored still resumes it;
- an EventBridge rule: the event names the resource and its new state (watchers.py);
- `check` (the wait timed out, e.g. the event was lost: AWS delivers events best effort): one status
  check that returns, raises the failure, or raises NotReadyInTime.

Whichever of `await` and the event sees a final state first pops the token and resumes the task, so
exactly one of them does. A failure carried by the check or the event fails the task at once with
the step error the workflow's Catch expects.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters import task_token_gateway as tokens
from lambdas.core.observability import logger
from lambdas.steps.callbacks.inputs import AwaitInput, CheckInput
from lambdas.steps.callbacks.watchers import WATCHERS, Outcome, watcher_of_event
from lambdas.steps.common import Step, step_handler
from lambdas.steps.errors import NotReadyInTime

# The execution already finished (timed out, aborted): nothing left to resume.
_STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def _table() -> str:
    return os.environ["CALLBACK_TOKEN_TABLE"]


def _key(kind: str, resource: str) -> str:
    return f"{kind}#{resource}"


def _resume(key: str, outcome: Outcome) -> bool:
    token = tokens.pop_token(_table(), key)
    if token is None:
        return False
    try:
        if outcome.error is None:
            tokens.send_success(token, outcome.output)
        else:
            tokens.send_failure(token, outcome.error.__name__, outcome.cause)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in _STALE_TOKEN_ERRORS:
            raise
        logger.warning("workflow no longer waits for this resource", extra={"resource": key})
    return True


def await_resource(event: AwaitInput) -> dict[str, Any]:
    key = _key(event.kind, event.resource)
    tokens.put_token(_table(), key, event.task_token, event.execution_name)
    outcome = WATCHERS[event.kind].check(event.resource)
    return {"resumed": outcome is not None and _resume(key, outcome)}


def check_once(event: CheckInput) -> dict[str, Any]:
    """The one look at the resource after the wait timed out: AWS's event never came."""
    tokens.pop_token(_table(), _key(event.kind, event.resource))  # a late event then finds nothing to resume
    outcome = WATCHERS[event.kind].check(event.resource)
    if outcome is None:
        raise NotReadyInTime(f"{event.kind} {event.resource} still not done when its wait timed out")
    if outcome.error is not None:
        raise outcome.error(outcome.cause)
    return outcome.output


def on_event(event: dict[str, Any]) -> dict[str, Any]:
    found = watcher_of_event(event)
    if found is None:
        return {"resumed": []}
    kind, read = found
    return {"resumed": [resource for resource, outcome in read(event)
                        if outcome is not None and _resume(_key(kind, resource), outcome)]}


STEPS: dict[str, Step] = {"await": await_resource, "check": check_once}
_steps = step_handler(STEPS)


@logger.inject_lambda_context(clear_state=True)
def _event_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return on_event(event)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "detail-type" in event:
        return _event_handler(event, context)
    return _steps(event, context)
