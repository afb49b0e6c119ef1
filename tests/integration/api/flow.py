"""Drive lifecycles through the API and the receivers, the way users and state machines do.

The state machines in moto are placeholders that never run, so `Flow.finish` plays the part of a
machine's last state: it reads the input the orchestrator started the execution with and sends the
`WorkflowResult` (or `WorkflowError`) the machine would send to its receiver queue.

`snapshot` / `assert_unchanged` capture everything a request could change (the three tables, every
execution, SNS subscriptions, notifications, AMI tags) so an error case can prove it changed nothing.
"""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import boto3

from tests.support.aws import REGION, WORKFLOW_NAMES, Deployment
from tests.support.calls import ApiResponse, call_api, call_receiver  # call_api: tests import it from here

CREATION = "/ami-creation/lifecycles"
PATCH = "/ami-patch/lifecycles"
UNKNOWN_ID = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"
APPROVER = "jane.approver@example.com"

AUTOMATIC_CREATION = (
    "BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST",
)
AUTOMATIC_PATCH = ("PATCH_AMI", "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH")

# Written here rather than imported, so a change of the product's mapping shows up as a failing test.
WORKFLOW_OF = {
    "BUILD_AMI": "build",
    "PATCH_AMI": "patch",
    "SMOKE_TESTS_AMI_CREATE": "smoke-tests",
    "SMOKE_TESTS_AMI_PATCH": "smoke-tests",
    "VULNERABILITY_SCANS_AMI_CREATE": "vulnerability-scans",
    "VULNERABILITY_SCANS_AMI_PATCH": "vulnerability-scans",
    "QA_CERTIFICATION_REQUEST": "qa-certification-request",
    "MARK_FOR_PRODUCTION_CREATE": "mark-for-production",
    "MARK_FOR_PRODUCTION_PATCH": "mark-for-production",
}
ERROR_NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict"}


@functools.cache
def aws(service: str) -> Any:
    """One boto3 client per service for the whole run (moto intercepts it in whichever test is active);
    a new client costs ~15 ms of CPU, which adds up over hundreds of helper calls."""
    return boto3.client(service, region_name=REGION)


# tests.support.aws's helpers of the same names, on the cached clients (they run in every snapshot).


def drain_notifications(deployment: Deployment) -> list[dict[str, Any]]:
    """SNS envelopes delivered to the deployment's sink queue since the last call."""
    received = []
    while batch := aws("sqs").receive_message(QueueUrl=deployment.sink_queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in batch:
            received.append(json.loads(message["Body"]))
            aws("sqs").delete_message(QueueUrl=deployment.sink_queue_url, ReceiptHandle=message["ReceiptHandle"])
    return received


def executions(deployment: Deployment, workflow: str) -> list[dict[str, Any]]:
    return aws("stepfunctions").list_executions(stateMachineArn=deployment.state_machine_arns[workflow])["executions"]


def execution_input(deployment: Deployment, workflow: str, name: str) -> dict[str, Any]:
    arn = deployment.state_machine_arns[workflow].replace(":stateMachine:", ":execution:") + f":{name}"
    return json.loads(aws("stepfunctions").describe_execution(executionArn=arn)["input"])


def open_link(path: str, *, role: str | None = None) -> ApiResponse:
    """GET a path as the API hands it out (timeline-link's `path` carries ?token=...), as a browser
    would: no key unless `role` is given."""
    route, _, query = path.partition("?")
    return call_api("GET", route, role=role, query=dict(parse_qsl(query)) or None)


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def switches(enabled: tuple[str, ...] | list[str], disabled: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"name": name, "enabled": True} for name in enabled] + [
        {"name": name, "enabled": False} for name in disabled
    ]


def creation_body(
    *, stack_tag: str = "main", product_name: str = "My Product Name", events: tuple[str, ...] = ("BUILD_AMI",),
    **fields: Any,
) -> dict[str, Any]:
    return {
        "stack_tag": stack_tag,
        "owner": "ownername",
        "product_name": product_name,
        "product_ver": "1.0.0",
        "commit_ref": "4f2a9c1",
        "notifications": [{"method": "EMAIL", "target": "user@domain.com"}],
        "events": [name if isinstance(name, dict) else {"name": name, "enabled": True} for name in events],
        **fields,
    }


def new_ami(name: str = "golden") -> str:
    """An AMI in moto's EC2, as an Image Builder build leaves behind (register_image: much faster than
    tests.support.aws.make_ami, which searches Amazon's image list on every call)."""
    ec2 = aws("ec2")
    return ec2.register_image(Name=f"{name}-{uuid.uuid4().hex[:12]}", RootDeviceName="/dev/xvda")["ImageId"]


def outputs_for(event: str, deployment: Deployment | None = None) -> dict[str, Any]:
    """Outputs shaped like lambdas/domain/contracts.py for a COMPLETED result of `event`."""
    if event in ("BUILD_AMI", "PATCH_AMI"):
        return {
            "ami": {"ami_id": new_ami(event.lower()), "region": REGION},
            "image_builder": {
                "image_arn": "arn:aws:imagebuilder:us-east-1:123456789012:image/x/1.0.0/1",
                "components": ["hardening", "cloudwatch-agent"],
            },
        }
    if event.startswith("SMOKE_TESTS"):
        return {"instance_id": "i-0123456789abcdef0", "checks": [{"name": "sshd", "passed": True}]}
    if event.startswith("VULNERABILITY_SCANS"):
        return {
            "findings": {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 4},
            "report_s3_uri": "s3://reports/scan.json",
            "gate": "CRITICAL>0",
            "gate_passed": True,
        }
    if event == "QA_CERTIFICATION_REQUEST":
        bucket = deployment.environ.get("EXPORT_BUCKET", "exports") if deployment else "exports"
        return {"export_task_id": "export-ami-0123456789abcdef0", "export_s3_uri": f"s3://{bucket}/exports/ami.vmdk"}
    if event.startswith("MARK_FOR_PRODUCTION"):
        return {"backup_s3_uri": "s3://backups/ami.bin", "store_task_id": "store-1"}
    raise ValueError(f"{event} is not run by a workflow")


def assert_error(response: ApiResponse, status: int, *words: str) -> dict[str, Any]:
    """The error contract: status code, error class, and a message that names the problem."""
    assert response.status == status, f"expected {status}, got {response.status}: {response.text}"
    assert response.headers.get("content-type", "").startswith("application/json")
    body = response.json()
    assert body["error"] == ERROR_NAMES[status], body
    for word in words:
        assert word in body["message"], f"{word!r} not in {body['message']!r}"
    return body


# ----- state capture ------------------------------------------------------------------------------


@dataclass
class Snapshot:
    tables: dict[str, list[dict[str, Any]]]
    executions: dict[str, list[str]]
    subscriptions: list[tuple[str, str]]
    tags: dict[str, dict[str, str]] = field(default_factory=dict)


def _scan(table: str, fingerprint: tuple[str, ...]) -> list[dict[str, Any]]:
    # Only the attributes every write changes: a lifecycle item's optimistic-lock `version` moves on each
    # write, a lookup entry's `reached_at` on each put, a seed's `major` on each allocation. (Reading
    # whole lifecycle documents through moto costs ~10 ms an item.)
    names = {f"#a{index}": name for index, name in enumerate(fingerprint)}
    items = aws("dynamodb").scan(
        TableName=table, ProjectionExpression=", ".join(names), ExpressionAttributeNames=names
    )["Items"]
    return sorted(items, key=repr)


def snapshot(deployment: Deployment) -> Snapshot:
    """Everything a request may change. Drains the notifications sent so far."""
    drain_notifications(deployment)
    ec2 = aws("ec2")
    sns = aws("sns")
    return Snapshot(
        tables={
            name: _scan(name, fingerprint)
            for name, fingerprint in (
                (deployment.lifecycle_table, ("pk", "sk", "version")),
                (deployment.lookup_table, ("selector", "rank", "reached_at")),
                (deployment.environ["SEMVER_SEED_TABLE"], ("seed_id", "major")),
            )
        },
        executions={
            workflow: sorted(execution["name"] for execution in executions(deployment, workflow))
            for workflow in WORKFLOW_NAMES
        },
        subscriptions=sorted(
            (sub["Protocol"], sub["Endpoint"])
            for sub in sns.list_subscriptions_by_topic(TopicArn=deployment.topic_arn)["Subscriptions"]
        ),
        tags={
            image["ImageId"]: {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}
            for image in ec2.describe_images(Owners=["self"])["Images"]
        },
    )


def assert_unchanged(deployment: Deployment, before: Snapshot) -> None:
    notes = drain_notifications(deployment)
    assert notes == [], f"notifications were sent: {[note.get('Subject') for note in notes]}"
    after = snapshot(deployment)
    assert after.executions == before.executions, "a workflow execution was started"
    assert after.tables == before.tables, "a table was written"
    assert after.subscriptions == before.subscriptions, "an endpoint was subscribed"
    assert after.tags == before.tags, "an AMI was tagged"


def assert_refused(deployment: Deployment, cases: dict[str, tuple[Any, ...]]) -> None:
    """Each case is (send, status, *words): `send()` makes one request, which must fail with `status`
    and a message holding every word; together they must change nothing (state taken before the first)."""
    before = snapshot(deployment)
    for name, (send, status, *words) in cases.items():
        try:
            assert_error(send(), status, *words)
        except AssertionError as exc:
            raise AssertionError(f"case '{name}': {exc}") from exc
    assert_unchanged(deployment, before)


def selectable(deployment: Deployment, selector: str) -> list[str]:
    """AMI ids the lookup table offers under `selector`, best (highest semver) first."""
    response = aws("dynamodb").query(
        TableName=deployment.lookup_table,
        KeyConditionExpression="selector = :s",
        ExpressionAttributeValues={":s": {"S": selector}},
        ScanIndexForward=False,
    )
    return [item["ami_id"]["S"] for item in response["Items"]]


# ----- the driver ---------------------------------------------------------------------------------


@dataclass
class Flow:
    """Creates lifecycles and moves them forward: `built`, `scanned`, `qa_requested`, `certified`,
    `in_production`, `patched` each return the lifecycle id at that point."""

    deployment: Deployment
    stack_tag: str = "main"
    product_name: str = "My Product Name"

    # --- API calls (each asserts its success status) ---

    def create(self, events: tuple[str, ...] = ("BUILD_AMI",), **fields: Any) -> dict[str, Any]:
        fields.setdefault("stack_tag", self.stack_tag)
        fields.setdefault("product_name", self.product_name)
        response = call_api("POST", CREATION, body=creation_body(events=events, **fields))
        assert response.status == 201, response.text
        return response.json()

    def update(self, lifecycle_id: str, *, kind: str = "creation", **fields: Any) -> dict[str, Any]:
        body = {"lifecycle_id": lifecycle_id, "stack_tag": self.stack_tag, **fields}
        response = call_api("PUT", CREATION if kind == "creation" else PATCH, body=body)
        assert response.status == 200, response.text
        return response.json()

    def status(self, lifecycle_id: str, kind: str = "creation") -> dict[str, Any]:
        """The creation record, or for kind="patch" the latest patch run's record."""
        response = call_api("GET", f"{CREATION if kind == 'creation' else PATCH}/{lifecycle_id}/status")
        assert response.status == 200, response.text
        body = response.json()
        return body if kind == "creation" else body["patch"]

    def event(self, lifecycle_id: str, name: str, kind: str = "creation") -> dict[str, Any]:
        [state] = [state for state in self.status(lifecycle_id, kind)["events"] if state["name"] == name]
        return state

    def certify(self, lifecycle_id: str, certification_status: str = "CERTIFIED") -> dict[str, Any]:
        response = call_api(
            "POST", f"{CREATION}/{lifecycle_id}/certify", role="qa",
            body={"lifecycle_id": lifecycle_id, "stack_tag": self.stack_tag,
                  "certification_status": certification_status},
        )
        assert response.status == 200, response.text
        return response.json()

    def approve(
        self, lifecycle_id: str, approval_status: str = "APPROVED", *, kind: str = "creation", approver: str = APPROVER
    ) -> dict[str, Any]:
        response = call_api(
            "POST", f"{CREATION if kind == 'creation' else PATCH}/{lifecycle_id}/approve", role="approver",
            body={"lifecycle_id": lifecycle_id, "stack_tag": self.stack_tag, "approval_status": approval_status,
                  "approver": approver},
        )
        assert response.status == 200, response.text
        return response.json()

    def component(self, key: str = "patches/openssl-fix.yml") -> str:
        """Upload a patch component document to the deployment's patch bucket; returns its s3:// URL."""
        aws("s3").put_object(
            Bucket=self.deployment.patch_bucket, Key=key, Body=b"name: fix\nschemaVersion: 1.0\n"
        )
        return f"s3://{self.deployment.patch_bucket}/{key}"

    def patch_body(
        self, lifecycle_id: str, bump: str = "MINOR", events: tuple[str, ...] = ("PATCH_AMI",), **fields: Any
    ) -> dict[str, Any]:
        if "patch_component_url" not in fields:
            fields["patch_component_url"] = self.component()
        return {
            "lifecycle_id": lifecycle_id,
            "stack_tag": self.stack_tag,
            "owner": "patcher",
            "notifications": [{"method": "EMAIL", "target": "patcher@domain.com"}],
            "events": switches(events),
            "patch_change_description": "openssl CVE fix",
            "semver_bump_type": bump,
            **fields,
        }

    def patch(self, lifecycle_id: str, bump: str = "MINOR", events: tuple[str, ...] = ("PATCH_AMI",)) -> dict[str, Any]:
        response = call_api("POST", PATCH, body=self.patch_body(lifecycle_id, bump, events))
        assert response.status == 201, response.text
        return response.json()

    # --- what a state machine would send ---

    def finish(
        self, lifecycle_id: str, *, kind: str = "creation", status: str = "COMPLETED",
        outputs: dict[str, Any] | None = None, reason: str | None = None, record: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send the verdict of the event in progress (status COMPLETED, FAILED or ERROR); returns the message.
        `record`: the lifecycle as just read, to spare a read."""
        record = record or self.status(lifecycle_id, kind)
        running = [state for state in record["events"] if state["status"] == "IN_PROGRESS"]
        assert len(running) == 1, f"expected one event in progress, got {running}"
        state = running[0]
        workflow_input = execution_input(self.deployment, WORKFLOW_OF[state["name"]], state["execution_name"])
        if status == "ERROR":
            message: dict[str, Any] = {
                "workflow_input": workflow_input, "status_date": now(),
                "error": {"Error": "States.TaskFailed", "Cause": reason or "boom"},
            }
            receiver = "error"
        else:
            if outputs is None:
                outputs = outputs_for(state["name"], self.deployment) if status == "COMPLETED" else {}
            message = {"workflow_input": workflow_input, "status": status, "status_date": now(), "outputs": outputs}
            if reason:
                message["reason"] = reason
            receiver = kind
        response = call_receiver(receiver, message)
        assert response == {"batchItemFailures": []}, response
        return message

    def run_chain(self, lifecycle_id: str, kind: str = "creation") -> None:
        """Complete every automatic event until nothing is in progress."""
        while True:
            record = self.status(lifecycle_id, kind)
            if not any(state["status"] == "IN_PROGRESS" for state in record["events"]):
                return
            self.finish(lifecycle_id, kind=kind, record=record)

    # --- points of a lifecycle ---

    def built(self, **fields: Any) -> str:
        lifecycle_id = self.create(AUTOMATIC_CREATION[:1], **fields)["lifecycle_id"]
        self.run_chain(lifecycle_id)
        return lifecycle_id

    def scanned(self, **fields: Any) -> str:
        lifecycle_id = self.create(AUTOMATIC_CREATION[:3], **fields)["lifecycle_id"]
        self.run_chain(lifecycle_id)
        return lifecycle_id

    def qa_requested(self, **fields: Any) -> str:
        lifecycle_id = self.create(AUTOMATIC_CREATION, **fields)["lifecycle_id"]
        self.run_chain(lifecycle_id)
        return lifecycle_id

    def certified(self, **fields: Any) -> str:
        lifecycle_id = self.qa_requested(**fields)
        self.certify(lifecycle_id)
        return lifecycle_id

    def in_production(self, **fields: Any) -> str:
        lifecycle_id = self.certified(**fields)
        self.approve(lifecycle_id)
        self.finish(lifecycle_id)
        return lifecycle_id

    def patched(self, bump: str = "MINOR", events: tuple[str, ...] = ("PATCH_AMI",), **fields: Any) -> str:
        """A production lifecycle with a patch run whose PATCH_AMI is in progress."""
        lifecycle_id = self.in_production(**fields)
        self.patch(lifecycle_id, bump, events)
        return lifecycle_id

    def patch_approved(self, bump: str = "MINOR", **fields: Any) -> str:
        lifecycle_id = self.patched(bump, **fields)
        self.run_chain(lifecycle_id, "patch")
        self.approve(lifecycle_id, kind="patch")
        self.finish(lifecycle_id, kind="patch")
        return lifecycle_id
