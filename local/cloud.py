"""One local AWS for workflows: moto (Step Functions executing) + in-process Lambda + fakes + compressed time.

    with LocalCloud(time_factor=0.001) as cloud:
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

from lambdas.adapters.aws import reset_clients
from local.cfn import LocalDeployer
from local.endpoint.endpoint import LocalEndpoint
from local.endpoint.sessions import RoleSessions, restore_state_machine_clients, sign_state_machine_calls_with_their_role
from local.events import EventRouter
from local.fakes import FakeAws
from local.fakes.ec2_images import Ec2ImagesFake
from local.fakes.image_builder import ImageBuilderFake
from local.fakes.inspector import InspectorFake
from local.fakes.ssm_commands import SsmCommandsFake
from local.lambda_runtime import InProcessLambdaRuntime
from local.time_scale import TimeScale

FINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


class LocalCloud:
    def __init__(
        self, *, region: str = "us-east-1", account: str = "123456789012", time_factor: float = 0.001, mock: bool = True
    ) -> None:
        """`mock=False`: do not start moto's in-process decorator; boto3 then reaches whatever
        AWS_ENDPOINT_URL names (the local cloud server's moto server, local/server.py)."""
        self.region, self.account = region, account
        self.scale = TimeScale(time_factor)
        self.router = EventRouter(region=region)
        self.image_builder = ImageBuilderFake(scale=self.scale, region=region, account=account, emit=self.router.put_event)
        self.ec2_images = Ec2ImagesFake(scale=self.scale, region=region)
        self.inspector = InspectorFake(scale=self.scale, region=region, account=account)
        self.ssm = SsmCommandsFake(scale=self.scale, region=region, account=account)
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
        for fake in (self.image_builder, self.ec2_images, self.inspector, self.ssm):
            fake.install(self.fakes)
        self.endpoint.resolver.facts.tag_sources.append(self.ec2_images.export_task_tags)
        reset_clients()  # cached clients predate the endpoint's hooks
        return self

    def __exit__(self, *exc: object) -> None:
        self.image_builder.stop()
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
