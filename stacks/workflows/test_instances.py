"""The role and instance profile of short-lived test instances (smoke tests, vulnerability scans).

Only what SSM Run Command and Inspector's agent-based scanning need: AmazonSSMManagedInstanceCore.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import naming


class TestInstances(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, tag: str, network: Any) -> None:
        super().__init__(scope, construct_id)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
            description=f"{naming.resource_name(tag, 'test-instance')}: SSM agent of smoke-test and scan instances",
        )
        self.profile = iam.InstanceProfile(self, "Profile", role=self.role)
        self.subnet_id = network.private_subnets[0].subnet_id
        self.security_group_id = network.instance_security_group.security_group_id
