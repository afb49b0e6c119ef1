"""The VPC where Image Builder builds and tests, and where smoke-test and scan instances run.

Why private subnets with NAT rather than isolated subnets with VPC endpoints: builds install
packages (dnf repositories, the AWS-managed update component) and patch components may download
from wherever the operator's component says. Isolated subnets would cut those off, and would still
need interface endpoints for ssm, ssmmessages, ec2messages, imagebuilder, logs, kms and inspector2:
at about 0.01 USD per endpoint and AZ-hour, more than one NAT gateway (about 0.045). The S3 gateway
endpoint (free) keeps S3 traffic - Image Builder's AWSTOE and component downloads, S3-hosted
repositories - off the NAT's per-GB processing charge.

Cost trade-off: one NAT gateway per AZ (the default, `nat_gateways=2`, about 32 USD/month each
plus per-GB processing) keeps each AZ's egress independent. An Image Builder infrastructure
configuration takes one subnet, so builds and test instances use the first AZ and the second is the
standby to move them to when that AZ fails. `nat_gateways=1` halves the fixed cost - reasonable for
short-lived feature tags - at the price of the standby AZ also losing egress with the first one.
"""

from __future__ import annotations

import ipaddress

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.suppressions import suppress_checkov

AZ_COUNT = 2
# Public subnets hold only the NAT gateways; each private subnet gets a quarter of the VPC block
# (a /16 gives two /18, a /24 two /26), the rest stays free for later subnets.
PUBLIC_SUBNET_MASK = 28
PRIVATE_SUBNET_SHARE_BITS = 2


class NetworkConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc_cidr: str,
        key: kms.IKey,
        log_retention: logs.RetentionDays,
        flow_log_group_name: str,
        nat_gateways: int = AZ_COUNT,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 1 <= nat_gateways <= AZ_COUNT:
            raise ValueError(f"nat_gateways must be 1 or {AZ_COUNT}, got {nat_gateways}")

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(vpc_cidr),
            max_azs=AZ_COUNT,
            nat_gateways=nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="nat",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=PUBLIC_SUBNET_MASK,
                    # NAT gateways use Elastic IPs; nothing else may get a public address here.
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="private",
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=ipaddress.IPv4Network(vpc_cidr).prefixlen + PRIVATE_SUBNET_SHARE_BITS,
                ),
            ],
            # Removes every rule of the default security group, so nothing that falls back to it gets access.
            restrict_default_security_group=True,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.S3,
                    subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)],
                )
            },
        )
        self.private_subnets: list[ec2.ISubnet] = self.vpc.select_subnets(
            subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
        ).subnets

        flow_logs = logs.LogGroup(
            self,
            "FlowLogs",
            log_group_name=flow_log_group_name,
            encryption_key=key,
            retention=log_retention,
            # A fixed name: destroying the stack must free it for the tag's next deployment.
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        self.instance_security_group = ec2.SecurityGroup(
            self,
            "InstanceSecurityGroup",
            vpc=self.vpc,
            description="Build, test and scan instances: no inbound (SSM is outbound-only), HTTPS out",
            allow_all_outbound=False,
        )
        # Security groups do not filter the VPC's DNS resolver, Amazon Time Sync or instance metadata.
        self.instance_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: AWS APIs, SSM, package repositories"
        )
        self._waive_default_sg_provider_checks()

    def _waive_default_sg_provider_checks(self) -> None:
        """CDK's stack-wide Lambda behind restrict_default_security_group runs once per deployment."""
        provider = Stack.of(self).node.find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        suppress_checkov(
            provider.node.find_child("Handler"),
            ("CKV_AWS_115", "CDK's provider runs only during deployments; no concurrency to reserve"),
            ("CKV_AWS_116", "CloudFormation invokes the provider synchronously and reports its failure; no DLQ"),
            ("CKV_AWS_117", "The provider calls only the EC2 API; it needs no access to the VPC's resources"),
        )
