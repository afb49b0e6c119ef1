"""The Image Builder pipeline of the build workflow, and the configurations the patch workflow reuses.

Decisions (the original sample's defects in brackets):

- Parent image: `ssm:<parameter>`, the AWS public parameter of the latest Amazon Linux 2023 AMI,
  resolved by Image Builder when each build starts [an AL2 build of February 2022, pinned].
- Root volume: gp3, encrypted with the deployment's KMS key [unencrypted gp2, because VM export
  rejects encrypted snapshots]. VM export (ExportImage) indeed refuses an image with encrypted
  snapshots, and CopyImage cannot decrypt. The QA export workflow therefore goes through S3:
  CreateStoreImageTask (which decrypts the snapshots into the S3 object) and CreateRestoreImageTask
  give a temporary unencrypted copy of the AMI to export, deregistered afterwards; the released AMI
  itself is never unencrypted. (A restored AMI is unencrypted unless the account turns on EBS
  encryption by default; the export then fails visibly, it cannot leak.)
- IMDS: tokens required (IMDSv2 only), hop limit 1. Components run on the host, so one hop is
  enough, and a container or a forwarded packet on the instance cannot reach the credentials.
  Raise it to 2 only if a component must read instance metadata from inside a container.
- Instances: current-generation types only [t2.medium], no key pair, no inbound rules, terminated
  on failure, in a private subnet.
- Pipeline: no schedule (the build workflow starts it), enhanced metadata and image tests on.
- Components: components/*.yml, inline (`data`), encrypted with the deployment key like the patch
  workflow's components. Their version is derived from their content: Image Builder versions are
  immutable and CloudFormation replaces a changed component or recipe before deleting the old one,
  so a fixed version would collide with itself on every change.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_imagebuilder as imagebuilder
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.network import NetworkConstruct
from stacks.suppressions import suppress_checkov

# Recipe order: agents first (the checks and the smoke tests run over SSM), hardening, then the
# release checks, which must see the final state.
COMPONENTS = ("agents", "hardening", "marketplace-checks")
CHECK_SCRIPT = Path("checks/ami_checks.py")  # relative to the components directory
# marketplace-checks.yml carries the check script as gzip + base64; these tokens are replaced at synth.
CHECK_SCRIPT_PAYLOAD = "__AMI_CHECKS_PY_GZ_B64__"
CHECK_SCRIPT_SHA256 = "__AMI_CHECKS_PY_SHA256__"
# CreateComponent accepts at most 16,000 characters of inline data.
MAX_COMPONENT_DATA = 16_000
# Applies pending OS updates first, so the image starts from every fix released since the parent AMI.
AWS_MANAGED_COMPONENTS = ("update-linux/x.x.x",)
ROOT_DEVICE = "/dev/xvda"  # Amazon Linux 2023's root device name
IMAGE_TESTS_TIMEOUT_MINUTES = 60  # the minimum Image Builder accepts; the test phases take minutes
# Previous-generation families and the Xen-based T2: slower and costlier per unit of work than
# their Nitro successors (t3, m6i, c6i, r6i, ...).
PREVIOUS_GENERATION = frozenset(
    {"c1", "c3", "c4", "cc2", "cr1", "g2", "hs1", "i2", "m1", "m2", "m3", "m4", "r3", "r4", "t1", "t2"}
)
IMAGE_BUILDER_SERVICE_LINKED_ROLE = "role/aws-service-role/imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder"


def render_component(document: Path, *, check_script: Path) -> str:
    """A component document as deployed: the check script embedded where marketplace-checks.yml asks."""
    text = document.read_text()
    if CHECK_SCRIPT_PAYLOAD not in text:
        return text
    script = check_script.read_bytes()
    # mtime=0: the same script gives the same payload, so an unchanged component keeps its version.
    payload = base64.b64encode(gzip.compress(script, mtime=0)).decode()
    return text.replace(CHECK_SCRIPT_PAYLOAD, payload).replace(CHECK_SCRIPT_SHA256, hashlib.sha256(script).hexdigest())


def content_version(*parts: str) -> str:
    """Semantic version whose patch number is derived from `parts` (Image Builder allows up to 2^30 - 1)."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return f"1.0.{int(digest[:7], 16)}"


def check_instance_types(instance_types: Sequence[str]) -> None:
    if not instance_types:
        raise ValueError("Image Builder needs at least one build instance type")
    old = [t for t in instance_types if re.sub(r"\..*$", "", t) in PREVIOUS_GENERATION]
    if old:
        raise ValueError(f"previous-generation instance types are not allowed for builds: {', '.join(old)}")


class ImageBuilderConstruct(Construct):
    """Pipeline `pipeline_arn` (recipe, infrastructure and distribution configurations) plus the
    instance role and profile. The patch workflow builds its own recipes on the same
    `infrastructure_configuration_arn` and `distribution_configuration_arn`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name_prefix: str,
        network: NetworkConstruct,
        key: kms.IKey,
        instance_types: Sequence[str],
        parent_image_ssm_parameter: str,
        root_volume_gib: int,
        components_dir: Path | str,
        notification_topic: sns.ITopic | None,
        log_retention: logs.RetentionDays = logs.RetentionDays.THREE_MONTHS,
        resource_tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_instance_types(instance_types)
        if "al2023" not in parent_image_ssm_parameter:
            raise ValueError(
                f"the components are written for Amazon Linux 2023; {parent_image_ssm_parameter!r} "
                "is not an AL2023 parameter"
            )
        self._prefix = name_prefix
        self._key = key
        tags = dict(resource_tags or {})
        self.parent_image = f"ssm:{parent_image_ssm_parameter}"

        self.instance_role = self._instance_role()
        profile = iam.InstanceProfile(self, "InstanceProfile", role=self.instance_role)
        self.instance_profile_name = profile.instance_profile_name
        self.component_arns, component_versions = self._components(Path(components_dir))
        recipe = self._recipe(root_volume_gib, component_versions)

        topic_arn = None
        if notification_topic is not None:
            topic_arn = notification_topic.topic_arn
            self._allow_image_builder_to_publish(notification_topic.master_key or key)
        infrastructure = imagebuilder.CfnInfrastructureConfiguration(
            self,
            "Infrastructure",
            name=f"{name_prefix}-infrastructure",
            description=f"{name_prefix}: private subnet, no inbound, IMDSv2 only",
            instance_profile_name=profile.instance_profile_name,
            instance_types=list(instance_types),
            subnet_id=network.private_subnets[0].subnet_id,
            security_group_ids=[network.instance_security_group.security_group_id],
            instance_metadata_options=imagebuilder.CfnInfrastructureConfiguration.InstanceMetadataOptionsProperty(
                http_tokens="required", http_put_response_hop_limit=1
            ),
            terminate_instance_on_failure=True,
            sns_topic_arn=topic_arn,
            resource_tags=tags or None,
        )
        distribution = imagebuilder.CfnDistributionConfiguration(
            self,
            "Distribution",
            name=f"{name_prefix}-distribution",
            description=f"{name_prefix}: current region, private AMI",
            distributions=[
                imagebuilder.CfnDistributionConfiguration.DistributionProperty(
                    region=Stack.of(self).region,
                    # A JSON-typed property: CloudFormation's own key names, not CDK's.
                    ami_distribution_configuration={
                        "Name": f"{name_prefix}-{{{{ imagebuilder:buildDate }}}}",
                        "Description": f"{name_prefix}: built by the AMI lifecycle orchestrator",
                        **({"AmiTags": tags} if tags else {}),
                    },
                )
            ],
        )
        pipeline = self._pipeline(recipe, infrastructure, distribution, log_retention)

        self.recipe_arn = recipe.attr_arn
        self.pipeline_arn = pipeline.attr_arn
        self.infrastructure_configuration_arn = infrastructure.attr_arn
        self.distribution_configuration_arn = distribution.attr_arn

    def _instance_role(self) -> iam.Role:
        # AWS managed policies, deliberately: they are exactly what the SSM agent and AWSTOE on the
        # instance need (SSM channels; imagebuilder:GetComponent, the AWSTOE buckets and
        # /aws/imagebuilder/* logs), and AWS updates them as those agents change.
        role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"{self._prefix}: Image Builder build and test instances",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore"),
                iam.ManagedPolicy.from_aws_managed_policy_name("EC2InstanceProfileForImageBuilder"),
            ],
        )
        # Components (ours and the patch workflow's) are encrypted with the key and read by the
        # instance. The role can read no data store, so decrypting alone discloses nothing else.
        self._key.grant_decrypt(role)
        return role

    def _components(self, components_dir: Path) -> tuple[dict[str, str], list[str]]:
        """Component ARNs by name (recipe order) and their versions."""
        arns, versions = {}, []
        for component in COMPONENTS:
            data = render_component(components_dir / f"{component}.yml", check_script=components_dir / CHECK_SCRIPT)
            if len(data) > MAX_COMPONENT_DATA:
                raise ValueError(
                    f"components/{component}.yml renders to {len(data)} characters; "
                    f"Image Builder accepts {MAX_COMPONENT_DATA}"
                )
            resource = imagebuilder.CfnComponent(
                self,
                f"Component-{component}",
                name=f"{self._prefix}-{component}",
                platform="Linux",
                version=content_version(data),
                data=data,
                description=f"components/{component}.yml of the AMI lifecycle orchestrator",
                kms_key_id=self._key.key_arn,
                supported_os_versions=["Amazon Linux 2023"],
            )
            arns[component] = resource.attr_arn
            versions.append(resource.version)
        return arns, versions

    def _recipe(self, root_volume_gib: int, component_versions: list[str]) -> imagebuilder.CfnImageRecipe:
        managed = [
            Stack.of(self).format_arn(service="imagebuilder", account="aws", resource="component", resource_name=name)
            for name in AWS_MANAGED_COMPONENTS
        ]
        return imagebuilder.CfnImageRecipe(
            self,
            "Recipe",
            name=f"{self._prefix}-recipe",
            # Every input of the recipe: any change gives a new version.
            version=content_version(
                self.parent_image,
                *AWS_MANAGED_COMPONENTS,
                *component_versions,
                ROOT_DEVICE,
                str(root_volume_gib),
                self._key.node.path,
            ),
            parent_image=self.parent_image,
            components=[
                imagebuilder.CfnImageRecipe.ComponentConfigurationProperty(component_arn=arn)
                for arn in [*managed, *self.component_arns.values()]
            ],
            block_device_mappings=[
                imagebuilder.CfnImageRecipe.InstanceBlockDeviceMappingProperty(
                    device_name=ROOT_DEVICE,
                    ebs=imagebuilder.CfnImageRecipe.EbsInstanceBlockDeviceSpecificationProperty(
                        volume_type="gp3",
                        volume_size=root_volume_gib,
                        encrypted=True,
                        kms_key_id=self._key.key_arn,
                        delete_on_termination=True,
                    ),
                )
            ],
            # The smoke tests and scans drive instances of the image through the SSM agent.
            additional_instance_configuration=imagebuilder.CfnImageRecipe.AdditionalInstanceConfigurationProperty(
                systems_manager_agent=imagebuilder.CfnImageRecipe.SystemsManagerAgentProperty(
                    uninstall_after_build=False
                )
            ),
            description=f"{self._prefix}: Amazon Linux 2023, agents, CIS-oriented hardening, release checks",
        )

    def _pipeline(
        self,
        recipe: imagebuilder.CfnImageRecipe,
        infrastructure: imagebuilder.CfnInfrastructureConfiguration,
        distribution: imagebuilder.CfnDistributionConfiguration,
        log_retention: logs.RetentionDays,
    ) -> imagebuilder.CfnImagePipeline:
        name = f"{self._prefix}-pipeline"
        # The default log group names (the build instance role may write only under /aws/imagebuilder/),
        # created here so that they are encrypted and expire.
        image_logs = self._log_group("ImageLogs", f"/aws/imagebuilder/{recipe.name}", log_retention)
        pipeline_logs = self._log_group("PipelineLogs", f"/aws/imagebuilder/pipeline/{name}", log_retention)
        self._allow_logs_to_use_key()
        return imagebuilder.CfnImagePipeline(
            self,
            "Pipeline",
            name=name,
            description=f"{self._prefix}: started by the build workflow (no schedule)",
            image_recipe_arn=recipe.attr_arn,
            infrastructure_configuration_arn=infrastructure.attr_arn,
            distribution_configuration_arn=distribution.attr_arn,
            enhanced_image_metadata_enabled=True,
            image_tests_configuration=imagebuilder.CfnImagePipeline.ImageTestsConfigurationProperty(
                image_tests_enabled=True, timeout_minutes=IMAGE_TESTS_TIMEOUT_MINUTES
            ),
            logging_configuration=imagebuilder.CfnImagePipeline.PipelineLoggingConfigurationProperty(
                image_log_group_name=image_logs.log_group_name, pipeline_log_group_name=pipeline_logs.log_group_name
            ),
            status="ENABLED",
        )

    def _log_group(self, construct_id: str, name: str, retention: logs.RetentionDays) -> logs.LogGroup:
        # Fixed names: destroying the stack must free them for the tag's next deployment.
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=name,
            encryption_key=self._key,
            retention=retention,
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _allow_logs_to_use_key(self) -> None:
        """The key trusts CloudWatch Logs only for named prefixes; add this deployment's Image Builder groups
        (the patch workflow's recipes, named after the same prefix, are covered too)."""
        log_groups = f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:/aws/imagebuilder"
        self._key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ImageBuilderLogs",
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
                         "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": [
                            f"{log_groups}/{self._prefix}-*",
                            f"{log_groups}/pipeline/{self._prefix}-*",
                        ]
                    }
                },
            )
        )

    def _allow_image_builder_to_publish(self, topic_key: kms.IKey) -> None:
        """Image Builder publishes build notifications as its service-linked role, which the topic's key must trust.

        The role is named in a condition, not as the principal: KMS rejects a key policy naming a
        role that does not exist yet, and the service-linked role appears only with the account's
        first Image Builder resource - after the key's stack is deployed.
        """
        statement = iam.PolicyStatement(
            sid="ImageBuilderNotifications",
            principals=[iam.AnyPrincipal()],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={
                "ArnEquals": {
                    "aws:PrincipalArn": f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:{IMAGE_BUILDER_SERVICE_LINKED_ROLE}"
                },
                "StringEquals": {
                    "kms:CallerAccount": Aws.ACCOUNT_ID,
                    "kms:ViaService": f"sns.{Aws.REGION}.amazonaws.com",
                },
            },
        )
        if topic_key.add_to_resource_policy(statement).statement_added and isinstance(topic_key, kms.Key):
            suppress_checkov(
                topic_key,
                (
                    "CKV_AWS_33",
                    "The '*' principal is narrowed by aws:PrincipalArn to Image Builder's service-linked "
                    "role of this account, via SNS only (a not-yet-existing role cannot be a principal)",
                ),
            )
