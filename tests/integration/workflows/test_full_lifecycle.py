"""The orchestrator and the real workflows together, in one moto account: API functions start real
executions, whose results the receiver functions record and chain. Every function runs from the
deployed templates with its own environment, as Lambda would run it."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.integration.workflows.conftest import Deployment
from tests.support.calls import api_event

RECEIVERS = {"creation": "lambdas.receivers.creation", "patch": "lambdas.receivers.patch", "error": "lambdas.receivers.error"}


class Orchestrator:
    """Calls the deployed functions through moto's Lambda and pumps the receiver queues into them."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.lambda_ = deployment.cloud.client("lambda")
        self.functions = {
            f["Handler"].removesuffix(".lambda_handler"): f
            for f in self.lambda_.list_functions()["Functions"]
            if f["Handler"].startswith("lambdas.")
        }
        environment = self.functions["lambdas.api.handlers.read"]["Environment"]["Variables"]
        self.key_ids = json.loads(environment["API_KEY_IDS"])
        self.table = environment["LIFECYCLE_TABLE"]
        sqs, sns = deployment.cloud.client("sqs"), deployment.cloud.client("sns")
        self.inbox = sqs.create_queue(QueueName=f"operator-inbox-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=deployment.topic_arn, Protocol="sqs", Endpoint=arn)

    def invoke(self, module: str, event: dict[str, Any]) -> dict[str, Any]:
        response = self.lambda_.invoke(FunctionName=self.functions[module]["FunctionName"], Payload=json.dumps(event))
        payload = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, payload
        return payload

    def api(self, method: str, path: str, *, role: str = "operator", body: Any = None) -> tuple[int, Any]:
        from lambdas.api.catalog import match

        event = api_event(method, path, role=role, body=body)
        event["requestContext"]["identity"]["apiKeyId"] = self.key_ids[role]
        response = self.invoke(f"lambdas.api.handlers.{match(method, path).function}", event)
        return response["statusCode"], json.loads(response["body"])

    def status(self, lifecycle_id: str, kind: str = "ami-creation") -> dict[str, Any]:
        code, body = self.api("GET", f"/{kind}/lifecycles/{lifecycle_id}/status")
        assert code == 200, body
        return body if kind == "ami-creation" else body["patch"]

    def pump_until(self, lifecycle_id: str, done, kind: str = "ami-creation", timeout: float = 60) -> dict[str, Any]:
        """Deliver workflow outcomes to the receivers (as the SQS event sources do) until `done`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for queue, module in RECEIVERS.items():
                for message in self.deployment.messages(queue):
                    record = {"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(message),
                              "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                              "eventSourceARN": "arn", "awsRegion": "us-east-1"}
                    assert self.invoke(module, {"Records": [record]}) == {"batchItemFailures": []}
            record = self.status(lifecycle_id, kind)
            if done(record):
                return record
            time.sleep(0.05)
        raise TimeoutError(f"lifecycle not done: {[(e['name'], e['status'], e['reason']) for e in record['events']]}")

    def notifications(self) -> list[str]:
        return [envelope["Message"] for envelope in self.deployment.cloud.drain(self.inbox)]


def _statuses(record: dict[str, Any]) -> dict[str, str]:
    return {event["name"]: event["status"] for event in record["events"]}


def _settled(*names: str):
    return lambda record: all(_statuses(record)[name] in ("COMPLETED", "FAILED", "ERROR") for name in names)


CREATE = {
    "stack_tag": "main", "owner": "platform", "product_name": "golden", "product_ver": "1.0.0",
    "notifications": [{"method": "EMAIL", "target": "ops@example.com"}],
    "events": [{"name": name, "enabled": True} for name in (
        "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")],
}


@pytest.fixture
def orchestrator(deployment: Deployment) -> Orchestrator:
    return Orchestrator(deployment)


def test_creation_and_patch_lifecycles_run_end_to_end(orchestrator: Orchestrator, deployment: Deployment) -> None:
    code, created = orchestrator.api("POST", "/ami-creation/lifecycles", body=CREATE)
    assert code == 201, created
    lifecycle_id = created["lifecycle_id"]

    record = orchestrator.pump_until(lifecycle_id, _settled("QA_CERTIFICATION_REQUEST"))
    assert [s for s in _statuses(record).values()][:4] == ["COMPLETED"] * 4, _statuses(record)
    ami = record["ami"]["ami_id"]
    assert record["events"][2]["outputs"]["gate_passed"] is True
    assert record["events"][3]["outputs"]["export_s3_uri"].startswith("s3://ami-lc-main-exports-")

    code, link = orchestrator.api("GET", f"/ami-creation/lifecycles/{lifecycle_id}/export-link", role="qa")
    assert code == 200 and link["url"].startswith("https://"), link
    body = {"lifecycle_id": lifecycle_id, "stack_tag": "main"}
    assert orchestrator.api("POST", f"/ami-creation/lifecycles/{lifecycle_id}/certify", role="qa",
                            body=body | {"certification_status": "CERTIFIED"})[0] == 200
    assert orchestrator.api("POST", f"/ami-creation/lifecycles/{lifecycle_id}/approve", role="approver",
                            body=body | {"approval_status": "APPROVED", "approver": "ana"})[0] == 200
    record = orchestrator.pump_until(lifecycle_id, _settled("MARK_FOR_PRODUCTION_CREATE"))
    assert set(_statuses(record).values()) == {"COMPLETED"}
    assert record["approved_ami"]["ami_id"] == ami and record["stage"] == 6
    assert record["events"][5]["outputs"]["backup_s3_uri"].startswith("s3://")

    # Patch the production AMI with an uploaded component document.
    bucket = orchestrator.functions["lambdas.api.handlers.lifecycles"]["Environment"]["Variables"]["PATCH_COMPONENT_BUCKET"]
    deployment.cloud.client("s3").put_object(
        Bucket=bucket, Key="patches/openssl.yml",
        Body=b"name: openssl\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps: []\n")
    code, patched = orchestrator.api("POST", "/ami-patch/lifecycles", body={
        **body, "owner": "platform", "notifications": CREATE["notifications"],
        "events": [{"name": n, "enabled": True} for n in ("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH")],
        "patch_component_url": f"s3://{bucket}/patches/openssl.yml", "patch_change_description": "openssl",
        "semver_bump_type": "MINOR",
    })
    assert code == 201 and patched["semver"] == "1.1.0", patched
    patch = orchestrator.pump_until(lifecycle_id, _settled("VULNERABILITY_SCANS_AMI_PATCH"), kind="ami-patch")
    assert list(_statuses(patch).values())[:3] == ["COMPLETED"] * 3, _statuses(patch)
    assert patch["ami"]["ami_id"] != ami and patch["parent_ami"]["ami_id"] == ami
    assert orchestrator.api("POST", f"/ami-patch/lifecycles/{lifecycle_id}/approve", role="approver",
                            body=body | {"approval_status": "APPROVED", "approver": "ana"})[0] == 200
    patch = orchestrator.pump_until(lifecycle_id, _settled("MARK_FOR_PRODUCTION_PATCH"), kind="ami-patch")
    assert set(_statuses(patch).values()) == {"COMPLETED"}
    assert orchestrator.status(lifecycle_id)["approved_ami"]["ami_id"] == patch["ami"]["ami_id"]
    # Nothing left running: test instances terminated, dynamic Image Builder resources deleted.
    assert deployment.cloud.live_instances() == []


@pytest.mark.parametrize("inject, event, status", [
    (lambda cloud: cloud.image_builder.fail_next_build("Component 'hardening' failed"), "BUILD_AMI", "FAILED"),
    (lambda cloud: cloud.ssm.fail_next_check(), "SMOKE_TESTS_AMI_CREATE", "FAILED"),
    (lambda cloud: cloud.inspector.next_scan_reports({"CRITICAL": 1}), "VULNERABILITY_SCANS_AMI_CREATE", "FAILED"),
    (lambda cloud: cloud.ec2_images.fail_next_export(), "QA_CERTIFICATION_REQUEST", "ERROR"),
])
def test_a_failure_is_recorded_by_the_receiver_and_notified(
    orchestrator: Orchestrator, deployment: Deployment, inject, event: str, status: str
) -> None:
    inject(deployment.cloud)
    code, created = orchestrator.api("POST", "/ami-creation/lifecycles", body=CREATE)
    assert code == 201, created
    record = orchestrator.pump_until(created["lifecycle_id"], _settled(event))
    state = next(e for e in record["events"] if e["name"] == event)
    assert state["status"] == status and state["reason"], state
    statuses = _statuses(record)
    names = list(statuses)
    assert all(statuses[name] == "NOT_STARTED" for name in names[names.index(event) + 1:])  # the chain stopped
    messages = orchestrator.notifications()
    assert any(f"{event} is {status}" in message for message in messages), messages
    assert deployment.cloud.live_instances() == []
