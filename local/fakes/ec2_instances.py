"""EC2 instance state-change events for moto's instances.

moto runs and terminates instances at once and emits nothing; this fake amends RunInstances and
TerminateInstances to emit the "EC2 Instance State-change Notification" events AWS sends on every
state change (pending -> running, shutting-down -> terminated), with AWS's shape (EC2 User Guide,
"State change events for Amazon EC2 instances"). It also remembers when each instance started
running: the SSM agent's registration and Inspector's initial scan are timed from there, and the
fakes for those subscribe with `on_launch` / `on_terminate`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from local.events import aws_event
from local.fakes.hooks import FakeAws
from local.time_scale import TimeScale

Listener = Callable[[str], None]


class Ec2InstancesFake:
    def __init__(self, *, scale: TimeScale, region: str, account: str,
                 emit: Callable[[dict[str, Any]], None] = lambda event: None) -> None:
        self.scale, self.region, self.account, self.emit = scale, region, account, emit
        self.launched: dict[str, float] = {}  # instance id -> when it started running (scale.now())
        self._on_launch: list[Listener] = []
        self._on_terminate: list[Listener] = []

    def install(self, fakes: FakeAws) -> Ec2InstancesFake:
        fakes.amend("ec2", "RunInstances", self._ran)
        fakes.amend("ec2", "TerminateInstances", self._terminated)
        return self

    def on_launch(self, listener: Listener) -> None:
        self._on_launch.append(listener)

    def on_terminate(self, listener: Listener) -> None:
        self._on_terminate.append(listener)

    def running_since(self, instance_id: str) -> float | None:
        return self.launched.get(instance_id)

    def _ran(self, _params: dict[str, Any], output: dict[str, Any]) -> None:
        for instance in output.get("Instances", []):
            instance_id = instance["InstanceId"]
            self.launched[instance_id] = self.scale.now()
            self._changed(instance_id, "pending", "running")
            for listener in self._on_launch:
                listener(instance_id)

    def _terminated(self, _params: dict[str, Any], output: dict[str, Any]) -> None:
        for change in output.get("TerminatingInstances", []):
            if change.get("PreviousState", {}).get("Name") in ("shutting-down", "terminated"):
                continue  # already going: AWS emits nothing new
            self._changed(change["InstanceId"], "shutting-down", "terminated")
            for listener in self._on_terminate:
                listener(change["InstanceId"])

    def _changed(self, instance_id: str, *states: str) -> None:
        for state in states:
            self.emit(aws_event(
                source="aws.ec2", detail_type="EC2 Instance State-change Notification", account=self.account,
                region=self.region, resources=[f"arn:aws:ec2:{self.region}:{self.account}:instance/{instance_id}"],
                detail={"instance-id": instance_id, "state": state},
            ))
