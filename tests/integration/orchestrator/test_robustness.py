"""Duplicates, races, poison messages, secrets and scale: what must hold when things go wrong."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from lambdas.adapters.lifecycle_repository import LifecycleRepository
from lambdas.adapters.lookup_repository import LookupRepository
from lambdas.adapters.notifier import Notifier
from lambdas.domain.errors import ConcurrentUpdate
from lambdas.domain.lookup import rank
from lambdas.domain.semver import Version
from lambdas.domain.events import EventName, LifecycleType
from lambdas.domain.requests import CreateLifecycleRequest, CreatePatchRequest, UpdateLifecycleRequest
from tests.support.aws import API_KEY_VALUES, drain_notifications, executions, new_ami
from tests.support.calls import call_api, call_receiver
from tests.support.flow import (
    complete_current,
    create,
    patch_body,
    production_lifecycle,
    result_message,
    status,
    upload_patch_component,
)


def test_a_duplicated_receiver_message_changes_nothing(deployment):
    lifecycle_id = create(deployment)
    build = status(lifecycle_id)["events"][0]
    message = result_message(deployment, build["execution_name"], EventName.BUILD_AMI)
    assert call_receiver("creation", message) == {"batchItemFailures": []}
    before = status(lifecycle_id)
    drain_notifications(deployment)

    assert call_receiver("creation", message) == {"batchItemFailures": []}

    assert status(lifecycle_id) == before  # same version, same events, same AMI
    assert len(executions(deployment, "smoke-tests")) == 1
    assert drain_notifications(deployment) == []
    seed = boto3.client("dynamodb").get_item(
        TableName=deployment.environ["SEMVER_SEED_TABLE"], Key={"seed_id": {"S": "main#My Product Name"}}
    )["Item"]
    assert seed["major"]["N"] == "1"


def test_a_stale_result_of_an_earlier_attempt_is_ignored(deployment):
    lifecycle_id = create(deployment)
    complete_current(deployment, lifecycle_id)
    first = status(lifecycle_id)["events"][1]
    stale = result_message(deployment, first["execution_name"], EventName.SMOKE_TESTS_AMI_CREATE, status="FAILED",
                           reason="check failed", outputs={})
    call_receiver("creation", stale)
    call_api("PUT", "/ami-creation/lifecycles", body={"lifecycle_id": lifecycle_id, "stack_tag": "main"})
    # Attempt 1's result arrives again while attempt 2 runs: it must not settle attempt 2.
    assert call_receiver("creation", stale) == {"batchItemFailures": []}
    smoke = status(lifecycle_id)["events"][1]
    assert (smoke["status"], smoke["attempt"]) == ("IN_PROGRESS", 2)


def _gate_first_calls(monkeypatch, owner, attribute, parties):
    """Make the first call of each of `parties` threads wait for the others: a real race window."""
    barrier = threading.Barrier(parties, timeout=10)
    original = getattr(owner, attribute)
    seen: set[int] = set()

    def gated(self, *args, **kwargs):
        ident = threading.get_ident()
        if ident not in seen:
            seen.add(ident)
            barrier.wait()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, attribute, gated)


def _in_threads(count, work):
    results: list = [None] * count

    def run(index):
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _separate_containers(count, work):
    """Run `work(orchestrator)` in threads, each with its own orchestrator, as concurrent Lambda
    containers would (the API resolver itself is single-threaded per container, like Lambda)."""
    from lambdas.core.settings import get_settings
    from lambdas.orchestrator.factory import build_orchestrator

    def run(_):
        try:
            return work(build_orchestrator(get_settings()))
        except ConcurrentUpdate as exc:
            return exc

    return _in_threads(count, run)


def test_concurrent_creates_get_distinct_major_versions(deployment, monkeypatch):
    _gate_first_calls(monkeypatch, Notifier, "subscribe", 6)
    request = CreateLifecycleRequest.model_validate({
        "stack_tag": "main", "owner": "o", "product_name": "P", "product_ver": "1.0.0",
        "notifications": [{"method": "EMAIL", "target": "user@domain.com"}],
        "events": [{"name": "BUILD_AMI", "enabled": True}],
    })
    results = _separate_containers(6, lambda orchestrator: orchestrator.create_lifecycle(request)[0])
    assert sorted(record.semver for record in results) == [f"{n}.0.0" for n in range(1, 7)]
    assert len({record.lifecycle_id for record in results}) == 6


def test_two_concurrent_starts_of_one_event_start_exactly_one_execution(deployment, monkeypatch):
    lifecycle_id = create(deployment)
    complete_current(deployment, lifecycle_id)
    complete_current(deployment, lifecycle_id, status="FAILED", reason="check failed", outputs={})
    _gate_first_calls(monkeypatch, LifecycleRepository, "get", 2)
    retry = UpdateLifecycleRequest(lifecycle_id=lifecycle_id, stack_tag="main")

    results = _separate_containers(2, lambda o: o.update_lifecycle(retry, LifecycleType.CREATION)[1])

    started = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, ConcurrentUpdate)]
    assert len(started) == 1 and len(refused) == 1
    assert started[0].attempt == 2
    assert len(executions(deployment, "smoke-tests")) == 2  # attempt 1 and exactly one attempt 2


def test_two_concurrent_patches_create_one_run(deployment, monkeypatch):
    lifecycle_id = production_lifecycle(deployment)
    request = CreatePatchRequest.model_validate(patch_body(lifecycle_id, upload_patch_component(deployment)))
    _gate_first_calls(monkeypatch, LifecycleRepository, "get", 2)
    results = _separate_containers(2, lambda o: o.create_patch(request)[0])
    assert sum(isinstance(result, ConcurrentUpdate) for result in results) == 1
    assert len(executions(deployment, "patch")) == 1


def test_a_concurrent_update_is_a_409_with_a_retry_hint(deployment, monkeypatch):
    lifecycle_id = create(deployment)

    def conflicting_save(self, record):
        raise ConcurrentUpdate(f"lifecycle {record.lifecycle_id} changed while this request ran; retry it")

    monkeypatch.setattr(LifecycleRepository, "save", conflicting_save)
    response = call_api("PUT", "/ami-creation/lifecycles", body={"lifecycle_id": lifecycle_id, "stack_tag": "main"})
    assert response.status == 409 and "retry it" in response.json()["message"]


def test_a_message_that_keeps_failing_lands_in_the_dead_letter_queue(deployment):
    """Lambda's SQS poller, emulated: failed items stay on the queue; redrive moves them to the DLQ."""
    sqs = boto3.client("sqs")
    dlq_url = sqs.create_queue(QueueName="creation-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="creation",
        Attributes={"VisibilityTimeout": "0", "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
    )["QueueUrl"]
    lifecycle_id = create(deployment)
    build = status(lifecycle_id)["events"][0]
    good = result_message(deployment, build["execution_name"], EventName.BUILD_AMI)
    poison = {**good, "workflow_input": {**good["workflow_input"], "lifecycle_id": "00000000-0000-4000-8000-000000000000"}}
    for body in (poison, good):
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))

    for _ in range(10):  # bounded: the poison message needs 3 receives
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        event = {"Records": [
            {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"], "attributes": {},
             "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn", "awsRegion": "us-east-1"}
            for m in messages
        ]}
        from lambdas.receivers.creation import lambda_handler
        from tests.support.calls import FakeContext

        try:
            failed = {item["itemIdentifier"] for item in lambda_handler(event, FakeContext())["batchItemFailures"]}
        except BatchProcessingError:  # every record failed: Lambda returns the whole batch to the queue
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    dead = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(message["Body"])["workflow_input"]["lifecycle_id"] for message in dead] == [
        "00000000-0000-4000-8000-000000000000"
    ]
    assert status(lifecycle_id)["events"][0]["status"] == "COMPLETED"  # the good one in the same batch


def test_no_api_key_value_reaches_logs_state_tags_messages_or_workflow_inputs(deployment, capsys, caplog):
    lifecycle_id = production_lifecycle(deployment)
    response = call_api("POST", "/ami-patch/lifecycles", body=patch_body(lifecycle_id, upload_patch_component(deployment)))
    assert response.status == 201
    for _ in range(3):
        complete_current(deployment, lifecycle_id, "ami-patch")
    call_api("GET", "/ami-creation/lifecycles/status", query={"stack_tag": "main"})
    call_api("GET", f"/ami-creation/lifecycles/{lifecycle_id}/timeline")
    call_api("POST", f"/ami-creation/lifecycles/{lifecycle_id}/certify", role="approver", body={})  # refused

    ddb = boto3.client("dynamodb")
    haystack = [capsys.readouterr().out, caplog.text]
    for table in (deployment.lifecycle_table, deployment.lookup_table, deployment.environ["SEMVER_SEED_TABLE"]):
        haystack.append(json.dumps(ddb.scan(TableName=table)["Items"]))  # test-side audit, not a request path
    for image in boto3.client("ec2").describe_images(Owners=["self"])["Images"]:
        haystack.append(json.dumps(image.get("Tags", [])))
    haystack.append(json.dumps(drain_notifications(deployment)))
    sfn = boto3.client("stepfunctions")
    for workflow, _arn in deployment.state_machine_arns.items():
        for execution in executions(deployment, workflow):
            haystack.append(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    everything = "\n".join(haystack)
    assert len(everything) > 10_000  # the audit really read a full run
    for role, value in API_KEY_VALUES.items():
        assert value not in everything, f"the {role} key value leaked"


def test_latest_production_ami_reads_one_item_among_5000(deployment):
    ddb = boto3.client("dynamodb")
    rows, production = [], []
    for index in range(5000):
        stage = ("hardened", "smoke-tested", "scanned", "production")[index % 4]
        semver = f"{index // 50 + 1}.{index % 50}.0"
        if stage == "production":
            production.append(Version.parse(semver))
        rows.append({
            "selector": {"S": f"main#us-east-1#{stage}"},
            "rank": {"S": rank(semver, f"ami-{index:08x}")},
            "ami_id": {"S": f"ami-{index:08x}"}, "semver": {"S": semver},
        })
    for start in range(0, len(rows), 25):
        ddb.batch_write_item(RequestItems={deployment.lookup_table: [{"PutRequest": {"Item": r}} for r in rows[start:start + 25]]})

    started = time.perf_counter()
    items, _, read = LookupRepository(deployment.lookup_table).query("main#us-east-1#production", limit=1)
    elapsed_ms = (time.perf_counter() - started) * 1000

    assert read == 1
    assert items[0]["semver"] == str(max(production))  # highest semver among the 1250 production rows
    print(f"latest-production lookup over 5000 rows: {read} item read, {elapsed_ms:.1f} ms (moto)")


@pytest.mark.parametrize("hours_later, expected", [(1, 0), (25, 1), (24 * 3 + 1, 1)])
def test_garbage_collector_counts_days_and_spares_other_deployments(deployment, hours_later, expected):
    from datetime import UTC, datetime, timedelta

    from lambdas.orchestrator.factory import get_orchestrator

    ec2 = boto3.client("ec2")
    image = new_ami()

    def launch(deployment_tag):
        return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=[{
            "ResourceType": "instance",
            "Tags": [{"Key": "AMI_LC_DEPLOYMENT", "Value": deployment_tag}, {"Key": "AMI_LC_EVENT_INSTANCE", "Value": "TRUE"}],
        }])["Instances"][0]["InstanceId"]

    ours, theirs = launch("test"), launch("other-deployment")
    terminated = get_orchestrator().collect_garbage(now=datetime.now(UTC) + timedelta(hours=hours_later))
    assert terminated == [ours][:expected]
    states = {
        i["InstanceId"]: i["State"]["Name"]
        for r in ec2.describe_instances(InstanceIds=[ours, theirs])["Reservations"] for i in r["Instances"]
    }
    assert states[theirs] == "running"
    assert states[ours] == ("shutting-down" if expected else "running") or states[ours] == "terminated"


def test_reconciler_marks_lost_executions_error_and_leaves_running_ones(deployment):
    from datetime import UTC, datetime, timedelta

    from lambdas.orchestrator.factory import get_orchestrator

    lost = create(deployment)
    running = create(deployment)
    # `lost`'s execution vanished (e.g. it was never started); `running`'s is still RUNNING in moto.
    sfn = boto3.client("stepfunctions")
    build = status(lost)["events"][0]
    sfn.stop_execution(executionArn=deployment.state_machine_arns["build"].replace(":stateMachine:", ":execution:")
                       + f":{build['execution_name']}")
    drain_notifications(deployment)
    orchestrator = get_orchestrator()

    assert orchestrator.reconcile(now=datetime.now(UTC) + timedelta(minutes=5)) == []  # within the grace period
    marked = orchestrator.reconcile(now=datetime.now(UTC) + timedelta(hours=2))

    assert marked == [(lost, EventName.BUILD_AMI)]
    event = status(lost)["events"][0]
    assert event["status"] == "ERROR" and "ended (ABORTED) without reporting a result" in event["reason"]
    assert status(running)["events"][0]["status"] == "IN_PROGRESS"
    [note] = drain_notifications(deployment)
    assert note["MessageAttributes"]["severity"]["Value"] == "ERROR"
