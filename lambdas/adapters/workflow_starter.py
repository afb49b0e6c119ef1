"""Starts and inspects Step Functions executions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters.aws import client
from lambdas.domain.contracts import WorkflowInput


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


@dataclass(frozen=True)
class ExecutionView:
    """What DescribeExecution says of one execution."""

    arn: str
    status: str  # RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE
    started: datetime
    stopped: datetime | None  # None while it runs
    input: dict[str, Any]


class WorkflowStarter:
    def start(self, state_machine_arn: str, name: str, workflow_input: WorkflowInput) -> str:
        """Idempotent per name: a repeated start of the same attempt returns the existing execution."""
        try:
            response = client("stepfunctions").start_execution(
                stateMachineArn=state_machine_arn, name=name, input=workflow_input.model_dump_json()
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return execution_arn(state_machine_arn, name)
            raise
        return str(response["executionArn"])

    def status(self, state_machine_arn: str, name: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, ... or None when it never started."""
        execution = self.describe(execution_arn(state_machine_arn, name))
        return None if execution is None else execution.status

    def describe(self, arn: str) -> ExecutionView | None:
        """The execution, or None when it does not exist."""
        try:
            response = client("stepfunctions").describe_execution(executionArn=arn)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise
        return ExecutionView(arn=arn, status=str(response["status"]), started=response["startDate"],
                             stopped=response.get("stopDate"), input=json.loads(response.get("input") or "{}"))
