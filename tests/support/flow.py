"""Drive lifecycles through the API and the receivers, the way users and state machines do.

The state machines in moto are placeholders that never run, so `Flow.finish` (and `complete_current`)
plays the part of a machine's last state: it reads the input the orchestrator started the execution
with and sends the `WorkflowResult` (or `WorkflowError`) the machine would send to its receiver queue.

Two styles over one implementation: the `Flow` class (a deployment and a stack tag, with points of a
lifecycle such as `qa_requested` or `in_production`), and module functions (`create`, `complete_current`,
`certify`, `approve`, `production_lifecycle`, ...). `kind` is "creation"/"patch" or the API's
"ami-creation"/"ami-patch".

`snapshot` / `assert_unchanged` capture everything a request could change (the three tables, every
execution, SNS subscriptions, notifications, AMI tags) so an error case can prove it changed nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lambdas.adapters.workflow_starter import execution_arn
from tests.support.aws import (
    EXPORT_BUCKET,
    REGION,
    WORKFLOW_NAMES,
    Deployment,
    aws,
    drain_notifications,
    execution_input,
    executions,
    new_ami,
)
from tests.support.calls import ApiResponse, call_api, call_receiver

CREATION = "/ami-creation/lifecycles"
PATCH = "/ami-patch/lifecycles"
UNKNOWN_ID = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"
APPROVER = "ana@example.com"
PATCH_COMPONENT = "patches/openssl.yml"

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


def _is_patch(kind: str) -> bool:
    if kind not in ("creation", "patch", "ami-creation", "ami-patch"):
        raise ValueError(f"unknown lifecycle kind {kind!r}")
    return kind.endswith("patch")


def _route(kind: str) -> str:
    return PATCH if _is_patch(kind) else CREATION


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def switches(enabled: tuple[str, ...] | list[str], disabled: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"name": name, "enabled": True} for name in enabled] + [
        {"name": name, "enabled": False} for name in disabled
    ]


# ----- request bodies -----------------------------------------------------------------------------


def create_body(
    *, stack_tag: str = "main", product_name: str = "My Product Name", events: tuple[str, ...] = AUTOMATIC_CREATION,
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


def upload_patch_component(deployment: Deployment, key: str = PATCH_COMPONENT) -> str:
    """Upload a patch component document to the deployment's patch bucket; returns its s3:// URL."""
    aws("s3").put_object(
        Bucket=deployment.patch_bucket, Key=key, Body=b"name: openssl\nschemaVersion: 1.0\nphases: []\n"
    )
    return f"s3://{deployment.patch_bucket}/{key}"


def patch_body(
    lifecycle_id: str, component_url: str, bump: str = "MINOR", stack_tag: str = "main",
    events: tuple[str, ...] = AUTOMATIC_PATCH, **fields: Any,
) -> dict[str, Any]:
    return {
        "lifecycle_id": lifecycle_id,
        "stack_tag": stack_tag,
        "owner": "patcher",
        "notifications": [{"method": "EMAIL", "target": "patcher@domain.com"}],
        "events": switches(events),
        "patch_component_url": component_url,
        "patch_change_description": "openssl CVE fix",
        "semver_bump_type": bump,
        **fields,
    }


# ----- what a state machine sends -----------------------------------------------------------------


def outputs_for(event: str) -> dict[str, Any]:
    """Outputs shaped like lambdas/domain/contracts.py for a COMPLETED result of `event` (a fresh AMI for
    a build)."""
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
            "findings": {"CRITICAL": 0, "HIGH": 1},
            "report_s3_uri": "s3://reports/scan.json",
            "gate": "CRITICAL>0",
            "gate_passed": True,
        }
    if event == "QA_CERTIFICATION_REQUEST":
        return {"export_task_id": "export-ami-0123456789abcdef0", "export_s3_uri": f"s3://{EXPORT_BUCKET}/exports/x.vmdk"}
    if event.startswith("MARK_FOR_PRODUCTION"):
        return {"backup_s3_uri": "s3://backups/ami.bin", "store_task_id": "store-1"}
    raise ValueError(f"{event} is not run by a workflow")


def result_message(
    deployment: Deployment, execution_name: str, event: str, *, status: str = "COMPLETED",
    outputs: dict[str, Any] | None = None, reason: str | None = None,
) -> dict[str, Any]:
    """The WorkflowResult the state machine of `event` sends when execution `execution_name` ends
    (outputs: `outputs_for(event)` for COMPLETED, none otherwise, unless given)."""
    if outputs is None:
        outputs = outputs_for(event) if status == "COMPLETED" else {}
    message: dict[str, Any] = {
        "workflow_input": execution_input(deployment, WORKFLOW_OF[event], execution_name),
        "execution_arn": execution_arn(deployment.state_machine_arns[WORKFLOW_OF[event]], execution_name),
        "status": status,
        "status_date": now(),
        "outputs": outputs,
    }
    if reason:
        message["reason"] = reason
    return message


# ----- API calls (each asserts its success status) -------------------------------------------------


def status(lifecycle_id: str, kind: str = "creation") -> dict[str, Any]:
    """The creation record, or for a patch kind the latest patch run's record."""
    response = call_api("GET", f"{_route(kind)}/{lifecycle_id}/status")
    assert response.status == 200, response.text
    body = response.json()
    return body["patch"] if _is_patch(kind) else body


def in_progress(record: dict[str, Any]) -> dict[str, Any] | None:
    return next((event for event in record["events"] if event["status"] == "IN_PROGRESS"), None)


def certify(
    lifecycle_id: str, certification_status: str = "CERTIFIED", stack_tag: str = "main"
) -> dict[str, Any]:
    response = call_api(
        "POST", f"{CREATION}/{lifecycle_id}/certify", role="qa",
        body={"lifecycle_id": lifecycle_id, "stack_tag": stack_tag, "certification_status": certification_status},
    )
    assert response.status == 200, response.text
    return response.json()


def approve(
    lifecycle_id: str, approval_status: str = "APPROVED", kind: str = "creation", stack_tag: str = "main",
    approver: str = APPROVER,
) -> dict[str, Any]:
    response = call_api(
        "POST", f"{_route(kind)}/{lifecycle_id}/approve", role="approver",
        body={"lifecycle_id": lifecycle_id, "stack_tag": stack_tag, "approval_status": approval_status,
              "approver": approver},
    )
    assert response.status == 200, response.text
    return response.json()


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
            for sub in aws("sns").list_subscriptions_by_topic(TopicArn=deployment.topic_arn)["Subscriptions"]
        ),
        tags={
            image["ImageId"]: {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}
            for image in aws("ec2").describe_images(Owners=["self"])["Images"]
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
        response = call_api("POST", CREATION, body=create_body(events=events, **fields))
        assert response.status == 201, response.text
        return response.json()

    def update(self, lifecycle_id: str, *, kind: str = "creation", **fields: Any) -> dict[str, Any]:
        body = {"lifecycle_id": lifecycle_id, "stack_tag": self.stack_tag, **fields}
        response = call_api("PUT", _route(kind), body=body)
        assert response.status == 200, response.text
        return response.json()

    def status(self, lifecycle_id: str, kind: str = "creation") -> dict[str, Any]:
        return status(lifecycle_id, kind)

    def event(self, lifecycle_id: str, name: str, kind: str = "creation") -> dict[str, Any]:
        [state] = [state for state in self.status(lifecycle_id, kind)["events"] if state["name"] == name]
        return state

    def certify(self, lifecycle_id: str, certification_status: str = "CERTIFIED") -> dict[str, Any]:
        return certify(lifecycle_id, certification_status, self.stack_tag)

    def approve(
        self, lifecycle_id: str, approval_status: str = "APPROVED", *, kind: str = "creation", approver: str = APPROVER
    ) -> dict[str, Any]:
        return approve(lifecycle_id, approval_status, kind, self.stack_tag, approver)

    def component(self, key: str = PATCH_COMPONENT) -> str:
        return upload_patch_component(self.deployment, key)

    def patch_body(
        self, lifecycle_id: str, bump: str = "MINOR", events: tuple[str, ...] = ("PATCH_AMI",), **fields: Any
    ) -> dict[str, Any]:
        url = fields.pop("patch_component_url") if "patch_component_url" in fields else self.component()
        return patch_body(lifecycle_id, url, bump, self.stack_tag, events, **fields)

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
        assert len(running) == 1, f"expected one event in progress, got {[(e['name'], e['status']) for e in record['events']]}"
        state = running[0]
        if status == "ERROR":
            workflow = WORKFLOW_OF[state["name"]]
            message: dict[str, Any] = {
                "workflow_input": execution_input(self.deployment, workflow, state["execution_name"]),
                "execution_arn": execution_arn(self.deployment.state_machine_arns[workflow], state["execution_name"]),
                "status_date": now(),
                "error": {"Error": "States.TaskFailed", "Cause": reason or "boom"},
            }
            receiver = "error"
        else:
            message = result_message(
                self.deployment, state["execution_name"], state["name"], status=status, outputs=outputs, reason=reason
            )
            receiver = "patch" if _is_patch(kind) else "creation"
        response = call_receiver(receiver, message)
        assert response == {"batchItemFailures": []}, response
        return message

    def run_chain(self, lifecycle_id: str, kind: str = "creation") -> None:
        """Complete every automatic event until nothing is in progress."""
        while True:
            record = self.status(lifecycle_id, kind)
            if in_progress(record) is None:
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


# ----- the same as functions ----------------------------------------------------------------------


def create(deployment: Deployment, events: tuple[str, ...] = AUTOMATIC_CREATION, **fields: Any) -> str:
    """A creation lifecycle (every automatic event by default); returns its id."""
    return Flow(deployment).create(events, **fields)["lifecycle_id"]


def complete_current(deployment: Deployment, lifecycle_id: str, kind: str = "creation", **result: Any) -> str:
    """Send the result of the event in progress (`result`: status, outputs, reason); returns the event name."""
    record = status(lifecycle_id, kind)
    running = in_progress(record)
    assert running is not None, f"nothing in progress: {[(e['name'], e['status']) for e in record['events']]}"
    Flow(deployment).finish(lifecycle_id, kind=kind, record=record, **result)
    return running["name"]


def production_lifecycle(deployment: Deployment, **fields: Any) -> str:
    """A creation lifecycle taken all the way to a production-approved AMI."""
    return Flow(deployment).in_production(**fields)
