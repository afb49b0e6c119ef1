"""SSM Run Command on a managed instance."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters.aws import client

# Run Command invocation statuses that will not change any more.
FINISHED = frozenset({"Success", "Failed"})
ABORTED = frozenset({"Cancelled", "TimedOut", "Cancelling", "Undeliverable", "Terminated", "DeliveryTimedOut", "ExecutionTimedOut"})


def run_shell(instance_id: str, commands: list[str], comment: str, timeout_seconds: int) -> str:
    response = client("ssm").send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Comment=comment[:100],
        TimeoutSeconds=max(30, timeout_seconds),
        Parameters={"commands": commands, "executionTimeout": [str(timeout_seconds)]},
    )
    return response["Command"]["CommandId"]


def invocation(command_id: str, instance_id: str) -> dict[str, Any]:
    try:
        response = client("ssm").get_command_invocation(CommandId=command_id, InstanceId=instance_id)
    except ClientError as exc:
        # Right after SendCommand the invocation may not exist yet.
        if exc.response["Error"]["Code"] == "InvocationDoesNotExist":
            return {"status": "Pending", "stdout": "", "stderr": ""}
        raise
    return {
        "status": response["Status"],
        "stdout": response.get("StandardOutputContent", ""),
        "stderr": response.get("StandardErrorContent", ""),
    }
