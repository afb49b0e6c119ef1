"""moto resources shaped exactly like the deployed ones (docs/ARCHITECTURE.md; an infrastructure test
compares these key schemas with the synthesized template)."""

from __future__ import annotations

import functools
import itertools
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"
DEPLOYMENT_TAG = "test"
EXPORT_BUCKET = "ami-lc-test-exports"
WORKFLOW_NAMES = ("build", "smoke-tests", "vulnerability-scans", "qa-certification-request", "mark-for-production", "patch")
# The environment of every test (tests/conftest.py): no test can reach a real account.
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "ami-lifecycle-tests",
    "POWERTOOLS_METRICS_NAMESPACE": "AmiLifecycleTests",
    "POWERTOOLS_LOG_LEVEL": "DEBUG",
}
API_KEY_IDS = {"operator": "opkeyid0001", "qa": "qakeyid0001", "approver": "apkeyid0001"}
# What clients send in x-api-key; the functions must never store, log or forward these.
API_KEY_VALUES = {
    "operator": "OperatorKeyValue0f3c9a1b7d2e4c6a8b0d",
    "qa": "QaKeyValue5e1d3b7a9c2f4e6d8a0b1c3d",
    "approver": "ApproverKeyValue9b8a7c6d5e4f3a2b1c0d",
}

LIFECYCLE_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "gsi1pk", "gsi1sk", "ipk", "isk")
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "by_stack_tag",
            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "in_progress",
            "KeySchema": [{"AttributeName": "ipk", "KeyType": "HASH"}, {"AttributeName": "isk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        },
    ],
}
LOOKUP_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "selector", "KeyType": "HASH"}, {"AttributeName": "rank", "KeyType": "RANGE"}],
    "AttributeDefinitions": [{"AttributeName": "selector", "AttributeType": "S"}, {"AttributeName": "rank", "AttributeType": "S"}],
}
SEED_TABLE_SCHEMA: dict[str, Any] = {
    "KeySchema": [{"AttributeName": "seed_id", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "seed_id", "AttributeType": "S"}],
}


@dataclass
class Deployment:
    """What a test deployment made in moto, and the environment its functions see."""

    environ: dict[str, str]
    state_machine_arns: dict[str, str]
    patch_bucket: str
    topic_arn: str
    lifecycle_table: str
    lookup_table: str
    sink_queue_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def create_deployment() -> Deployment:
    ddb = boto3.client("dynamodb", region_name=REGION)
    tables = {"lifecycle": "lc-state", "lookup": "lc-lookup", "seed": "lc-seed"}
    for name, schema in (("lifecycle", LIFECYCLE_TABLE_SCHEMA), ("lookup", LOOKUP_TABLE_SCHEMA), ("seed", SEED_TABLE_SCHEMA)):
        ddb.create_table(TableName=tables[name], BillingMode="PAY_PER_REQUEST", **schema)
    sns = boto3.client("sns", region_name=REGION)
    topic_arn = sns.create_topic(Name="lc-notifications")["TopicArn"]
    # Every notification also lands in a queue, so tests can read exactly what subscribers get.
    sqs = boto3.client("sqs", region_name=REGION)
    sink_url = sqs.create_queue(QueueName="notification-sink")["QueueUrl"]
    sink_arn = sqs.get_queue_attributes(QueueUrl=sink_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=sink_arn)
    s3 = boto3.client("s3", region_name=REGION)
    bucket = "ami-lc-test-patch-components"
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=EXPORT_BUCKET)
    signing_secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="lc-timeline-signing", SecretString="timeline-signing-secret-for-tests-0123456789"
    )["ARN"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    role = f"arn:aws:iam::{ACCOUNT}:role/sfn"
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    arns = {
        workflow: sfn.create_state_machine(name=f"ami-lc-{DEPLOYMENT_TAG}-{workflow}", definition=definition, roleArn=role)[
            "stateMachineArn"
        ]
        for workflow in WORKFLOW_NAMES
    }
    environ = {
        "DEPLOYMENT_TAG": DEPLOYMENT_TAG,
        "LIFECYCLE_TABLE": tables["lifecycle"],
        "LOOKUP_TABLE": tables["lookup"],
        "SEMVER_SEED_TABLE": tables["seed"],
        "NOTIFICATION_TOPIC_ARN": topic_arn,
        "PATCH_COMPONENT_BUCKET": bucket,
        "STATE_MACHINE_ARNS": json.dumps(arns),
        "API_KEY_IDS": json.dumps(API_KEY_IDS),
        "RECONCILER_GRACE_MINUTES": "30",
        "GC_MAX_INSTANCE_HOURS": "6",
        "STATUS_PAGE_SIZE": "25",
        "TIMELINE_SIGNING_SECRET_ARN": signing_secret,
        "EXPORT_BUCKET": EXPORT_BUCKET,
        "QA_DOWNLOAD_LINK_MINUTES": "30",
        "TIMELINE_LINK_MINUTES": "60",
        "TIMELINE_REFRESH_SECONDS": "1",
    }
    return Deployment(
        environ=environ,
        state_machine_arns=arns,
        patch_bucket=bucket,
        topic_arn=topic_arn,
        lifecycle_table=tables["lifecycle"],
        lookup_table=tables["lookup"],
        sink_queue_url=sink_url,
    )


@functools.cache
def aws(service: str) -> Any:
    """One boto3 client per service for the whole run (moto intercepts it in whichever test is active);
    a new client costs ~15 ms of CPU, which adds up over hundreds of helper calls."""
    return boto3.client(service, region_name=REGION)


_AMI_NUMBERS = itertools.count(1)


def refused(call: Any) -> dict[str, str]:
    """The AWS error (Code, Message) a call must raise."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def new_ami(name: str = "golden") -> str:
    """An AMI in moto's EC2, as an Image Builder build leaves behind. Registered directly: launching an
    instance from one of moto's Amazon images costs ~0.6 s a call, and the orchestrator only records
    and tags the id."""
    return aws("ec2").register_image(
        Name=f"{name}-{next(_AMI_NUMBERS)}", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]


def ami_tags(ami_id: str) -> dict[str, str]:
    image = aws("ec2").describe_images(ImageIds=[ami_id])["Images"][0]
    return {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}


def drain_notifications(deployment: Deployment) -> list[dict[str, Any]]:
    """SNS envelopes delivered since the last call: {Subject, Message, MessageAttributes, ...}."""
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


# ----- a moto account per test (tests/conftest.py `deployment`) or per module -----------------------

_shared_loader = functools.cache(botocore.session.create_loader)


def _speed_ups(patch: pytest.MonkeyPatch) -> None:
    """boto3 set-up once per run instead of once per deployment; none changes what a test can observe.

    - moto drops boto3's default session on every start, and the deployment resets the functions'
      cached clients, so each deployment would re-parse botocore's service models and rebuild ~15
      clients. The session, the parsed models and the functions' clients are kept instead (moto
      intercepts a client whatever test created it, exactly as a warm Lambda container keeps its
      clients between invocations).
    - moto loads Amazon's public AMI catalogue into every fresh EC2 backend (~0.8 s); the tests register
      their own AMIs (new_ami) and never search the catalogue.
    """
    from moto.core.config import default_user_config

    patch.setattr(botocore.session, "create_loader", _shared_loader)
    patch.setitem(default_user_config, "core", {**default_user_config.get("core", {}), "reset_boto3_session": False})
    patch.setattr("lambdas.adapters.aws.reset_clients", lambda: None)
    patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


def _atomic_dynamodb_writes(patch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each write (and each transaction) atomically; moto's in-memory backend does
    not when called from several threads. Serialize its writes so race tests exercise our conditions
    against the guarantees the real service gives, not against moto's thread-safety."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        patch.setattr(DynamoDBBackend, name, atomic)


@contextmanager
def moto_deployment(patch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """A moto account holding the core resources, with the functions' environment applied through
    `patch` (which also undoes it). The AWS_* environment must already be the fake one."""
    # Imported only now: Powertools' Metrics singleton reads its namespace from the environment
    # when lambdas.core.observability is first imported (and keeps it for the whole session).
    from moto import mock_aws

    from lambdas.adapters import aws as function_clients
    from lambdas.orchestrator import factory

    _speed_ups(patch)
    _atomic_dynamodb_writes(patch)
    with mock_aws():
        function_clients.reset_clients()
        factory.reset()
        created = create_deployment()
        # moto POSTs SNS messages to http(s) endpoints for real; tests record them instead, so no
        # test ever sends traffic off this machine.
        deliveries = created.extra.setdefault("https_deliveries", [])
        patch.setattr(
            "moto.sns.models.requests.post",
            lambda url, json=None, **_: deliveries.append({"url": url, "body": json}),
        )
        for name, value in created.environ.items():
            patch.setenv(name, value)
        yield created
    function_clients.reset_clients()
    factory.reset()


def module_deployment() -> Iterator[Deployment]:
    """Like the `deployment` fixture, shared by a module whose tests only read it or undo what they change
    (override `deployment` with a module-scoped fixture that yields from this)."""
    with pytest.MonkeyPatch.context() as patch:
        # What tests/conftest.py's autouse fixture sets for each test; it is not active yet when a module-scoped
        # fixture starts.
        for name in [name for name in os.environ if name.startswith("AWS_")]:
            patch.delenv(name)
        for name, value in FAKE_ENV.items():
            patch.setenv(name, value)
        with moto_deployment(patch) as created:
            yield created
