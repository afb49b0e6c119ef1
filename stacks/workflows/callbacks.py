"""The callback half of every event-driven wait: the task-token table and the EventBridge rules that
bring AWS's events to the callbacks function (lambdas/steps/callbacks/).

Each rule matches only the final states a wait ends on, so the function is not invoked for the
intermediate ones; event shapes and their AWS pages: docs/LOCAL_CLOUD.md.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

# Coverage reasons that mean "never scanned"; RESOURCE_TERMINATED and EC2_INSTANCE_STOPPED are left
# out: every run's own cleanup causes them, and a test instance lost mid-scan is found by the wait's
# timeout check instead.
_CANNOT_SCAN = ["UNSUPPORTED_OS", "ACCESS_DENIED", "EXCLUDED_BY_TAG", "SCAN_ELIGIBILITY_EXPIRED"]

# rule id -> (source, detail-type, detail pattern, description)
RULES: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "ImageStateChange": (
        "aws.imagebuilder", "EC2 Image Builder Image State Change",
        {"state": {"status": ["AVAILABLE", "FAILED", "CANCELLED", "DEPRECATED", "DELETED", "DISABLED"]}},
        "Image Builder images reaching a final state resume the build or patch waiting for them",
    ),
    "AmiStateChange": (
        "aws.ec2", "EC2 AMI State Change", {"State": ["available", "failed"]},
        "AMIs becoming available or failed resume the workflow waiting for them (the QA export's restored copy)",
    ),
    "CommandStatusChange": (
        "aws.ssm", "EC2 Command Invocation Status-change Notification",
        {"status": ["Success", "Failed", "Cancelled", "TimedOut"]},
        "Run Command invocations ending resume the smoke tests waiting for them",
    ),
    "InspectorInitialScan": (
        "aws.inspector2", "Inspector2 Scan", {"scan-status": ["INITIAL_SCAN_COMPLETE"]},
        "Inspector's initial scan of a test instance resumes the vulnerability scan waiting for it",
    ),
    "InspectorCannotScan": (
        "aws.inspector2", "Inspector2 Coverage",
        {"scanStatus": {"statusCodeValue": ["INACTIVE"], "reason": _CANNOT_SCAN}},
        "Inspector saying a test instance cannot be scanned fails the vulnerability scan waiting for it at once",
    ),
}


class Callbacks(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="resource_key", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,  # tokens of running waits only; nothing to keep
        )

    def route_events_to(self, function: lambda_.IFunction) -> None:
        for rule_id, (source, detail_type, detail, description) in RULES.items():
            events.Rule(
                self,
                rule_id,
                description=description,
                event_pattern=events.EventPattern(source=[source], detail_type=[detail_type], detail=detail),
                # Retried for up to 2 h; past that the wait's timeout check takes over.
                targets=[targets.LambdaFunction(function, retry_attempts=8, max_event_age=Duration.hours(2))],
            )
