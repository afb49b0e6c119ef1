"""The core stack: state, messaging, the REST API and its functions, receivers and scheduled jobs.

It never references the workflows stack: the six state machine ARNs come in as parameters, built
from their fixed names (stacks/naming.py). Every permission of every function is granted here, next
to the table of docs/ARCHITECTURE.md it implements.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from lambdas.domain.events import WORKFLOWS
from lambdas.receivers import REFUSED_METRIC
from stacks import naming
from stacks.config import AppConfig
from stacks.core.alarms import Alarms
from stacks.core.api import OrchestratorApi
from stacks.core.encryption import DeploymentKey
from stacks.core.jobs import ScheduledJobs
from stacks.core.messaging import Messaging
from stacks.core.receivers import Receivers
from stacks.core.storage import Storage
from stacks.lambda_factory import METRICS_NAMESPACE, LambdaFactory

# API Gateway gives up on an integration after 29 s.
API_TIMEOUT = Duration.seconds(25)
RECEIVER_TIMEOUT = Duration.seconds(60)
# AWS advises a queue visibility timeout of at least six times the consumer's timeout.
RECEIVER_VISIBILITY_TIMEOUT = Duration.seconds(6 * RECEIVER_TIMEOUT.to_seconds())
JOB_TIMEOUT = Duration.minutes(5)
# Tag the workflows put on every instance they launch; the garbage collector may end only those.
DEPLOYMENT_TAG_KEY = "AMI_LC_DEPLOYMENT"


class CoreStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        state_machine_arns: Mapping[str, str],
        env: Environment | None = None,
    ) -> None:
        super().__init__(
            scope, construct_id, env=env,
            description=f"AMI lifecycle orchestrator ({config.stack_tag_slug}): state, API, receivers, jobs",
        )
        if set(state_machine_arns) != set(WORKFLOWS):
            raise ValueError(f"state_machine_arns must name exactly the workflows {', '.join(WORKFLOWS)}")
        tag = config.stack_tag_slug

        self.key = DeploymentKey(self, "Encryption", tag=tag, retain=config.retain_data).key
        storage = Storage(self, "Storage", key=self.key, retain=config.retain_data,
                          access_log_days=config.log_retention_days)
        messaging = Messaging(
            self,
            "Messaging",
            key=self.key,
            visibility_timeout=RECEIVER_VISIBILITY_TIMEOUT,
            display_name=f"AMI lifecycle ({tag})",
            operator_emails=config.notifications.operator_emails,
            qa_emails=config.notifications.qa_emails,
            senders={workflow: naming.state_machine_role_arn(self, tag, workflow) for workflow in WORKFLOWS},
        )
        # What the workflows stack takes.
        self.lifecycle_table = storage.lifecycle_table
        self.lookup_table = storage.lookup_table
        self.patch_component_bucket = storage.patch_component_bucket
        self.creation_queue = messaging.creation_queue
        self.patch_queue = messaging.patch_queue
        self.error_queue = messaging.error_queue
        self.notification_topic = messaging.notification_topic

        lifecycle_arn = storage.lifecycle_table.table_arn
        lookup_arn = storage.lookup_table.table_arn
        topic_arn = messaging.notification_topic.topic_arn
        all_machines = list(state_machine_arns.values())
        executions = [
            f"arn:{self.partition}:states:{self.region}:{self.account}:execution:{naming.state_machine_name(tag, w)}:*"
            for w in WORKFLOWS
        ]
        production_machine = {"mark-for-production": state_machine_arns["mark-for-production"]}
        images = f"arn:{self.partition}:ec2:{self.region}::image/*"
        export_bucket = naming.artifact_bucket_name(self, tag, "exports")
        env = {
            "LIFECYCLE_TABLE": storage.lifecycle_table.table_name,
            "LOOKUP_TABLE": storage.lookup_table.table_name,
            "SEMVER_SEED_TABLE": storage.semver_seed_table.table_name,
            "NOTIFICATION_TOPIC_ARN": topic_arn,
            "PATCH_COMPONENT_BUCKET": storage.patch_component_bucket.bucket_name,
            "STATE_MACHINE_ARNS": self.to_json_string(dict(state_machine_arns)),
        }

        def pick(*names: str, **extra: str) -> dict[str, str]:
            return {**{name: env[name] for name in names}, **extra}

        factory = LambdaFactory(self, config=config, key=self.key)

        # --- API functions -------------------------------------------------------------------
        read = factory.function(
            "ApiRead",
            handler="lambdas.api.handlers.read.lambda_handler",
            description="Orchestrator API: lifecycle status, lists and timelines (every GET route)",
            environment=pick("LIFECYCLE_TABLE", "LOOKUP_TABLE", STATUS_PAGE_SIZE=str(config.status_page_size)),
            timeout=API_TIMEOUT,
        )
        _allow(read, ["dynamodb:GetItem"], [lifecycle_arn])
        _allow(read, ["dynamodb:Query"], [f"{lifecycle_arn}/index/by_stack_tag", lookup_arn])

        lifecycles = factory.function(
            "ApiLifecycles",
            handler="lambdas.api.handlers.lifecycles.lambda_handler",
            description="Orchestrator API: create and update creation and patch lifecycles (POST/PUT)",
            environment=pick("LIFECYCLE_TABLE", "SEMVER_SEED_TABLE", "STATE_MACHINE_ARNS", "NOTIFICATION_TOPIC_ARN",
                             "PATCH_COMPONENT_BUCKET"),
            timeout=API_TIMEOUT,
        )
        # Every lifecycle write is a conditional PutItem (alone or inside TransactWriteItems, which
        # IAM authorizes per item action).
        _allow(lifecycles, ["dynamodb:GetItem", "dynamodb:PutItem"], [lifecycle_arn])
        _allow(lifecycles, ["dynamodb:UpdateItem"], [storage.semver_seed_table.table_arn])
        _allow(lifecycles, ["states:StartExecution"], all_machines)
        _allow(lifecycles, ["sns:Subscribe", "sns:Publish"], [topic_arn])
        _allow(lifecycles, ["s3:GetObject"], [storage.patch_component_bucket.arn_for_objects("*")])

        certify = factory.function(
            "ApiCertify",
            handler="lambdas.api.handlers.certify.lambda_handler",
            description="Orchestrator API: record the QA certification of a creation lifecycle",
            environment=pick(
                "LIFECYCLE_TABLE", "LOOKUP_TABLE", "NOTIFICATION_TOPIC_ARN",
                EXPORT_BUCKET=export_bucket,
                QA_DOWNLOAD_LINK_MINUTES=str(config.workflows.qa_download_link_minutes),
            ),
            timeout=API_TIMEOUT,
        )
        _allow(certify, ["dynamodb:GetItem", "dynamodb:PutItem"], [lifecycle_arn])
        _allow(certify, ["dynamodb:PutItem"], [lookup_arn])
        _allow(certify, ["ec2:CreateTags"], [images])
        _allow(certify, ["sns:Publish"], [topic_arn])
        # Presigns the QA team's download link: the link works only while its signer may read the object.
        _allow(certify, ["s3:GetObject"], [f"arn:{self.partition}:s3:::{export_bucket}/*"])

        approve = factory.function(
            "ApiApprove",
            handler="lambdas.api.handlers.approve.lambda_handler",
            description="Orchestrator API: approve (or reject) an AMI for production",
            environment=pick("LIFECYCLE_TABLE", "NOTIFICATION_TOPIC_ARN",
                             STATE_MACHINE_ARNS=self.to_json_string(production_machine)),
            timeout=API_TIMEOUT,
        )
        _allow(approve, ["dynamodb:GetItem", "dynamodb:PutItem"], [lifecycle_arn])
        _allow(approve, ["states:StartExecution"], list(production_machine.values()))
        _allow(approve, ["ec2:CreateTags"], [images])
        _allow(approve, ["sns:Publish"], [topic_arn])

        api = OrchestratorApi(
            self,
            "Api",
            config=config,
            key=self.key,
            read_function=read,
            lifecycles_function=lifecycles,
            certify_function=certify,
            approve_function=approve,
        )
        for function in (read, lifecycles, certify, approve):
            function.add_environment("API_KEY_IDS", api.api_key_ids_json)
        read.add_environment("TIMELINE_SIGNING_SECRET_ARN", api.link_signing_secret.secret_arn)
        read.add_environment("TIMELINE_LINK_MINUTES", str(config.timeline.link_minutes))
        read.add_environment("TIMELINE_REFRESH_SECONDS", str(config.timeline.refresh_seconds))
        _allow(read, ["secretsmanager:GetSecretValue"], [api.link_signing_secret.secret_arn])

        # --- receivers -----------------------------------------------------------------------
        receivers: list[tuple[str, lambda_.Function]] = []
        for name, description in (
            ("creation", "results of creation workflows"),
            ("patch", "results of patch workflows"),
            ("error", "failures reported by any workflow"),
        ):
            receiver = factory.function(
                f"{name.capitalize()}Receiver",
                handler=f"lambdas.receivers.{name}.lambda_handler",
                description=f"Receiver: records the {description} and starts the next event",
                environment=pick("LIFECYCLE_TABLE", "LOOKUP_TABLE", "NOTIFICATION_TOPIC_ARN", "STATE_MACHINE_ARNS"),
                timeout=RECEIVER_TIMEOUT,
            )
            _allow(receiver, ["dynamodb:GetItem", "dynamodb:PutItem"], [lifecycle_arn])
            _allow(receiver, ["dynamodb:PutItem"], [lookup_arn])
            _allow(receiver, ["ec2:CreateTags"], [images])
            _allow(receiver, ["sns:Publish"], [topic_arn])
            _allow(receiver, ["states:StartExecution"], all_machines)
            # Checks each message against the execution it names (Orchestrator._check_sender).
            _allow(receiver, ["states:DescribeExecution"], executions)
            receivers.append((name, receiver))
        queues = {"creation": self.creation_queue, "patch": self.patch_queue, "error": self.error_queue}
        Receivers(self, "Receivers", pairs=[(queues[name], function) for name, function in receivers])

        # --- scheduled jobs ------------------------------------------------------------------
        reconciler = factory.function(
            "Reconciler",
            handler="lambdas.jobs.reconciler.lambda_handler",
            description="Finds events in progress whose execution ended without a result, and settles them",
            environment=pick("LIFECYCLE_TABLE", "NOTIFICATION_TOPIC_ARN", "STATE_MACHINE_ARNS",
                             RECONCILER_GRACE_MINUTES=str(config.reconciler.grace_minutes)),
            timeout=JOB_TIMEOUT,
        )
        _allow(reconciler, ["dynamodb:Query"], [f"{lifecycle_arn}/index/in_progress"])
        _allow(reconciler, ["dynamodb:GetItem", "dynamodb:PutItem"], [lifecycle_arn])
        _allow(reconciler, ["ec2:CreateTags"], [images])
        _allow(reconciler, ["states:DescribeExecution"], executions)
        _allow(reconciler, ["sns:Publish"], [topic_arn])

        garbage_collector = factory.function(
            "GarbageCollector",
            handler="lambdas.jobs.garbage_collector.lambda_handler",
            description="Terminates test instances of this deployment older than the configured age",
            environment={"GC_MAX_INSTANCE_HOURS": str(config.garbage_collector.max_instance_hours)},
            timeout=JOB_TIMEOUT,
        )
        # DescribeInstances supports no resource-level permission: "*" is the only valid resource.
        _allow(garbage_collector, ["ec2:DescribeInstances"], ["*"])
        _allow(
            garbage_collector,
            ["ec2:TerminateInstances"],
            [f"arn:{self.partition}:ec2:{self.region}:{self.account}:instance/*"],
            conditions={"StringEquals": {f"aws:ResourceTag/{DEPLOYMENT_TAG_KEY}": tag}},
        )
        ScheduledJobs(self, "Jobs", config=config, reconciler=reconciler, garbage_collector=garbage_collector)

        Alarms(
            self,
            "Alarms",
            tag=tag,
            key=self.key,
            topic=messaging.alarm_topic,
            dead_letter_queues=messaging.dead_letter_queues,
            functions={
                "api-read": read, "api-lifecycles": lifecycles, "api-certify": certify, "api-approve": approve,
                **{f"{name}-receiver": function for name, function in receivers},
                "reconciler": reconciler, "garbage-collector": garbage_collector,
            },
            state_machine_arns=state_machine_arns,
            api_stage=api.rest_api.deployment_stage,
            metrics_namespace=METRICS_NAMESPACE,
            refused_metric=REFUSED_METRIC,
        )

        # --- outputs (names are a contract with the README, the CLI and the local cloud) -------
        for output_id, value, description in (
            ("ApiEndpoint", api.url, "Base URL of the orchestrator API (the stage URL)"),
            ("OperatorKeySecretArn", api.key_secrets["operator"].secret_arn, "Secret holding the operator API key"),
            ("QaKeySecretArn", api.key_secrets["qa"].secret_arn, "Secret holding the QA certifier API key"),
            ("ApproverKeySecretArn", api.key_secrets["approver"].secret_arn, "Secret holding the approver API key"),
            ("LifecycleTableName", storage.lifecycle_table.table_name, "Lifecycle state table"),
            ("LookupTableName", storage.lookup_table.table_name, "AMI lookup table (for get_ami.sh)"),
            ("PatchComponentBucketName", storage.patch_component_bucket.bucket_name, "Bucket for patch components"),
            ("NotificationTopicArn", topic_arn, "Lifecycle notification topic"),
            ("AlarmTopicArn", messaging.alarm_topic.topic_arn, "Operator alarm topic (CloudWatch alarms)"),
        ):
            CfnOutput(self, output_id, value=value, description=description)


def _allow(
    function: lambda_.Function,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    conditions: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    function.add_to_role_policy(
        iam.PolicyStatement(actions=list(actions), resources=list(resources), conditions=dict(conditions or {}))
    )
