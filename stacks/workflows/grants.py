"""Least-privilege grants of the workflow step functions, one method per capability.

Resource types and condition keys: Service Authorization Reference (EC2, EBS, Image Builder, SSM,
Inspector2). Resource "*" only where the action has no resource-level permission, said each time.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from stacks.workflows.artifacts import ArtifactStore
from stacks.workflows.test_instances import TestInstances

DEPLOYMENT_TAG_KEY = "AMI_LC_DEPLOYMENT"


class StepGrants:
    def __init__(self, stack: Stack, tag: str) -> None:
        self._stack, self._tag = stack, tag

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

    def callbacks(self, function: lambda_.Function, tokens: dynamodb.Table) -> None:
        """Store and pop task tokens, resume tasks, and the one status check of each watched resource."""
        tokens.grant(function, "dynamodb:PutItem", "dynamodb:DeleteItem")
        self._allow(function, ["imagebuilder:GetImage"], [self._arn("imagebuilder", "image/*")])
        # SendTaskSuccess/Failure accept no resource narrower than "*": the task token is the capability.
        self._allow(function, ["states:SendTaskSuccess", "states:SendTaskFailure"], ["*"])
        # These Describe/Get/List actions have no resource-level permissions.
        self._allow(function, ["ec2:DescribeImages", "ssm:GetCommandInvocation", "inspector2:ListCoverage",
                               "inspector2:BatchGetAccountStatus"], ["*"])

    def build(self, function: lambda_.Function, pipeline_arn: str) -> None:
        self._allow(function, ["imagebuilder:StartImagePipelineExecution"], [pipeline_arn])
        self._allow(
            function, ["imagebuilder:GetImage", "imagebuilder:CancelImageCreation"], [self._arn("imagebuilder", "image/*")]
        )

    def patch(self, function: lambda_.Function, image_builder: Any, core: Any) -> None:
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

    def test_instances(self, function: lambda_.Function, test: TestInstances) -> None:
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
        # DescribeInstances has no resource-level permissions.
        self._allow(function, ["ec2:DescribeInstances"], ["*"])

    def ssm_commands(self, function: lambda_.Function) -> None:
        self._allow(function, ["ssm:SendCommand"], [self._arn("ssm", "document/AWS-RunShellScript", account=False)])
        self._allow(function, ["ssm:SendCommand"], [self._arn("ec2", "instance/*")],
                    StringEquals={f"ssm:resourceTag/{DEPLOYMENT_TAG_KEY}": self._tag})
        # GetCommandInvocation / DescribeInstanceInformation have no resource-level permissions.
        self._allow(function, ["ssm:GetCommandInvocation", "ssm:DescribeInstanceInformation"], ["*"])

    def inspector(self, function: lambda_.Function, artifacts: ArtifactStore) -> None:
        # ListFindings and BatchGetAccountStatus have no resource-level permissions (Service Authorization
        # Reference, Amazon Inspector2); the account status tells a scan that can never come (EC2 scanning
        # disabled) from one still pending. The step writes the findings report itself.
        self._allow(function, ["inspector2:ListFindings", "inspector2:BatchGetAccountStatus"], ["*"])
        artifacts.reports.grant_put(function, "findings/*")

    def export(self, function: lambda_.Function, artifacts: ArtifactStore) -> None:
        """QA export: store the released AMI to S3, restore an unencrypted temporary copy, export that copy,
        delete the copy. The store/restore set: EC2 User Guide, "Permissions for storing and restoring AMIs"."""
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

    def store(self, function: lambda_.Function, artifacts: ArtifactStore) -> None:
        self._allow(function, ["ec2:CreateStoreImageTask"], [self._arn("ec2", "image/*", account=False)])
        self._allow(function, ["ebs:GetSnapshotBlock", "ebs:ListSnapshotBlocks", "ebs:ListChangedBlocks"],
                    [self._arn("ec2", "snapshot/*", account=False)])
        # Describe actions have no resource-level permissions.
        self._allow(function, ["ec2:DescribeStoreImageTasks", "ec2:DescribeImages", "ec2:DescribeTags"], ["*"])
        artifacts.backups.grant_read_write(function)
        self._allow(function, ["s3:PutObjectTagging"], [artifacts.backups.arn_for_objects("*")])
