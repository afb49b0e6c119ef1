"""NetworkConstruct + ImageBuilderConstruct in a test stack of their own (a key and a topic as the
core stack would pass them): the sample's defects stay fixed, and cfn-lint and checkov are clean."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns

from stacks.image_builder import COMPONENTS, ImageBuilderConstruct, content_version
from stacks.network import NetworkConstruct
from tests.infrastructure.conftest import REPO, checkov_bin, render, resources

AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
FLOW_LOGS = "/ami-lc/test/vpc-flow-logs"


@dataclass(frozen=True)
class Fixture:
    template: dict[str, Any]
    path: Path


def build(
    outdir: Path, *, topic: bool = True, nat_gateways: int = 2, vpc_cidr: str = "10.80.0.0/16", **overrides: Any
) -> Fixture:
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "NetworkImageBuilderTest")
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    network = NetworkConstruct(
        stack,
        "Network",
        vpc_cidr=vpc_cidr,
        key=key,
        log_retention=logs.RetentionDays.ONE_MONTH,
        flow_log_group_name=FLOW_LOGS,
        nat_gateways=nat_gateways,
    )
    ImageBuilderConstruct(
        stack,
        "ImageBuilder",
        **{
            "name_prefix": "ami-lc-test",
            "network": network,
            "key": key,
            "instance_types": ["t3.medium", "m6i.large"],
            "parent_image_ssm_parameter": AL2023,
            "root_volume_gib": 8,
            "components_dir": REPO / "components",
            "notification_topic": sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True) if topic else None,
            "resource_tags": {"AMI_LC_DEPLOYMENT": "test"},
            "log_retention": logs.RetentionDays.ONE_MONTH,
            **overrides,
        },
    )
    app.synth()
    path = outdir / f"{stack.stack_name}.template.json"
    return Fixture(template=json.loads(path.read_text()), path=path)


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    return build(tmp_path_factory.mktemp("network-image-builder"))


@pytest.fixture(scope="module")
def template(fixture: Fixture) -> dict[str, Any]:
    return fixture.template


def only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    (resource,) = resources(template, resource_type).values()
    return resource["Properties"]


def logical_id(template: dict[str, Any], resource_type: str) -> str:
    (found,) = resources(template, resource_type)
    return found


# --- network ---------------------------------------------------------------------------------------


def subnets(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [
        s["Properties"]
        for s in resources(template, "AWS::EC2::Subnet").values()
        if {"Key": "aws-cdk:subnet-type", "Value": kind} in s["Properties"]["Tags"]
    ]


def test_private_subnets_span_two_availability_zones(template: dict[str, Any]) -> None:
    private = subnets(template, "Private")
    assert len(private) == 2
    assert sorted(s["AvailabilityZone"]["Fn::Select"][0] for s in private) == [0, 1]
    assert all(not s["MapPublicIpOnLaunch"] for s in private)


def test_public_subnets_only_hold_the_nat_gateways(template: dict[str, Any]) -> None:
    public = subnets(template, "Public")
    assert len(public) == 2 and not any(s["MapPublicIpOnLaunch"] for s in public)
    assert len(resources(template, "AWS::EC2::NatGateway")) == 2  # one per AZ
    routes = [r["Properties"] for r in resources(template, "AWS::EC2::Route").values()]
    assert sum("NatGatewayId" in r for r in routes) == 2


@pytest.mark.parametrize(("vpc_cidr", "private", "public"), [("10.80.0.0/16", 18, 28), ("192.168.4.0/24", 26, 28)])
def test_subnets_fit_every_allowed_vpc_size(tmp_path: Path, vpc_cidr: str, private: int, public: int) -> None:
    template = build(tmp_path, vpc_cidr=vpc_cidr).template
    masks = {
        kind: {int(s["CidrBlock"].split("/")[1]) for s in subnets(template, kind)} for kind in ("Private", "Public")
    }
    assert masks == {"Private": {private}, "Public": {public}}


def test_one_nat_gateway_when_asked(tmp_path: Path) -> None:
    assert len(resources(build(tmp_path, nat_gateways=1).template, "AWS::EC2::NatGateway")) == 1
    with pytest.raises(ValueError, match="nat_gateways"):
        build(tmp_path / "none", nat_gateways=0)


def test_flow_logs_go_to_an_encrypted_expiring_log_group(template: dict[str, Any]) -> None:
    flow_log = only(template, "AWS::EC2::FlowLog")
    assert (flow_log["ResourceType"], flow_log["TrafficType"], flow_log["LogDestinationType"]) == (
        "VPC",
        "ALL",
        "cloud-watch-logs",
    )
    assert flow_log["ResourceId"] == {"Ref": logical_id(template, "AWS::EC2::VPC")}
    (group,) = [
        g["Properties"]
        for g in resources(template, "AWS::Logs::LogGroup").values()
        if g["Properties"]["LogGroupName"] == FLOW_LOGS
    ]
    assert flow_log["LogGroupName"]["Ref"] in resources(template, "AWS::Logs::LogGroup")
    assert group["KmsKeyId"] == {"Fn::GetAtt": [logical_id(template, "AWS::KMS::Key"), "Arn"]}
    assert group["RetentionInDays"] == 30


def test_default_security_group_is_stripped(template: dict[str, Any]) -> None:
    (restrict,) = [r for r in template["Resources"].values() if r["Type"] == "Custom::VpcRestrictDefaultSG"]
    assert restrict["Properties"]["DefaultSecurityGroupId"] == {
        "Fn::GetAtt": [logical_id(template, "AWS::EC2::VPC"), "DefaultSecurityGroup"]
    }


def test_instance_security_group_has_no_inbound_and_only_https_out(template: dict[str, Any]) -> None:
    group = only(template, "AWS::EC2::SecurityGroup")
    assert "SecurityGroupIngress" not in group
    assert not resources(template, "AWS::EC2::SecurityGroupIngress")
    assert [(e["IpProtocol"], e["FromPort"], e["ToPort"], e["CidrIp"]) for e in group["SecurityGroupEgress"]] == [
        ("tcp", 443, 443, "0.0.0.0/0")
    ]


def test_s3_gateway_endpoint_serves_the_private_subnets(template: dict[str, Any]) -> None:
    endpoint = only(template, "AWS::EC2::VPCEndpoint")
    assert endpoint["VpcEndpointType"] == "Gateway"
    assert "s3" in json.dumps(render(endpoint["ServiceName"]))
    private_tables = {name for name, table in resources(template, "AWS::EC2::RouteTable").items() if "private" in name}
    assert {ref["Ref"] for ref in endpoint["RouteTableIds"]} == private_tables and len(private_tables) == 2


# --- Image Builder -----------------------------------------------------------------------------------


def test_parent_image_is_the_latest_al2023_from_ssm(template: dict[str, Any]) -> None:
    parent = only(template, "AWS::ImageBuilder::ImageRecipe")["ParentImage"]
    assert parent == f"ssm:{AL2023}"
    assert "2022" not in parent and "amazon-linux-2-" not in parent


def test_root_volume_is_encrypted_gp3_with_the_key(template: dict[str, Any]) -> None:
    (mapping,) = only(template, "AWS::ImageBuilder::ImageRecipe")["BlockDeviceMappings"]
    assert mapping["DeviceName"] == "/dev/xvda"
    assert mapping["Ebs"] == {
        "Encrypted": True,
        "KmsKeyId": {"Fn::GetAtt": [logical_id(template, "AWS::KMS::Key"), "Arn"]},
        "VolumeType": "gp3",
        "VolumeSize": 8,
        "DeleteOnTermination": True,
    }


def test_recipe_runs_os_updates_then_our_components_in_order(template: dict[str, Any]) -> None:
    components = resources(template, "AWS::ImageBuilder::Component")
    by_name = {c["Properties"]["Name"]: name for name, c in components.items()}
    assert list(by_name) == [f"ami-lc-test-{c}" for c in COMPONENTS]
    arns = [render(c["ComponentArn"]) for c in only(template, "AWS::ImageBuilder::ImageRecipe")["Components"]]
    assert arns[0].endswith(":aws:component/update-linux/x.x.x")
    assert arns[1:] == [f"${{{by_name[f'ami-lc-test-{c}']}.Arn}}" for c in COMPONENTS]


def test_components_are_inline_encrypted_amazon_linux_documents(template: dict[str, Any]) -> None:
    key = {"Fn::GetAtt": [logical_id(template, "AWS::KMS::Key"), "Arn"]}
    for component in resources(template, "AWS::ImageBuilder::Component").values():
        properties = component["Properties"]
        assert (properties["Platform"], properties["KmsKeyId"], properties["SupportedOsVersions"]) == (
            "Linux",
            key,
            ["Amazon Linux 2023"],
        )
        assert "Uri" not in properties
        stem = properties["Name"].removeprefix("ami-lc-test-")
        assert yaml.safe_load(properties["Data"])["name"] == f"ami-lc-{stem}"
        assert properties["Version"] == content_version(properties["Data"])


def test_component_versions_follow_their_content() -> None:
    assert content_version("a") == content_version("a") != content_version("b")
    major, minor, patch = map(int, content_version("a").split("."))
    assert (major, minor) == (1, 0) and patch < 2**30


def test_build_instances_require_imdsv2_and_are_terminated_on_failure(template: dict[str, Any]) -> None:
    infrastructure = only(template, "AWS::ImageBuilder::InfrastructureConfiguration")
    assert infrastructure["InstanceMetadataOptions"] == {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}
    assert infrastructure["TerminateInstanceOnFailure"] is True
    assert infrastructure["InstanceTypes"] == ["t3.medium", "m6i.large"]
    assert "KeyPair" not in infrastructure
    private_ids = {
        name
        for name, s in resources(template, "AWS::EC2::Subnet").items()
        if {"Key": "aws-cdk:subnet-type", "Value": "Private"} in s["Properties"]["Tags"]
    }
    assert infrastructure["SubnetId"]["Ref"] in private_ids
    assert infrastructure["SecurityGroupIds"] == [
        {"Fn::GetAtt": [logical_id(template, "AWS::EC2::SecurityGroup"), "GroupId"]}
    ]
    assert infrastructure["ResourceTags"] == {"AMI_LC_DEPLOYMENT": "test"}
    assert infrastructure["SnsTopicArn"] == {"Ref": logical_id(template, "AWS::SNS::Topic")}


def test_instance_role_has_the_two_managed_policies_and_key_decrypt(template: dict[str, Any]) -> None:
    (role_id,) = [
        name
        for name, r in resources(template, "AWS::IAM::Role").items()
        if "Image Builder" in r["Properties"].get("Description", "")
    ]
    role = template["Resources"][role_id]["Properties"]
    assert sorted(render(arn) for arn in role["ManagedPolicyArns"]) == [
        "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:${AWS::Partition}:iam::aws:policy/EC2InstanceProfileForImageBuilder",
    ]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    (policy,) = [
        p["Properties"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": "kms:Decrypt",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [logical_id(template, "AWS::KMS::Key"), "Arn"]},
        }
    ]
    profile = only(template, "AWS::IAM::InstanceProfile")
    assert profile["Roles"] == [{"Ref": role_id}]


def test_distribution_names_the_ami_by_build_date_in_this_region(template: dict[str, Any]) -> None:
    (distribution,) = only(template, "AWS::ImageBuilder::DistributionConfiguration")["Distributions"]
    assert distribution["Region"] == {"Ref": "AWS::Region"}
    ami = distribution["AmiDistributionConfiguration"]
    assert ami["Name"] == "ami-lc-test-{{ imagebuilder:buildDate }}"
    assert ami["AmiTags"] == {"AMI_LC_DEPLOYMENT": "test"}
    assert "LaunchPermissionConfiguration" not in ami and "TargetAccountIds" not in ami  # private AMI


def test_pipeline_has_no_schedule_and_tests_images(template: dict[str, Any]) -> None:
    pipeline = only(template, "AWS::ImageBuilder::ImagePipeline")
    assert "Schedule" not in pipeline
    assert pipeline["Status"] == "ENABLED"
    assert pipeline["EnhancedImageMetadataEnabled"] is True
    assert pipeline["ImageTestsConfiguration"]["ImageTestsEnabled"] is True
    refs = {name: r["Properties"]["LogGroupName"] for name, r in resources(template, "AWS::Logs::LogGroup").items()}
    logging = pipeline["LoggingConfiguration"]
    assert refs[logging["ImageLogGroupName"]["Ref"]] == "/aws/imagebuilder/ami-lc-test-recipe"
    assert refs[logging["PipelineLogGroupName"]["Ref"]] == "/aws/imagebuilder/pipeline/ami-lc-test-pipeline"


def test_every_log_group_is_encrypted_and_expires(template: dict[str, Any]) -> None:
    key = {"Fn::GetAtt": [logical_id(template, "AWS::KMS::Key"), "Arn"]}
    groups = [g["Properties"] for g in resources(template, "AWS::Logs::LogGroup").values()]
    assert len(groups) == 3
    assert all(g["KmsKeyId"] == key and g["RetentionInDays"] == 30 for g in groups)


def key_statements(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    statements = only(template, "AWS::KMS::Key")["KeyPolicy"]["Statement"]
    return {s["Sid"]: render(s) for s in statements if "Sid" in s}


def test_key_trusts_cloudwatch_logs_for_image_builder_groups_of_this_deployment(template: dict[str, Any]) -> None:
    statement = key_statements(template)["ImageBuilderLogs"]
    assert statement["Principal"] == {"Service": "logs.${AWS::Region}.amazonaws.com"}
    arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/imagebuilder"
    assert statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == [
        f"{arn}/ami-lc-test-*",
        f"{arn}/pipeline/ami-lc-test-*",
    ]


def test_key_lets_only_image_builder_publish_to_the_topic(template: dict[str, Any]) -> None:
    statement = key_statements(template)["ImageBuilderNotifications"]
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert statement["Condition"] == {
        "ArnEquals": {
            "aws:PrincipalArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/"
            "imagebuilder.amazonaws.com/AWSServiceRoleForImageBuilder"
        },
        "StringEquals": {
            "kms:CallerAccount": "${AWS::AccountId}",
            "kms:ViaService": "sns.${AWS::Region}.amazonaws.com",
        },
    }


def test_without_a_topic_nothing_is_published_or_granted(tmp_path: Path) -> None:
    template = build(tmp_path, topic=False).template
    assert "SnsTopicArn" not in only(template, "AWS::ImageBuilder::InfrastructureConfiguration")
    assert "ImageBuilderNotifications" not in key_statements(template)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"instance_types": ["t2.medium"]}, "previous-generation"),
        ({"instance_types": ["t3.medium", "m4.large"]}, "m4.large"),
        ({"instance_types": []}, "at least one"),
        (
            {"parent_image_ssm_parameter": "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"},
            "Amazon Linux 2023",
        ),
    ],
)
def test_invalid_settings_are_refused_at_synth(tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(tmp_path, **overrides)


# --- linters -------------------------------------------------------------------------------------------


def checkov(*paths: Path) -> list[dict[str, Any]]:
    """One checkov report per template, the runs in parallel."""
    processes = [
        subprocess.Popen(
            [
                checkov_bin(),
                "-f",
                str(path),
                "--framework",
                "cloudformation",
                "--quiet",
                "--compact",
                "--skip-download",
                "-o",
                "json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for path in paths
    ]
    return [json.loads(process.communicate(timeout=300)[0]) for process in processes]


def test_cfn_lint_is_clean(fixture: Fixture) -> None:
    # W3005 ("DependsOn already enforced"): emitted for the DependsOn CDK writes into its own provider.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--ignore-checks", "W3005", "--", str(fixture.path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_and_every_waiver_is_needed(fixture: Fixture, tmp_path: Path) -> None:
    waivers = {
        (skip["id"], name): skip["comment"]
        for name, resource in fixture.template["Resources"].items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }
    bare = json.loads(json.dumps(fixture.template))
    for resource in bare["Resources"].values():
        resource.get("Metadata", {}).pop("checkov", None)
    (tmp_path / "bare.template.json").write_text(json.dumps(bare))

    report, without_waivers = checkov(fixture.path, tmp_path / "bare.template.json")
    assert report["summary"]["failed"] == 0, report["results"]["failed_checks"]
    assert report["summary"]["parsing_errors"] == 0
    would_fail = {(f["check_id"], f["resource"].split(".", 1)[1]) for f in without_waivers["results"]["failed_checks"]}
    assert set(waivers) == would_fail
    assert all(len(reason) >= 40 for reason in waivers.values())
