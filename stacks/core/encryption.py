"""The deployment's one customer-managed KMS key."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks import naming


class DeploymentKey(Construct):
    """Encrypts tables, queues, topic, buckets, secrets, Lambda environments and log groups.

    CloudWatch Logs may use it only for this deployment's log groups (the two name prefixes of
    `naming.log_group_name` and `naming.vended_log_group_name`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, tag: str, retain: bool) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{naming.resource_name(tag, 'key')}",
            description=f"AMI lifecycle orchestrator ({tag}): tables, queues, topic, buckets, secrets, logs",
            enable_key_rotation=True,
            pending_window=Duration.days(7),
            # Retained tables stay readable only while their key exists.
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        # Inspector writes the findings reports of the scan workflow into a bucket under this key.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="InspectorFindingsReportsOfThisAccount",
                principals=[iam.ServicePrincipal("inspector2.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:inspector2:{stack.region}:{stack.account}:report/*"},
                },
            )
        )
        log_group_arn = f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:"
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisDeployment",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": [
                            log_group_arn + naming.log_group_name(tag, "*"),
                            log_group_arn + naming.vended_log_group_name(tag, "*"),
                        ]
                    }
                },
            )
        )
