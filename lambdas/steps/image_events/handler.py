"""Resume a workflow waiting for an Image Builder image: the callback half of the build wait.

Two callers: the workflow's `.waitForTaskToken` task stores its token keyed by image ARN
(`await_image`), and the EventBridge rule on "EC2 Image Builder Image State Change" delivers the
image's new state. Whichever sees a terminal state first pops the token and resumes the task, so a
build that ends before the token is stored still resumes the workflow.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters import image_builder_gateway as image_builder
from lambdas.adapters import task_token_gateway as tokens
from lambdas.core.observability import logger
from lambdas.steps.common import require, step_handler

# The execution already finished (timed out, aborted): nothing left to resume.
_STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def _table() -> str:
    return os.environ["IMAGE_TOKEN_TABLE"]


def _resume(image_arn: str, status: str, reason: str | None) -> bool:
    if status != "AVAILABLE" and status not in image_builder.TERMINAL_FAILURES:
        return False
    token = tokens.pop_token(_table(), image_arn)
    if token is None:
        return False
    try:
        if status == "AVAILABLE":
            tokens.send_success(token, {"status": status})
        else:
            tokens.send_failure(token, "ImageBuildFailed", f"image build {status}: {reason or 'no reason given'}")
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in _STALE_TOKEN_ERRORS:
            raise
        logger.warning("workflow no longer waits for this image", extra={"image_arn": image_arn})
    return True


def await_image(event: dict[str, Any]) -> dict[str, Any]:
    image_arn, token, execution_name = require(event, "image_arn", "task_token", "execution_name")
    tokens.put_token(_table(), image_arn, token, execution_name)
    image = image_builder.get_image(image_arn)
    return {"resumed": _resume(image_arn, image["status"], image["reason"])}


def on_state_change(event: dict[str, Any]) -> dict[str, Any]:
    state = event.get("detail", {}).get("state", {})
    resumed = [arn for arn in event.get("resources", []) if _resume(arn, state.get("status", ""), state.get("reason"))]
    return {"resumed": resumed}


_steps = step_handler({"await_image": await_image})


@logger.inject_lambda_context(clear_state=True)
def _event_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return on_state_change(event)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("source") == "aws.imagebuilder":
        return _event_handler(event, context)
    return _steps(event, context)
