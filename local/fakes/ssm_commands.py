"""SSM instance registration and Run Command, faked for the smoke-test check script.

An instance running in moto's EC2 is "Online" `registration_minutes` after it started running (or
after it is first asked about, for an instance launched before the fakes were installed). A command
is Pending, then InProgress, and finishes `command_minutes` later with the output of
components/checks/ami_checks.py: every check passing (Success), the failures injected with
`fail_next_check` (Failed, exit code 1), or TimedOut when it runs longer than its executionTimeout.
Each status change of an invocation is emitted as AWS emits it, an "EC2 Command Invocation
Status-change Notification" event (Systems Manager User Guide, "Amazon EventBridge event examples
for Systems Manager").

Refusals modelled on the Systems Manager API reference: SendCommand to an instance that is not a
managed node yet (not Online, not running, unknown) fails with InvalidInstanceId; GetCommandInvocation
for an unknown command/instance pair fails with InvocationDoesNotExist. Statuses are the API's
CommandInvocationStatus values with their StatusDetails.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from local.events import aws_event
from local.fakes.hooks import AdminClients, FakeAws, FakeError
from local.time_scale import TimeScale

DEFAULT_CHECKS = ("no-ssh-host-keys", "no-authorized-keys", "no-shell-history", "no-aws-credentials", "password-login-disabled")
# The share of a command's run spent before the agent picks it up (Status Pending).
_PENDING_SHARE = 0.2
# AWS-RunShellScript's default executionTimeout, in seconds.
_DEFAULT_EXECUTION_TIMEOUT = 3600


class SsmCommandsFake:
    def __init__(
        self, *, scale: TimeScale, region: str, account: str = "123456789012", registration_minutes: float = 2,
        command_minutes: float = 1, emit: Callable[[dict[str, Any]], None] = lambda event: None,
    ) -> None:
        self.scale, self.region, self.account, self.emit = scale, region, account, emit
        self.registration_minutes, self.command_minutes = registration_minutes, command_minutes
        self.commands: dict[str, dict[str, Any]] = {}
        self.running_since: Callable[[str], float | None] = lambda instance_id: None  # set by the cloud
        self._first_seen: dict[str, float] = {}
        self._failures: list[dict[str, str]] = []
        self._timers: list[threading.Timer] = []
        self._aws = AdminClients(region)

    def fail_next_check(self, name: str = "no-shell-history", detail: str = "/root/.bash_history exists") -> None:
        self._failures.append({name: detail})

    def clear_injections(self) -> None:
        self._failures.clear()

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()

    def registered_at(self, instance_id: str) -> float | None:
        """When the instance's agent came (or comes) online, as a `scale.now()` instant."""
        start = self.running_since(instance_id) or self._first_seen.get(instance_id)
        return None if start is None else start + self.scale.seconds(self.registration_minutes * 60)

    def install(self, fakes: FakeAws) -> SsmCommandsFake:
        self._aws.prepare("ec2")
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
            reservations = self._aws("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError:
            return None
        return reservations[0]["Instances"][0]["State"]["Name"] if reservations else None

    def _online(self, instance_id: str) -> bool:
        running = self._state(instance_id) == "running"  # before the clock starts: the call takes wall time
        self._first_seen.setdefault(instance_id, self.scale.now())
        return running and self.scale.now() >= (self.registered_at(instance_id) or 0)

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
                                     "execution_timeout": timeout, "requested": datetime.now(UTC)}
        self._schedule_events(command_id)
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

    def _schedule_events(self, command_id: str) -> None:
        command = self.commands[command_id]
        duration = self.command_minutes * 60
        self._later(duration * _PENDING_SHARE, command_id, False)
        self._later(min(duration, command["execution_timeout"]), command_id, True)

    def _later(self, seconds: float, command_id: str, final: bool) -> None:
        timer = threading.Timer(self.scale.seconds(seconds), self._emit_status, args=(command_id, final))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _emit_status(self, command_id: str, final: bool) -> None:
        command = self.commands[command_id]
        for instance_id in command["instances"]:
            status = self._invocation({"CommandId": command_id, "InstanceId": instance_id})["Status"]
            if final and status in ("Pending", "InProgress"):
                return self._later(1, command_id, True)  # the timer woke a hair early: look again
            if final:
                command.setdefault("finished", self.scale.now())
            self.emit(aws_event(
                source="aws.ssm", detail_type="EC2 Command Invocation Status-change Notification", account=self.account,
                region=self.region, resources=[f"arn:aws:ec2:{self.region}:{self.account}:instance/{instance_id}"],
                detail={"command-id": command_id, "document-name": command["document"], "instance-id": instance_id,
                        "requested-date-time": command["requested"].strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                        "status": status},
            ))

    @staticmethod
    def _result(failures: dict[str, str]) -> dict[str, Any]:
        checks = [{"name": n, "passed": n not in failures, "detail": failures.get(n, "")} for n in DEFAULT_CHECKS]
        checks += [{"name": n, "passed": False, "detail": d} for n, d in failures.items() if n not in DEFAULT_CHECKS]
        lines = [f"FAIL {c['name']}: {c['detail']}" for c in checks if not c["passed"]]
        lines.append("AMI_CHECKS_JSON " + json.dumps({"checks": checks}))
        status = "Failed" if failures else "Success"
        return {"Status": status, "StatusDetails": status, "ResponseCode": 1 if failures else 0,
                "StandardOutputContent": "\n".join(lines) + "\n"}
