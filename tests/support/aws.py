"""moto resources shaped exactly like the deployed ones (docs/ARCHITECTURE.md; an infrastructure test
compares these key schemas with the synthesized template)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"
DEPLOYMENT_TAG = "test"
EXPORT_BUCKET = "ami-lc-test-exports"
WORKFLOW_NAMES = ("build", "smoke-tests", "vulnerability-scans", "qa-certification-request", "mark-for-production", "patch")
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


def make_ami(name: str = "golden") -> str:
    """A real AMI in moto's EC2 (what an Image Builder build leaves behind)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    source = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=source, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ami = ec2.create_image(InstanceId=instance, Name=f"{name}-{instance}")["ImageId"]
    ec2.terminate_instances(InstanceIds=[instance])
    return ami


def ami_tags(ami_id: str) -> dict[str, str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    image = ec2.describe_images(ImageIds=[ami_id])["Images"][0]
    return {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}


def drain_notifications(deployment: Deployment) -> list[dict[str, Any]]:
    """SNS envelopes delivered since the last call: {Subject, Message, MessageAttributes, ...}."""
    sqs = boto3.client("sqs", region_name=REGION)
    received = []
    while True:
        batch = sqs.receive_message(QueueUrl=deployment.sink_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return received
        for message in batch:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=deployment.sink_queue_url, ReceiptHandle=message["ReceiptHandle"])


def executions(deployment: Deployment, workflow: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    return sfn.list_executions(stateMachineArn=deployment.state_machine_arns[workflow])["executions"]


def execution_input(deployment: Deployment, workflow: str, name: str) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = deployment.state_machine_arns[workflow].replace(":stateMachine:", ":execution:") + f":{name}"
    return json.loads(sfn.describe_execution(executionArn=arn)["input"])
