"""Runs the six workflows' real definitions, taken from the synthesized workflows template, on moto's
Step Functions interpreter with the project's handlers in-process and local/ fakes for what moto lacks.

The app is synthesized once per session (core + workflows stacks, cdk.json context); each test gets
the module's LocalCloud (both templates' resources created in moto once per module, which keeps the
suite fast) with empty queues and no pending failure injection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambdas.domain.events import WORKFLOWS
from local.cloud import LocalCloud
from stacks import naming
from stacks.config import AppConfig

REPO = Path(__file__).resolve().parents[3]
CONTEXT: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())["context"]
TIME_FACTOR = 0.0005  # 45 simulated minutes of build = 1.35 s


@dataclass(frozen=True)
class Assembly:
    directory: Path
    core_name: str
    workflows_name: str
    templates: dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def assembly(synth) -> Assembly:
    tag = AppConfig.from_context(synth.app).stack_tag_slug
    return Assembly(synth.outdir, naming.core_stack_name(tag), naming.workflows_stack_name(tag), synth.templates)


@dataclass
class Deployment:
    cloud: LocalCloud
    machines: dict[str, str]  # workflow -> state machine ARN
    queues: dict[str, str]  # creation | patch | error -> queue URL
    topic_arn: str
    qa_inbox: str  # queue subscribed to the topic with the QA filter
    tag: str

    def run(self, workflow: str, payload: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        return self.cloud.run(self.machines[workflow], payload, timeout)

    def messages(self, queue: str) -> list[dict[str, Any]]:
        return self.cloud.drain(self.queues[queue])


def _queue_url(resources: dict[str, dict[str, Any]], template: dict[str, Any], name_part: str) -> str:
    matches = [
        resources[lid]["Ref"] for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::SQS::Queue" and name_part in lid and "Dlq" not in lid and "DeadLetter" not in lid
    ]
    assert len(matches) == 1, f"expected one {name_part} queue, found {matches}"
    return matches[0]


@pytest.fixture(scope="module")
def _deployed(assembly: Assembly) -> Iterator[Deployment]:
    with LocalCloud(time_factor=TIME_FACTOR) as cloud:
        core = cloud.deploy(assembly.templates[assembly.core_name], assembly.directory, assembly.core_name)
        cloud.deploy(assembly.templates[assembly.workflows_name], assembly.directory, assembly.workflows_name)
        tag = assembly.workflows_name.removeprefix("AmiLifecycleWorkflows-")
        sfn = cloud.client("stepfunctions")
        machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
        core_template = assembly.templates[assembly.core_name]
        topics = [core[lid]["Ref"] for lid, r in core_template["Resources"].items() if r["Type"] == "AWS::SNS::Topic"]
        sqs, sns = cloud.client("sqs"), cloud.client("sns")
        inbox = sqs.create_queue(QueueName="qa-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topics[0], Protocol="sqs", Endpoint=inbox_arn,
                      Attributes={"FilterPolicy": json.dumps({"audience": ["qa"]}), "RawMessageDelivery": "false"})
        yield Deployment(
            cloud=cloud,
            machines={w: machines[naming.state_machine_name(tag, w)] for w in WORKFLOWS},
            queues={q: _queue_url(core, core_template, q.title()) for q in ("creation", "patch", "error")},
            topic_arn=topics[0],
            qa_inbox=inbox,
            tag=tag,
        )


@pytest.fixture
def deployment(_deployed: Deployment) -> Deployment:
    _deployed.cloud.clear_injections()
    for queue in _deployed.queues.values():
        _deployed.cloud.drain(queue)
    _deployed.cloud.drain(_deployed.qa_inbox)
    return _deployed
