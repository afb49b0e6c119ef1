"""The six lifecycle state machines, their step functions, the callbacks function that resumes their
event-driven waits, and the settings of every wait (grants: stacks/workflows/grants.py).

Each state machine is statemachines/<workflow>.asl.json; everything deployment-specific enters as a
definition substitution. One step function per workflow serves all of its steps (the payload names
the step), so each function's role holds exactly that workflow's permissions.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from lambdas.domain.events import WORKFLOWS
from stacks import naming
from stacks.config import AppConfig
from stacks.lambda_factory import REPO_ROOT, LambdaFactory
from stacks.suppressions import suppress_checkov
from stacks.workflows.artifacts import ArtifactStore
from stacks.workflows.callbacks import Callbacks
from stacks.workflows.grants import StepGrants
from stacks.workflows.test_instances import TestInstances

ASL_DIR = REPO_ROOT / "statemachines"
CHECK_SCRIPT = REPO_ROOT / "components" / "checks" / "ami_checks.py"
# Backoff waits, where AWS emits no event: (first check, bound) in seconds; lambdas/steps/backoff.py
# computes the checks in between.
BACKOFF_WAITS = {
    "Registration": (60, 10 * 60),  # an SSM agent comes online a minute or two after launch
    "Store": (120, 6 * 3600),  # by 2 min the store task's progress figure says how long it will take
    "Export": (120, 4 * 3600),
}
CHECK_TIMEOUT_SECONDS = 600
# Callback waits: how long the event may take before one status check decides.
CALLBACK_WAITS = {
    "Checks": CHECK_TIMEOUT_SECONDS + 5 * 60,  # the check script's own timeout, plus delivery
    "Scan": 3600,  # Inspector's initial scan
    "Restore": 6 * 3600,  # the QA export's restored copy
}
# Which wait settings each workflow's definition substitutes.
_WAITS_OF = {"smoke-tests": (["Registration"], ["Checks"]), "vulnerability-scans": ([], ["Scan"]),
             "qa-certification-request": (["Store", "Export"], ["Restore"]), "mark-for-production": (["Store"], [])}
# Workflows with a callback wait: their machine invokes the callbacks function.
_CALLBACK_WORKFLOWS = ("build", "patch", "smoke-tests", "vulnerability-scans", "qa-certification-request")

_ASYNC_DLQ = (
    "CKV_AWS_116",
    "Invoked synchronously by Step Functions, which retries and catches its errors; the callback "
    "listener is backed by each wait's timeout check, so a dead-letter queue would hold nothing to replay.",
)


class WorkflowMachines(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        core: Any,
        factory: LambdaFactory,
        image_builder: Any,
        artifacts: ArtifactStore,
        test_instances: TestInstances,
    ) -> None:
        super().__init__(scope, construct_id)
        self._stack = Stack.of(self)
        self._tag = config.stack_tag_slug
        self._config = config
        self._core = core
        self._factory = factory
        self.callbacks = Callbacks(self, "Callbacks", key=core.key)

        functions = {
            name: self._function(name, description)
            for name, description in (
                ("build", "Build workflow steps: start the pipeline, read the image, cancel on error"),
                ("callbacks", "Resumes workflows waiting for AWS: stores task tokens, listens to AWS events, checks once on timeout"),
                ("patch", "Patch workflow steps: dynamic Image Builder resources around one build"),
                ("smoke-tests", "Smoke-test workflow steps: test instance, SSM Run Command checks"),
                ("vulnerability-scans", "Vulnerability-scan workflow steps: test instance, Inspector findings and report"),
                ("qa-certification-request", "QA request workflow steps: VM export and the QA message"),
                ("mark-for-production", "Mark-for-production workflow steps: AMI backup to S3"),
            )
        }
        self.functions = functions
        self._grant(functions, image_builder, artifacts, test_instances)
        self.callbacks.route_events_to(functions["callbacks"])

        self.state_machines: dict[str, sfn.StateMachine] = {}
        for workflow in WORKFLOWS:
            waits = workflow in _CALLBACK_WORKFLOWS
            invoked = [functions[workflow]] + ([functions["callbacks"]] if waits else [])
            subs = {**self._substitutions(workflow, image_builder, artifacts, test_instances),
                    "StepsFunctionArn": functions[workflow].function_arn}
            if waits:
                subs["CallbacksFunctionArn"] = functions["callbacks"].function_arn
            self.state_machines[workflow] = self._machine(workflow, subs, invoked)
        self.state_machines["qa-certification-request"].role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[core.notification_topic.topic_arn])
        )

    def _grant(self, functions: dict[str, lambda_.Function], image_builder: Any, artifacts: ArtifactStore,
               test_instances: TestInstances) -> None:
        grants = StepGrants(self._stack, self._tag)
        grants.callbacks(functions["callbacks"], self.callbacks.table)
        grants.build(functions["build"], image_builder.pipeline_arn)
        grants.patch(functions["patch"], image_builder, self._core)
        for name in ("smoke-tests", "vulnerability-scans"):
            grants.test_instances(functions[name], test_instances)
        grants.ssm_commands(functions["smoke-tests"])
        grants.inspector(functions["vulnerability-scans"], artifacts)
        grants.export(functions["qa-certification-request"], artifacts)
        grants.store(functions["mark-for-production"], artifacts)

    def _substitutions(self, workflow: str, image_builder: Any, artifacts: ArtifactStore,
                       test_instances: TestInstances) -> dict[str, str]:
        core, workflows = self._core, self._config.workflows
        key_arn = core.key.key_arn
        build_timeout = str(workflows.image_builder_timeout_minutes * 60)
        instance = {
            "InstanceType": workflows.test_instance_type,
            "SubnetId": test_instances.subnet_id,
            "SecurityGroupId": test_instances.security_group_id,
            "InstanceProfileName": test_instances.profile.instance_profile_name,
        }
        own: dict[str, dict[str, str]] = {
            "build": {"PipelineArn": image_builder.pipeline_arn, "BuildTimeoutSeconds": build_timeout},
            "patch": {
                "KmsKeyArn": key_arn,
                "InfrastructureConfigurationArn": image_builder.infrastructure_configuration_arn,
                "DistributionConfigurationArn": image_builder.distribution_configuration_arn,
                "BuildTimeoutSeconds": build_timeout,
            },
            "smoke-tests": {
                **instance,
                "CheckScriptB64": base64.b64encode(CHECK_SCRIPT.read_bytes()).decode(),
                "CheckTimeoutSeconds": str(CHECK_TIMEOUT_SECONDS),
            },
            "vulnerability-scans": {
                **instance,
                "ReportBucket": artifacts.reports.bucket_name,
                "KmsKeyArn": key_arn,
                "MaxCritical": str(workflows.vulnerability_gate.max_critical),
                "MaxHigh": str(workflows.vulnerability_gate.max_high),
            },
            "qa-certification-request": {
                "ExportBucket": artifacts.exports.bucket_name,
                "StagingBucket": artifacts.export_staging.bucket_name,
                "ExportRoleName": artifacts.export_role.role_name,
                "DiskFormat": workflows.export_format,
                "TopicArn": core.notification_topic.topic_arn,
            },
            "mark-for-production": {"BackupBucket": artifacts.backups.bucket_name},
        }
        backoff, callbacks = _WAITS_OF.get(workflow, ([], []))
        waits = {f"{name}FirstCheckSeconds": str(BACKOFF_WAITS[name][0]) for name in backoff}
        waits |= {f"{name}MaxSeconds": str(BACKOFF_WAITS[name][1]) for name in backoff}
        waits |= {f"{name}WaitSeconds": str(CALLBACK_WAITS[name]) for name in callbacks}
        common = {
            "ErrorQueueUrl": core.error_queue.queue_url,
            "CreationQueueUrl": core.creation_queue.queue_url,
            "PatchQueueUrl": core.patch_queue.queue_url,
            "DeploymentTag": self._tag,
            "Region": self._stack.region,
        }
        return {**common, **own[workflow], **waits}

    # ---- functions
    def _function(self, name: str, description: str) -> lambda_.Function:
        module = name.replace("-", "_")
        environment = {"CALLBACK_TOKEN_TABLE": self.callbacks.table.table_name} if name == "callbacks" else {}
        function = self._factory.function(
            "".join(part.title() for part in name.split("-")) + "Steps",
            handler=f"lambdas.steps.{module}.handler.lambda_handler",
            description=description,
            environment=environment,
            timeout=Duration.minutes(2),
        )
        suppress_checkov(function, _ASYNC_DLQ)
        return function

    # ---- state machines
    def _machine(self, workflow: str, substitutions: dict[str, str], invoked: list[lambda_.Function]) -> sfn.StateMachine:
        core = self._core
        construct_id = "".join(part.title() for part in workflow.split("-"))
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            log_group_name=naming.vended_log_group_name(self._tag, f"states/{workflow}"),
            encryption_key=core.key,
            retention=self._config.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            role_name=naming.state_machine_role_name(self, self._tag, workflow),  # the receiver queues admit only it
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description=f"{naming.state_machine_name(self._tag, workflow)}: invokes its steps, reports to the receivers",
        )
        machine = sfn.StateMachine(
            self,
            construct_id,
            state_machine_name=naming.state_machine_name(self._tag, workflow),
            definition_body=sfn.DefinitionBody.from_file(str(Path(ASL_DIR, f"{workflow}.asl.json"))),
            definition_substitutions=substitutions,
            role=role,
            # ERROR only and no execution data: state holds AMI facts and task tokens, never logged.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR, include_execution_data=False),
            tracing_enabled=True,
        )
        for function in invoked:
            function.grant_invoke(role)
        for queue in (core.creation_queue, core.patch_queue, core.error_queue):
            queue.grant_send_messages(role)
        core.key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
        return machine
