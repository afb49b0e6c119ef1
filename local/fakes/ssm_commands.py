"""SSM instance registration and Run Command, faked for the smoke-test check script.

An instance running in moto's EC2 is "Online" `registration_minutes` after it is first asked about
(DescribeInstanceInformation or SendCommand). A command is Pending, then InProgress, and finishes
`command_minutes` later with the output of components/checks/ami_checks.py: every check passing
(Success), the failures injected with `fail_next_check` (Failed, exit code 1), or TimedOut when it
runs longer than its executionTimeout.

Refusals modelled on the Systems Manager API reference: SendCommand to an instance that is not a
managed node yet (not Online, not running, unknown) fails with InvalidInstanceId; GetCommandInvocation
for an unknown command/instance pair fails with InvocationDoesNotExist. Statuses are the API's
CommandInvocationStatus values with their StatusDetails.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.credentials import admin_client
from local.fakes.hooks import FakeAws, FakeError
from local.time_scale import TimeScale

DEFAULT_CHECKS = ("no-ssh-host-keys", "no-authorized-keys", "no-shell-history", "no-aws-credentials", "password-login-disabled")
# The share of a command's run spent before the agent picks it up (Status Pending).
_PENDING_SHARE = 0.2
# AWS-RunShellScript's default executionTimeout, in seconds.
_DEFAULT_EXECUTION_TIMEOUT = 3600


class SsmCommandsFake:
    def __init__(
        self, *, scale: TimeScale, region: str, account: str = "123456789012", registration_minutes: float = 2, command_minutes: float = 1
    ) -> None:
        self.scale, self.region, self.account = scale, region, account
        self.registration_minutes, self.command_minutes = registration_minutes, command_minutes
        self.commands: dict[str, dict[str, Any]] = {}
        self._first_seen: dict[str, float] = {}
        self._failures: list[dict[str, str]] = []

    def fail_next_check(self, name: str = "no-shell-history", detail: str = "/root/.bash_history exists") -> None:
        self._failures.append({name: detail})

    def clear_injections(self) -> None:
        self._failures.clear()

    def install(self, fakes: FakeAws) -> SsmCommandsFake:
        fakes.serve(
            "ssm",
            {
                "DescribeInstanceInformation": self._describe,
                "SendCommand": self._send,
                "GetCommandInvocation": self._invocation,
            },
        )
        return self

    def _state(self, instance_id: str) -> str | None:
        try:
            reservations = admin_client("ec2", self.region).describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError:
            return None
        return reservations[0]["Instances"][0]["State"]["Name"] if reservations else None

    def _online(self, instance_id: str) -> bool:
        running = self._state(instance_id) == "running"  # before the clock starts: the call takes wall time
        first = self._first_seen.setdefault(instance_id, self.scale.now())
        return running and self.scale.elapsed(first) >= self.registration_minutes * 60

    def _describe(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = [v for f in p.get("Filters", []) if f["Key"] == "InstanceIds" for v in f["Values"]]
        online = [
            {"InstanceId": i, "PingStatus": "Online", "PlatformType": "Linux", "ResourceType": "EC2Instance"}
            for i in ids if self._online(i)
        ]
        return {"InstanceInformationList": online}

    def _send(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("DocumentName") != "AWS-RunShellScript":
            raise FakeError("InvalidDocument", "the local fake runs AWS-RunShellScript only")
        instance_ids = p.get("InstanceIds", [])
        unmanaged = [i for i in instance_ids if not self._online(i)]
        if unmanaged:
            # AWS's wording; the instance is not (yet) a managed node: agent not registered, or not running.
            raise FakeError("InvalidInstanceId", f"Instances [[{', '.join(unmanaged)}]] not in a valid state for account {self.account}")
        command_id = str(uuid.uuid4())
        failures = self._failures.pop(0) if self._failures else {}
        parameters = p.get("Parameters", {})
        timeout = int((parameters.get("executionTimeout") or [_DEFAULT_EXECUTION_TIMEOUT])[0])
        self.commands[command_id] = {"instances": instance_ids, "started": self.scale.now(), "failures": failures,
                                     "commands": parameters.get("commands", []), "document": p["DocumentName"],
                                     "execution_timeout": timeout}
        return {"Command": {"CommandId": command_id, "DocumentName": p["DocumentName"], "Comment": p.get("Comment", ""),
                            "InstanceIds": instance_ids, "Parameters": parameters, "RequestedDateTime": datetime.now(UTC),
                            "Status": "Pending", "StatusDetails": "Pending", "TargetCount": len(instance_ids),
                            "CompletedCount": 0, "ErrorCount": 0, "TimeoutSeconds": p.get("TimeoutSeconds", 3600)}}

    def _invocation(self, p: dict[str, Any]) -> dict[str, Any]:
        command = self.commands.get(p["CommandId"])
        if command is None or p["InstanceId"] not in command["instances"]:
            # The API reference's description of this error (its message shape is empty).
            raise FakeError("InvocationDoesNotExist", "The command ID and managed node ID you specified didn't match any invocations. "
                            "Verify the command ID and the managed node ID and try again.")
        base = {"CommandId": p["CommandId"], "InstanceId": p["InstanceId"], "DocumentName": command["document"],
                "PluginName": "aws:runShellScript", "StandardOutputContent": "", "StandardErrorContent": ""}
        elapsed, duration = self.scale.elapsed(command["started"]), self.command_minutes * 60
        if elapsed >= command["execution_timeout"] and duration > command["execution_timeout"]:
            return {**base, "Status": "TimedOut", "StatusDetails": "ExecutionTimedOut", "ResponseCode": -1}
        if elapsed < duration:
            status = "Pending" if elapsed < duration * _PENDING_SHARE else "InProgress"
            return {**base, "Status": status, "StatusDetails": status, "ResponseCode": -1}
        return {**base, **self._result(command["failures"])}

    @staticmethod
    def _result(failures: dict[str, str]) -> dict[str, Any]:
        checks = [{"name": n, "passed": n not in failures, "detail": failures.get(n, "")} for n in DEFAULT_CHECKS]
        checks += [{"name": n, "passed": False, "detail": d} for n, d in failures.items() if n not in DEFAULT_CHECKS]
        lines = [f"FAIL {c['name']}: {c['detail']}" for c in checks if not c["passed"]]
        lines.append("AMI_CHECKS_JSON " + json.dumps({"checks": checks}))
        status = "Failed" if failures else "Success"
        return {"Status": status, "StatusDetails": status, "ResponseCode": 1 if failures else 0,
                "StandardOutputContent": "\n".join(lines) + "\n"}
