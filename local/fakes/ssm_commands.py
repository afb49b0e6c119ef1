"""SSM instance registration and Run Command, faked for the smoke-test check script.

An instance running in moto's EC2 is "Online" `registration_minutes` after it is first asked about.
A command finishes `command_minutes` later with the output of components/checks/ami_checks.py: every
check passing, or the failures injected with `fail_next_check`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from local.fakes.hooks import FakeAws, FakeError
from local.time_scale import TimeScale

DEFAULT_CHECKS = ("no-ssh-host-keys", "no-authorized-keys", "no-shell-history", "no-aws-credentials", "password-login-disabled")


class SsmCommandsFake:
    def __init__(self, *, scale: TimeScale, region: str, registration_minutes: float = 2, command_minutes: float = 1) -> None:
        self.scale, self.region = scale, region
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

    def _running(self, instance_id: str) -> bool:
        ec2 = boto3.client("ec2", region_name=self.region)
        reservations = ec2.describe_instances(Filters=[{"Name": "instance-id", "Values": [instance_id]}])["Reservations"]
        return bool(reservations) and reservations[0]["Instances"][0]["State"]["Name"] == "running"

    def _describe(self, p: dict[str, Any]) -> dict[str, Any]:
        ids = [v for f in p.get("Filters", []) if f["Key"] == "InstanceIds" for v in f["Values"]]
        online = []
        for instance_id in ids:
            first = self._first_seen.setdefault(instance_id, self.scale.now())
            if self._running(instance_id) and self.scale.elapsed(first) >= self.registration_minutes * 60:
                online.append({"InstanceId": instance_id, "PingStatus": "Online", "PlatformType": "Linux"})
        return {"InstanceInformationList": online}

    def _send(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("DocumentName") != "AWS-RunShellScript":
            raise FakeError("InvalidDocument", "the local fake runs AWS-RunShellScript only")
        command_id = str(uuid.uuid4())
        failures = self._failures.pop(0) if self._failures else {}
        self.commands[command_id] = {"instances": p["InstanceIds"], "started": self.scale.now(), "failures": failures,
                                     "commands": p["Parameters"]["commands"]}
        return {"Command": {"CommandId": command_id, "DocumentName": p["DocumentName"], "Status": "Pending"}}

    def _invocation(self, p: dict[str, Any]) -> dict[str, Any]:
        command = self.commands.get(p["CommandId"])
        if command is None or p["InstanceId"] not in command["instances"]:
            raise FakeError("InvocationDoesNotExist", "no such invocation")
        if self.scale.elapsed(command["started"]) < self.command_minutes * 60:
            return {"CommandId": p["CommandId"], "InstanceId": p["InstanceId"], "Status": "InProgress",
                    "StandardOutputContent": "", "StandardErrorContent": ""}
        failures = command["failures"]
        checks = [{"name": n, "passed": n not in failures, "detail": failures.get(n, "")} for n in DEFAULT_CHECKS]
        checks += [{"name": n, "passed": False, "detail": d} for n, d in failures.items() if n not in DEFAULT_CHECKS]
        lines = [f"FAIL {c['name']}: {c['detail']}" for c in checks if not c["passed"]]
        lines.append("AMI_CHECKS_JSON " + json.dumps({"checks": checks}))
        return {"CommandId": p["CommandId"], "InstanceId": p["InstanceId"], "Status": "Failed" if failures else "Success",
                "ResponseCode": 1 if failures else 0, "StandardOutputContent": "\n".join(lines) + "\n",
                "StandardErrorContent": ""}
