"""The six lifecycle state machines, their step functions and least-privilege grants.

Each state machine is statemachines/<workflow>.asl.json; everything deployment-specific enters as a
definition substitution. One step function per workflow serves all of its steps (the payload names
the step), so each function's role holds exactly that workflow's permissions.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
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
from stacks.workflows.test_instances import TestInstances

ASL_DIR = REPO_ROOT / "statemachines"
CHECK_SCRIPT = REPO_ROOT / "components" / "checks" / "ami_checks.py"
DEPLOYMENT_TAG_KEY = "AMI_LC_DEPLOYMENT"

# Bounded polls: attempts x the Wait of the loop in the ASL file.
POLLS = {
    "ManagedMaxPolls": 30,  # x 20 s: SSM registration within 10 min
    "ChecksMaxPolls": 60,  # x 15 s: the check script within 15 min
    "ScanMaxPolls": 60,  # x 60 s: Inspector's first scan within 1 h
    "ReportMaxPolls": 60,  # x 10 s: the findings report within 10 min
    "ExportMaxPolls": 240,  # x 60 s: the VM export within 4 h
    "RestoreMaxPolls": 360,  # x 60 s: the QA export's restored copy within 6 h
    "StoreMaxPolls": 360,  # x 60 s: the S3 backup within 6 h
}
CHECK_TIMEOUT_SECONDS = 600

_ASYNC_DLQ = (
    "CKV_AWS_116",
    "Invoked synchronously by Step Functions, which retries and catches its errors; the image-event "
    "listener is also backed by the workflow's timeout check, so a dead-letter queue would hold nothing to replay.",
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
        workflows = config.workflows

        self.token_table = dynamodb.Table(
            self,
            "ImageTokens",
            partition_key=dynamodb.Attribute(name="resource_arn", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=core.key,
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.DESTROY,  # tokens of running builds only; nothing to keep
        )

        functions = {
            name: self._function(name, description)
            for name, description in (
                ("build", "Build workflow steps: start the pipeline, read the image, cancel on error"),
                ("image-events", "Resumes workflows waiting for an Image Builder image (callback + event listener)"),
                ("patch", "Patch workflow steps: dynamic Image Builder resources around one build"),
                ("smoke-tests", "Smoke-test workflow steps: test instance, SSM Run Command checks"),
                ("vulnerability-scans", "Vulnerability-scan workflow steps: test instance, Inspector findings and report"),
                ("qa-certification-request", "QA request workflow steps: VM export and the QA message"),
                ("mark-for-production", "Mark-for-production workflow steps: AMI backup to S3"),
            )
        }
        self.functions = functions
        self._grant_image_events(functions["image-events"])
        self._grant_build(functions["build"], image_builder.pipeline_arn)
        self._grant_patch(functions["patch"], image_builder, core)
        for name in ("smoke-tests", "vulnerability-scans"):
            self._grant_test_instances(functions[name], test_instances)
        self._grant_ssm_commands(functions["smoke-tests"])
        self._grant_inspector(functions["vulnerability-scans"], artifacts)
        self._grant_export(functions["qa-certification-request"], artifacts)
        self._grant_store(functions["mark-for-production"], artifacts)

        events.Rule(
            self,
            "ImageStateChange",
            description="Image Builder images reaching a final state resume the workflow waiting for them",
            event_pattern=events.EventPattern(
                source=["aws.imagebuilder"],
                detail_type=["EC2 Image Builder Image State Change"],
                detail={"state": {"status": ["AVAILABLE", "FAILED", "CANCELLED", "DEPRECATED", "DELETED", "DISABLED"]}},
            ),
            targets=[targets.LambdaFunction(functions["image-events"], retry_attempts=8, max_event_age=Duration.hours(2))],
        )

        region, key_arn = self._stack.region, core.key.key_arn
        common = {
            "ErrorQueueUrl": core.error_queue.queue_url,
            "CreationQueueUrl": core.creation_queue.queue_url,
            "PatchQueueUrl": core.patch_queue.queue_url,
            "DeploymentTag": self._tag,
            "Region": region,
        }
        build_timeout = str(workflows.image_builder_timeout_minutes * 60)
        instance = {
            "InstanceType": workflows.test_instance_type,
            "SubnetId": test_instances.subnet_id,
            "SecurityGroupId": test_instances.security_group_id,
            "InstanceProfileName": test_instances.profile.instance_profile_name,
        }
        polls = {name: str(value) for name, value in POLLS.items()}
        substitutions: dict[str, dict[str, str]] = {
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
                "ManagedMaxPolls": polls["ManagedMaxPolls"],
                "ChecksMaxPolls": polls["ChecksMaxPolls"],
            },
            "vulnerability-scans": {
                **instance,
                "ReportBucket": artifacts.reports.bucket_name,
                "KmsKeyArn": key_arn,
                "MaxCritical": str(workflows.vulnerability_gate.max_critical),
                "MaxHigh": str(workflows.vulnerability_gate.max_high),
                "ScanMaxPolls": polls["ScanMaxPolls"],
                "ReportMaxPolls": polls["ReportMaxPolls"],
            },
            "qa-certification-request": {
                "ExportBucket": artifacts.exports.bucket_name,
                "StagingBucket": artifacts.export_staging.bucket_name,
                "ExportRoleName": artifacts.export_role.role_name,
                "DiskFormat": workflows.export_format,
                "TopicArn": core.notification_topic.topic_arn,
                "StoreMaxPolls": polls["StoreMaxPolls"],
                "RestoreMaxPolls": polls["RestoreMaxPolls"],
                "ExportMaxPolls": polls["ExportMaxPolls"],
            },
            "mark-for-production": {"BackupBucket": artifacts.backups.bucket_name, "StoreMaxPolls": polls["StoreMaxPolls"]},
        }
        self.state_machines: dict[str, sfn.StateMachine] = {}
        for workflow in WORKFLOWS:
            steps = functions[workflow]
            invoked = [steps] + ([functions["image-events"]] if workflow in ("build", "patch") else [])
            subs = {**common, **substitutions[workflow], "StepsFunctionArn": steps.function_arn}
            if workflow in ("build", "patch"):
                subs["ImageEventsFunctionArn"] = functions["image-events"].function_arn
            self.state_machines[workflow] = self._machine(workflow, subs, invoked)
        self.state_machines["qa-certification-request"].role.add_to_principal_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[core.notification_topic.topic_arn])
        )

    # ---- functions
    def _function(self, name: str, description: str) -> lambda_.Function:
        module = name.replace("-", "_")
        environment = {"IMAGE_TOKEN_TABLE": self.token_table.table_name} if name == "image-events" else {}
        function = self._factory.function(
            "".join(part.title() for part in name.split("-")) + "Steps",
            handler=f"lambdas.steps.{module}.handler.lambda_handler",
            description=description,
            environment=environment,
            timeout=Duration.minutes(2),
        )
        suppress_checkov(function, _ASYNC_DLQ)
        return function

    def _arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        stack = self._stack
        return (
            f"arn:{stack.partition}:{service}:{stack.region if region else ''}:"
            f"{stack.account if account else ''}:{resource}"
        )

    @staticmethod
    def _allow(function: lambda_.Function, actions: list[str], resources: list[str], **conditions: Any) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions or None)
        )

    def _grant_image_events(self, function: lambda_.Function) -> None:
        self.token_table.grant(function, "dynamodb:PutItem", "dynamodb:DeleteItem")
        self._allow(function, ["imagebuilder:GetImage"], [self._arn("imagebuilder", "image/*")])
        # SendTaskSuccess/Failure accept no resource narrower than "*": the task token is the capability.
        self._allow(function, ["states:SendTaskSuccess", "states:SendTaskFailure"], ["*"])

    def _grant_build(self, function: lambda_.Function, pipeline_arn: str) -> None:
        self._allow(function, ["imagebuilder:StartImagePipelineExecution"], [pipeline_arn])
        self._allow(
            function, ["imagebuilder:GetImage", "imagebuilder:CancelImageCreation"], [self._arn("imagebuilder", "image/*")]
        )

    def _grant_patch(self, function: lambda_.Function, image_builder: Any, core: Any) -> None:
        prefix = f"ami-lc-{self._tag}-patch-"
        dynamic = [
            self._arn("imagebuilder", f"{kind}/{prefix}*")
            for kind in ("component", "image-recipe", "image-pipeline", "image")
        ]
        self._allow(
            function,
            [
                "imagebuilder:CreateComponent",
                "imagebuilder:CreateImageRecipe",
                "imagebuilder:CreateImagePipeline",
                "imagebuilder:StartImagePipelineExecution",
                "imagebuilder:GetImage",
                "imagebuilder:CancelImageCreation",
                "imagebuilder:ListComponentBuildVersions",
                "imagebuilder:ListImagePipelineImages",
                "imagebuilder:DeleteComponent",
                "imagebuilder:DeleteImageRecipe",
                "imagebuilder:DeleteImagePipeline",
                "imagebuilder:DeleteImage",
                "imagebuilder:GetComponent",
                "imagebuilder:GetImageRecipe",
                "imagebuilder:TagResource",
            ],
            dynamic,
        )
        self._allow(
            function,
            ["imagebuilder:GetInfrastructureConfiguration", "imagebuilder:GetDistributionConfiguration"],
            [image_builder.infrastructure_configuration_arn, image_builder.distribution_configuration_arn],
        )
        # List and Describe actions have no resource-level permissions.
        self._allow(
            function,
            ["imagebuilder:ListComponents", "imagebuilder:ListImageRecipes", "imagebuilder:ListImagePipelines", "ec2:DescribeImages"],
            ["*"],
        )
        # The pipeline's infrastructure configuration passes the build instance role to EC2.
        self._allow(
            function, ["iam:PassRole"], [self._arn("iam", "role/*", region=False)],
            StringEquals={"iam:PassedToService": ["ec2.amazonaws.com", "imagebuilder.amazonaws.com"]},
        )
        core.patch_component_bucket.grant_read(function)

    def _grant_test_instances(self, function: lambda_.Function, test: TestInstances) -> None:
        tag_condition = {f"aws:RequestTag/{DEPLOYMENT_TAG_KEY}": self._tag}
        self._allow(function, ["ec2:RunInstances"], [self._arn("ec2", "instance/*"), self._arn("ec2", "volume/*")],
                    StringEquals=tag_condition)
        self._allow(
            function,
            ["ec2:RunInstances"],
            [
                self._arn("ec2", "network-interface/*"),
                self._arn("ec2", f"subnet/{test.subnet_id}"),
                self._arn("ec2", f"security-group/{test.security_group_id}"),
            ],
        )
        # AMIs have no account in their ARN; only our own may be launched.
        self._allow(function, ["ec2:RunInstances"], [self._arn("ec2", "image/*", account=False)],
                    StringEquals={"ec2:Owner": self._stack.account})
        self._allow(function, ["ec2:CreateTags"], [self._arn("ec2", "instance/*"), self._arn("ec2", "volume/*")],
                    StringEquals={"ec2:CreateAction": "RunInstances"})
        self._allow(function, ["ec2:TerminateInstances"], [self._arn("ec2", "instance/*")],
                    StringEquals={f"ec2:ResourceTag/{DEPLOYMENT_TAG_KEY}": self._tag})
        self._allow(function, ["iam:PassRole"], [test.role.role_arn], StringEquals={"iam:PassedToService": "ec2.amazonaws.com"})
        # DescribeInstances / DescribeInstanceInformation have no resource-level permissions.
        self._allow(function, ["ec2:DescribeInstances", "ssm:DescribeInstanceInformation"], ["*"])

    def _grant_ssm_commands(self, function: lambda_.Function) -> None:
        self._allow(function, ["ssm:SendCommand"], [self._arn("ssm", "document/AWS-RunShellScript", account=False)])
        self._allow(function, ["ssm:SendCommand"], [self._arn("ec2", "instance/*")],
                    StringEquals={f"ssm:resourceTag/{DEPLOYMENT_TAG_KEY}": self._tag})
        # GetCommandInvocation has no resource-level permissions.
        self._allow(function, ["ssm:GetCommandInvocation"], ["*"])

    def _grant_inspector(self, function: lambda_.Function, artifacts: ArtifactStore) -> None:
        # Inspector's list/report/status actions have no resource-level permissions (Service
        # Authorization Reference, Amazon Inspector2); BatchGetAccountStatus tells a scan that can
        # never come (EC2 scanning disabled) from one still pending.
        self._allow(
            function,
            ["inspector2:ListCoverage", "inspector2:ListFindings", "inspector2:CreateFindingsReport", "inspector2:GetFindingsReportStatus",
             "inspector2:BatchGetAccountStatus"],
            ["*"],
        )
        artifacts.reports.grant_put(function, "findings/*")

    def _grant_export(self, function: lambda_.Function, artifacts: ArtifactStore) -> None:
        """QA export: store the released AMI to S3, restore an unencrypted temporary copy, export that copy,
        delete the copy. Resource types and condition keys: Service Authorization Reference, Amazon EC2 and
        Amazon EBS; the store/restore set: EC2 User Guide, "Permissions for storing and restoring AMIs"."""
        images, snapshots = self._arn("ec2", "image/*", account=False), self._arn("ec2", "snapshot/*", account=False)
        tasks = self._arn("ec2", "export-image-task/*")
        # The marker the QA steps put on the restored copy (lambdas/adapters/temporary_images.py).
        marker_key, marker = "AMI_LC_TEMPORARY", "qa-export"
        ours = {f"ec2:ResourceTag/{DEPLOYMENT_TAG_KEY}": self._tag}
        temporary = {**ours, f"ec2:ResourceTag/{marker_key}": marker}
        # Store: only AMIs of this account; the task reads their snapshots with the EBS direct APIs.
        self._allow(function, ["ec2:CreateStoreImageTask"], [images], StringEquals={"ec2:Owner": self._stack.account})
        self._allow(function, ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock", "ebs:ListChangedBlocks"], [snapshots])
        # Restore: the new AMI must carry this deployment's temporary tags (the only AMIs cleanup may
        # delete); the tags are applied by CreateRestoreImageTask itself, never to an existing AMI.
        self._allow(function, ["ec2:CreateRestoreImageTask"], [images], StringEquals={
            f"aws:RequestTag/{DEPLOYMENT_TAG_KEY}": self._tag, f"aws:RequestTag/{marker_key}": marker})
        self._allow(function, ["ec2:CreateTags"], [images, snapshots], StringEquals={"ec2:CreateAction": "CreateRestoreImageTask"})
        # The restore writes new snapshots with the EBS direct APIs (no documented request tags: no condition).
        self._allow(function, ["ebs:StartSnapshot", "ebs:PutSnapshotBlock", "ebs:CompleteSnapshot"], [snapshots])
        # The store uploads `<ami-id>.bin` (multipart, object tags) with the caller's permissions, the restore
        # reads it, cleanup deletes it; the deployment key (already granted to every function) encrypts it.
        staged = artifacts.export_staging.arn_for_objects("ami-*.bin")
        self._allow(function, ["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectTagging", "s3:GetObject",
                               "s3:DeleteObject"], [staged])
        self._allow(function, ["s3:ListBucket"], [artifacts.export_staging.bucket_arn])
        # Export: only the temporary copy (the released AMI is encrypted and must never be exported as is).
        self._allow(function, ["ec2:ExportImage"], [images], StringEquals=temporary)
        self._allow(function, ["ec2:ExportImage"], [tasks], StringEquals={f"aws:RequestTag/{DEPLOYMENT_TAG_KEY}": self._tag})
        self._allow(function, ["ec2:CreateTags"], [tasks], StringEquals={"ec2:CreateAction": "ExportImage"})
        self._allow(function, ["ec2:CancelExportTask"], [tasks], StringEquals=ours)
        artifacts.export_role.grant_pass_role(function)
        # Cleanup: deregister and delete only what carries this deployment's temporary tags.
        self._allow(function, ["ec2:DeregisterImage"], [images], StringEquals=temporary)
        self._allow(function, ["ec2:DeleteSnapshot"], [snapshots], StringEquals=temporary)
        # These Describe/Get actions have no resource-level permissions (resource "*" is all AWS accepts).
        self._allow(function, ["ec2:GetEbsEncryptionByDefault", "ec2:DescribeStoreImageTasks", "ec2:DescribeImages",
                               "ec2:DescribeSnapshots", "ec2:DescribeExportImageTasks"], ["*"])

    def _grant_store(self, function: lambda_.Function, artifacts: ArtifactStore) -> None:
        self._allow(function, ["ec2:CreateStoreImageTask"], [self._arn("ec2", "image/*", account=False)])
        self._allow(function, ["ebs:GetSnapshotBlock", "ebs:ListSnapshotBlocks", "ebs:ListChangedBlocks"],
                    [self._arn("ec2", "snapshot/*", account=False)])
        # Describe actions have no resource-level permissions.
        self._allow(function, ["ec2:DescribeStoreImageTasks", "ec2:DescribeImages", "ec2:DescribeTags"], ["*"])
        artifacts.backups.grant_read_write(function)
        self._allow(function, ["s3:PutObjectTagging"], [artifacts.backups.arn_for_objects("*")])

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
