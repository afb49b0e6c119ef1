"""The local endpoint checks every call against the caller's own IAM policies, as AWS does: a role
assumed on the endpoint gets AccessDenied (in each service's own error code) for whatever its
policies do not allow, with resource ARNs and the condition keys the app's policies use."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.cloud import LocalCloud
from tests.support.aws import refused

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_factor=0.001) as local:
        yield local


class Role:
    def __init__(self, cloud: LocalCloud, name: str, statements: list[dict[str, Any]]) -> None:
        self.iam, self.name = cloud.client("iam"), name
        self.arn = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        self.allow(statements)
        issued = cloud.client("sts").assume_role(RoleArn=self.arn, RoleSessionName="test")["Credentials"]
        self.session = boto3.session.Session(
            aws_access_key_id=issued["AccessKeyId"], aws_secret_access_key=issued["SecretAccessKey"],
            aws_session_token=issued["SessionToken"], region_name=REGION)

    def allow(self, statements: list[dict[str, Any]]) -> None:
        self.iam.put_role_policy(RoleName=self.name, PolicyName="policy", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))

    def client(self, service: str) -> Any:
        return self.session.client(service)


def test_a_role_may_do_what_its_policy_allows_on_the_resources_it_names_and_nothing_else(cloud: LocalCloud) -> None:
    dynamodb = cloud.client("dynamodb")
    for name in ("mine", "other"):
        dynamodb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    role = Role(cloud, "reader", [{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                                   "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/mine"}])
    table = role.client("dynamodb")

    assert table.get_item(TableName="mine", Key={"pk": {"S": "x"}})["ResponseMetadata"]["HTTPStatusCode"] == 200
    error = refused(lambda: table.get_item(TableName="other", Key={"pk": {"S": "x"}}))
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/reader/test is not authorized to perform: dynamodb:GetItem on "
        f"resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other because no identity-based policy allows the "
        "dynamodb:GetItem action")
    assert refused(lambda: table.delete_table(TableName="mine"))["Code"] == "AccessDeniedException"
    assert dynamodb.describe_table(TableName="mine")["Table"]["TableStatus"] == "ACTIVE"  # nothing happened


def test_each_service_answers_a_denial_with_its_own_error_code(cloud: LocalCloud) -> None:
    role = Role(cloud, "nothing", [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}])
    sqs_url = cloud.client("sqs").create_queue(QueueName="q")["QueueUrl"]
    cloud.client("s3").create_bucket(Bucket="bucket")
    topic = cloud.client("sns").create_topic(Name="t")["TopicArn"]

    assert refused(lambda: role.client("ec2").terminate_instances(InstanceIds=["i-0123456789abcdef0"]))["Code"] == "UnauthorizedOperation"
    assert refused(lambda: role.client("s3").put_object(Bucket="bucket", Key="k", Body=b"x"))["Code"] == "AccessDenied"
    assert refused(lambda: role.client("sqs").send_message(QueueUrl=sqs_url, MessageBody="x"))["Code"] == "AccessDenied"
    assert refused(lambda: role.client("sns").publish(TopicArn=topic, Message="x"))["Code"] == "AuthorizationError"
    assert refused(lambda: role.client("lambda").invoke(FunctionName="f"))["Code"] == "AccessDeniedException"
    assert refused(lambda: role.client("imagebuilder").list_images())["Code"] == "AccessDeniedException"
    assert role.client("sts").get_caller_identity()["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/nothing/test"


def _launch(ec2: Any, image: str, subnet: str, tags: dict[str, str], profile: str | None = None) -> Any:
    extra = {"IamInstanceProfile": {"Name": profile}} if profile else {}
    specs = [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} for kind in ("instance", "volume")]
    return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", SubnetId=subnet,
                             TagSpecifications=specs if tags else [], **extra)


def test_run_instances_checks_every_resource_with_its_conditions(cloud: LocalCloud) -> None:
    ec2, iam = cloud.client("ec2"), cloud.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    own_image = ec2.register_image(Name="own", RootDeviceName="/dev/xvda", BlockDeviceMappings=[
        {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}])["ImageId"]
    amazon_image = ec2.describe_images(Owners=["amazon"], MaxResults=5)["Images"][0]["ImageId"]
    iam.create_role(RoleName="instance", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_instance_profile(InstanceProfileName="instance")
    iam.add_role_to_instance_profile(InstanceProfileName="instance", RoleName="instance")
    tag = {"aws:RequestTag/AMI_LC_DEPLOYMENT": "main"}
    statements = [
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": [
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*", f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/*"],
         "Condition": {"StringEquals": tag}},
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": [
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-interface/*", f"arn:aws:ec2:{REGION}:{ACCOUNT}:subnet/{subnet}"]},
        {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": f"arn:aws:ec2:{REGION}::image/*",
         "Condition": {"StringEquals": {"ec2:Owner": ACCOUNT}}},
        {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"StringEquals": {"ec2:CreateAction": "RunInstances"}}},
        {"Effect": "Allow", "Action": "ec2:TerminateInstances", "Resource": "*",
         "Condition": {"StringEquals": {"ec2:ResourceTag/AMI_LC_DEPLOYMENT": "main"}}},
    ]
    role = Role(cloud, "launcher", statements)
    launcher = role.client("ec2")

    untagged = refused(lambda: _launch(launcher, own_image, subnet, {}))
    assert untagged["Code"] == "UnauthorizedOperation" and "instance/*" in untagged["Message"]
    assert "ec2:RunInstances" in refused(lambda: _launch(launcher, own_image, subnet, {"AMI_LC_DEPLOYMENT": "other"}))["Message"]
    assert f"image/{amazon_image}" in refused(lambda: _launch(launcher, amazon_image, subnet, {"AMI_LC_DEPLOYMENT": "main"}))["Message"]
    assert "iam:PassRole" in refused(lambda: _launch(launcher, own_image, subnet, {"AMI_LC_DEPLOYMENT": "main"}, "instance"))["Message"]
    instance = _launch(launcher, own_image, subnet, {"AMI_LC_DEPLOYMENT": "main"})["Instances"][0]["InstanceId"]

    assert "ec2:CreateTags" in refused(lambda: launcher.create_tags(Resources=[instance], Tags=[{"Key": "x", "Value": "y"}]))["Message"]
    foreign = ec2.run_instances(ImageId=own_image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    assert refused(lambda: launcher.terminate_instances(InstanceIds=[foreign]))["Code"] == "UnauthorizedOperation"
    launcher.terminate_instances(InstanceIds=[instance])

    role.allow(statements + [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
                              "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}])
    assert _launch(launcher, own_image, subnet, {"AMI_LC_DEPLOYMENT": "main"}, "instance")["Instances"]


def test_a_policy_change_applies_to_the_next_call_and_an_explicit_deny_wins(cloud: LocalCloud) -> None:
    cloud.client("s3").create_bucket(Bucket="changing")
    role = Role(cloud, "writer", [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::changing/*"}])
    s3 = role.client("s3")
    s3.put_object(Bucket="changing", Key="a", Body=b"1")

    role.allow([{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::changing/locked/*"}])

    assert "explicit deny" in refused(lambda: s3.put_object(Bucket="changing", Key="locked/b", Body=b"2"))["Message"]
    s3.put_object(Bucket="changing", Key="open/b", Body=b"3")


def test_assume_role_needs_a_trust_policy_naming_the_caller(cloud: LocalCloud) -> None:
    caller = Role(cloud, "caller", [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}])
    target = cloud.client("iam").create_role(RoleName="service-only", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]

    error = refused(lambda: caller.client("sts").assume_role(RoleArn=target, RoleSessionName="xx"))

    assert error["Code"] == "AccessDenied" and "sts:AssumeRole" in error["Message"]


def test_fakes_are_served_by_the_endpoint_to_any_client_under_the_same_checks(cloud: LocalCloud) -> None:
    role = Role(cloud, "builder", [{"Effect": "Allow", "Action": "imagebuilder:ListComponents", "Resource": "*"}])

    assert role.client("imagebuilder").list_components()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert refused(lambda: role.client("imagebuilder").get_image(
        imageBuildVersionArn=f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/x/1.0.0/1"))["Code"] == "AccessDeniedException"
    assert cloud.endpoint.denials[-1].action == "imagebuilder:GetImage"


def test_a_queue_encrypted_with_a_customer_managed_key_needs_that_key_too(cloud: LocalCloud, tmp_path: Any) -> None:
    template = {"Resources": {
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"Description": "queue key"}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "sealed", "KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
    }}
    created = cloud.deploy(template, tmp_path, "KeyTest")
    queue_arn, key_arn, url = created["Queue"]["Arn"], created["Key"]["Arn"], created["Queue"]["QueueUrl"]
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}
    role = Role(cloud, "producer", [send])

    error = refused(lambda: role.client("sqs").send_message(QueueUrl=url, MessageBody="x"))
    assert error["Code"] == "AccessDenied" and f"kms:GenerateDataKey on resource: {key_arn}" in error["Message"]

    role.allow([send, {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": key_arn}])
    assert role.client("sqs").send_message(QueueUrl=url, MessageBody="x")["MessageId"]
