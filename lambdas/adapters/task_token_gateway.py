"""Task tokens of workflows waiting for an AWS event, and the Step Functions callbacks that resume them."""

from __future__ import annotations

import json
import time
from typing import Any

from lambdas.adapters.aws import client

# A token outlives no wait: the item expires a day after the longest wait we configure.
TOKEN_TTL_SECONDS = 2 * 24 * 3600


def put_token(table: str, key: str, token: str, execution: str) -> None:
    client("dynamodb").put_item(
        TableName=table,
        Item={
            "resource_key": {"S": key},
            "task_token": {"S": token},
            "execution": {"S": execution},
            "expires_at": {"N": str(int(time.time()) + TOKEN_TTL_SECONDS)},
        },
    )


def pop_token(table: str, key: str) -> str | None:
    """Remove and return the token: exactly one of the listener and the waiter resumes the task."""
    response = client("dynamodb").delete_item(
        TableName=table, Key={"resource_key": {"S": key}}, ReturnValues="ALL_OLD"
    )
    item = response.get("Attributes")
    return item["task_token"]["S"] if item else None


def send_success(token: str, output: dict[str, Any]) -> None:
    client("stepfunctions").send_task_success(taskToken=token, output=json.dumps(output))


def send_failure(token: str, error: str, cause: str) -> None:
    client("stepfunctions").send_task_failure(taskToken=token, error=error[:256], cause=cause[:32768])
