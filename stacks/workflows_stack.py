"""AmiLifecycleWorkflows-<tag>: VPC, Image Builder, artifact buckets and the six lifecycle workflows.

Takes the core stack's key, queues, topic and patch bucket as parameters (the core never references
this stack). Each state machine is one ASL file of statemachines/, loaded with definition
substitutions; its step functions and roles are built by stacks/workflows/.
"""

from __future__ import annotations

from typing import Protocol

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks import naming
from stacks.config import AppConfig
from stacks.image_builder import ImageBuilderConstruct
from stacks.lambda_factory import REPO_ROOT, LambdaFactory
from stacks.network import NetworkConstruct
from stacks.workflows.artifacts import ArtifactStore
from stacks.workflows.machines import WorkflowMachines
from stacks.workflows.test_instances import TestInstances


class CoreResources(Protocol):
    """What the workflows need from the core stack (stacks/core_stack.py provides it)."""

    key: kms.IKey
    creation_queue: sqs.IQueue
    patch_queue: sqs.IQueue
    error_queue: sqs.IQueue
    notification_topic: sns.ITopic
    patch_component_bucket: s3.IBucket


class WorkflowsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        core: CoreResources,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        tag = config.stack_tag_slug
        workflows = config.workflows
        self.network = NetworkConstruct(
            self,
            "Network",
            vpc_cidr=workflows.vpc_cidr,
            key=core.key,
            log_retention=config.log_retention,
            flow_log_group_name=naming.log_group_name(tag, "vpc-flow-logs"),
        )
        self.image_builder = ImageBuilderConstruct(
            self,
            "ImageBuilder",
            name_prefix=f"ami-lc-{tag}",
            network=self.network,
            key=core.key,
            instance_types=list(workflows.build_instance_types),
            parent_image_ssm_parameter=workflows.parent_image_ssm_parameter,
            root_volume_gib=workflows.root_volume_gib,
            components_dir=REPO_ROOT / "components",
            # The build and patch workflows follow Image Builder through EventBridge; its own SNS
            # messages would carry no recipients attribute, so no subscriber's filter would match.
            notification_topic=None,
            log_retention=config.log_retention,
            resource_tags={"AMI_LC_DEPLOYMENT": tag},
        )
        self.artifacts = ArtifactStore(self, "Artifacts", tag=tag, key=core.key, retain=config.retain_data)
        self.test_instances = TestInstances(self, "TestInstances", tag=tag, network=self.network)
        self.machines = WorkflowMachines(
            self,
            "Workflows",
            config=config,
            core=core,
            factory=LambdaFactory(self, config=config, key=core.key),
            image_builder=self.image_builder,
            artifacts=self.artifacts,
            test_instances=self.test_instances,
        )
        self.state_machines = self.machines.state_machines
