"""One local AWS for workflows: moto (Step Functions executing) + in-process Lambda + fakes + compressed time.

    with LocalCloud(time_factor=0.001, durations=Durations(build=90)) as cloud:
        cloud.deploy(core_template, assembly_dir, "AmiLifecycle-main")
        cloud.deploy(workflows_template, assembly_dir, "AmiLifecycleWorkflows-main")
        execution = cloud.run(state_machine_arn, workflow_input)

Used by the workflow integration tests; the local cloud's server mode builds on the same parts.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.core.responses import EmptyResult
from moto.stepfunctions.responses import StepFunctionResponse

from lambdas.adapters.aws import reset_clients
from local.cfn import LocalDeployer
from local.durations import Durations
from local.endpoint.endpoint import LocalEndpoint
from local.endpoint.sessions import (
    RoleSessions,
    restore_state_machine_clients,
    sign_state_machine_calls_with_their_role,
)
from local.events import EventRouter
from local.fakes import FakeAws
from local.fakes.ec2_images import Ec2ImagesFake
from local.fakes.ec2_instances import Ec2InstancesFake
from local.fakes.image_builder import ImageBuilderFake
from local.fakes.inspector import InspectorFake
from local.fakes.ssm_commands import SsmCommandsFake
from local.lambda_runtime import InProcessLambdaRuntime
from local.time_scale import TimeScale

FINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def _keep_task_failure_causes() -> Any:
    """moto's SendTaskFailure drops `cause` (AWS passes it to the task's Catch): pass it on. Returns
    the original handler, to restore on exit."""
    original = StepFunctionResponse.send_task_failure

    def send_task_failure(self: Any) -> Any:
        self.stepfunction_backend.send_task_failure(
            self._get_param("taskToken"), error=self._get_param("error"), cause=self._get_param("cause"))
        return EmptyResult()

    StepFunctionResponse.send_task_failure = send_task_failure  # type: ignore[method-assign]
    return original


def state_transitions(history: list[dict[str, Any]]) -> dict[str, int]:
    """States entered, and the task attempts a Retry added: Step Functions bills both as transitions."""
    entered = retried = scheduled = 0
    for event in history:
        if event["type"].endswith("StateEntered"):
            entered, scheduled = entered + 1, 0
        elif event["type"] in ("TaskScheduled", "LambdaFunctionScheduled"):
            retried += scheduled > 0
            scheduled += 1
    return {"entered": entered, "retried": retried, "billed": entered + retried}


class LocalCloud:
    def __init__(
        self, *, region: str = "us-east-1", account: str = "123456789012", time_factor: float = 0.001, mock: bool = True,
        durations: Durations = Durations(),  # noqa: B008 - frozen, never mutated
    ) -> None:
        """`mock=False`: do not start moto's in-process decorator; boto3 then reaches whatever
        AWS_ENDPOINT_URL names (the local cloud server's moto server, local/server.py)."""
        self.region, self.account, self.durations = region, account, durations
        self.scale = TimeScale(time_factor)
        self.router = EventRouter(region=region)
        emit, minutes = self.router.emit, durations
        self.image_builder = ImageBuilderFake(scale=self.scale, region=region, account=account, emit=emit, build_minutes=minutes.build)
        self.ec2_images = Ec2ImagesFake(scale=self.scale, region=region, account=account, emit=emit, export_minutes=minutes.export,
                                        store_minutes=minutes.store, restore_minutes=minutes.restore)
        self.ec2_instances = Ec2InstancesFake(scale=self.scale, region=region, account=account, emit=emit)
        self.inspector = InspectorFake(scale=self.scale, region=region, account=account, emit=emit, scan_minutes=minutes.scan)
        self.ssm = SsmCommandsFake(scale=self.scale, region=region, account=account, emit=emit,
                                   registration_minutes=minutes.registration, command_minutes=minutes.command)
        self.sessions = RoleSessions(region)
        self.runtime = InProcessLambdaRuntime(region=region, sessions=self.sessions)
        self.fakes = FakeAws()
        self.endpoint = LocalEndpoint(account=account, fakes=self.fakes, unknown_keys_are_admin=mock)
        self.deployer = LocalDeployer(region=region, account=account, router=self.router, image_builder=self.image_builder,
                                      encryption=self.endpoint.resolver.facts.encryption)
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}}) if mock else None

    def __enter__(self) -> LocalCloud:
        if self._mock is not None:
            self._mock.start()
            self.endpoint.install_in_process()
        self.scale.install()
        self.runtime.install()
        sign_state_machine_calls_with_their_role(self.sessions)
        for fake in (self.image_builder, self.ec2_images, self.ec2_instances, self.inspector, self.ssm):
            fake.install(self.fakes)
        self._wire_instance_clocks()
        self.endpoint.resolver.facts.tag_sources.append(self.ec2_images.export_task_tags)
        self._original_send_task_failure = _keep_task_failure_causes()
        self.router.start()
        reset_clients()  # cached clients predate the endpoint's hooks
        return self

    def _wire_instance_clocks(self) -> None:
        """SSM registration and Inspector's first scan run from each instance's launch (wired here, not in
        __init__, so a test that swaps a fake before entering still gets it)."""
        self.ssm.running_since = self.inspector.running_since = self.ec2_instances.running_since
        self.ec2_instances.on_launch(self.inspector.launched)
        self.ec2_instances.on_terminate(self.inspector.terminated)

    def __exit__(self, *exc: object) -> None:
        StepFunctionResponse.send_task_failure = self._original_send_task_failure  # type: ignore[method-assign]
        self.router.stop()
        for fake in (self.image_builder, self.ec2_images, self.inspector, self.ssm):
            fake.stop()  # their timers: nothing completes after the cloud is gone
        self.endpoint.uninstall()
        restore_state_machine_clients()
        self.sessions.forget()
        self.runtime.uninstall()
        self.scale.uninstall()
        reset_clients()
        if self._mock is not None:
            self._mock.stop()

    def clear_injections(self) -> None:
        """Forget every failure injected and not yet consumed (between independent runs)."""
        for fake in (self.image_builder, self.ec2_images, self.inspector, self.ssm, self.fakes):
            fake.clear_injections()

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def deploy(self, template: dict[str, Any], assembly_dir: Path, stack_name: str) -> dict[str, dict[str, Any]]:
        return self.deployer.deploy(template, assembly_dir, stack_name)

    def start(self, state_machine_arn: str, payload: dict[str, Any], name: str | None = None) -> str:
        # moto's executing mode needs an explicit name (without one every execution is called "None").
        return self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name or f"local-{uuid.uuid4().hex[:20]}", input=json.dumps(payload)
        )["executionArn"]

    def wait(self, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            execution = sfn.describe_execution(executionArn=execution_arn)
            if execution["status"] in FINAL:
                return execution
            time.sleep(0.02)
        raise TimeoutError(f"{execution_arn} still running after {timeout} s")

    def run(self, state_machine_arn: str, payload: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        return self.wait(self.start(state_machine_arn, payload), timeout)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            events += page["events"]
        return events

    def executions(self, prefix: str) -> list[dict[str, Any]]:
        """Every execution whose name starts with `prefix` (a lifecycle id), with its history."""
        sfn, found = self.client("stepfunctions"), []
        for machine in sfn.list_state_machines()["stateMachines"]:
            for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
                found += [{**e, "machine": machine["name"], "history": self.history(e["executionArn"])}
                          for e in page["executions"] if e["name"].startswith(prefix)]
        return found

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message on a queue, parsed as JSON, removed from the queue."""
        sqs = self.client("sqs")
        messages: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    def live_instances(self) -> list[str]:
        reservations = self.client("ec2").describe_instances(
            Filters=[{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
        )["Reservations"]
        return [i["InstanceId"] for r in reservations for i in r["Instances"]]
