"""The local endpoint reads the requests real SDK clients send and answers in each protocol's format:
requests are built by botocore itself, responses are read back by botocore's own parsers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.parsers import create_parser

from local.endpoint import wire


class _Sent(Exception):
    pass


def sent(service: str, operation: str, **params: Any) -> wire.AwsCall:
    """What the endpoint parses from the request botocore builds for this call."""
    client = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x", region_name="us-west-2").client(
        service, endpoint_url="http://127.0.0.1:9")
    parsed: list[wire.AwsCall] = []

    def capture(request: Any, **_: Any) -> None:
        call = wire.parse(wire.HttpRequest.of(request.method, request.url, request.headers, request.body))
        assert call is not None
        parsed.append(call)
        raise _Sent

    client.meta.events.register("before-send", capture)
    with pytest.raises(_Sent):
        getattr(client, operation)(**params)
    return parsed[0]


def test_every_protocol_yields_the_operation_its_parameters_and_the_signer() -> None:
    ec2 = sent("ec2", "run_instances", ImageId="ami-1", MinCount=1, MaxCount=1, SecurityGroupIds=["sg-1", "sg-2"],
               TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "AMI_LC_DEPLOYMENT", "Value": "main"}]}])
    assert (ec2.service, ec2.operation, ec2.region, ec2.access_key_id) == ("ec2", "RunInstances", "us-west-2", "AKIDEXAMPLE")
    assert ec2.params["SecurityGroupIds"] == ["sg-1", "sg-2"]
    assert ec2.params["TagSpecifications"] == [{"ResourceType": "instance", "Tags": [{"Key": "AMI_LC_DEPLOYMENT", "Value": "main"}]}]
    sns = sent("sns", "publish", TopicArn="arn:t", Message="m", MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}})
    assert sns.params["MessageAttributes"] == {"a": {"DataType": "String", "StringValue": "v"}}
    assert sent("stepfunctions", "start_execution", stateMachineArn="arn:sm", name="n").params["stateMachineArn"] == "arn:sm"
    assert sent("dynamodb", "put_item", TableName="t", Item={"a": {"S": "b"}}).params["Item"] == {"a": {"S": "b"}}
    assert sent("lambda", "invoke", FunctionName="arn:aws:lambda:us-west-2:1:function:f").params["FunctionName"].endswith(":f")
    image = sent("imagebuilder", "get_image", imageBuildVersionArn="arn:aws:imagebuilder:us-west-2:1:image/x/1.0.0/1")
    assert image.operation == "GetImage" and image.params["imageBuildVersionArn"].endswith("image/x/1.0.0/1")
    deprecation = sent("ec2", "enable_image_deprecation", ImageId="ami-1", DeprecateAt=datetime(2030, 1, 1, tzinfo=UTC))
    assert deprecation.params["DeprecateAt"] == datetime(2030, 1, 1, tzinfo=UTC)


def test_s3_operations_sharing_a_path_are_told_apart() -> None:
    put = sent("s3", "put_object", Bucket="bucket", Key="a/b c.txt", Body=b"x")
    copy = sent("s3", "copy_object", Bucket="bucket", Key="k", CopySource="src/key")
    listing = sent("s3", "list_objects_v2", Bucket="bucket", Prefix="a/")
    assert (put.operation, put.params["Key"]) == ("PutObject", "a/b c.txt")
    assert (copy.operation, listing.operation, listing.params["Prefix"]) == ("CopyObject", "ListObjectsV2", "a/")


def test_an_unsigned_request_is_not_an_aws_call_the_endpoint_accepts() -> None:
    with pytest.raises(wire.WireError, match="MissingAuthenticationToken"):
        wire.parse(wire.HttpRequest("POST", "http://127.0.0.1/", {}, b"Action=DescribeImages"))
    assert wire.parse(wire.HttpRequest("POST", "http://127.0.0.1/moto-api/config", {}, b"{}")) is None


@pytest.mark.parametrize(("service", "operation", "output"), [
    ("ec2", "DescribeExportImageTasks", {"ExportImageTasks": [{"ExportImageTaskId": "export-ami-1", "Status": "active",
                                                             "S3ExportLocation": {"S3Bucket": "b", "S3Prefix": "p/"}}]}),
    ("ec2", "DescribeImages", {"Images": [{"ImageId": "ami-1", "DeprecationTime": "2030-01-01T00:00:00.000Z",
                                           "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"Encrypted": True}}]}]}),
    ("imagebuilder", "GetImage", {"image": {"arn": "arn:i", "state": {"status": "AVAILABLE"},
                                            "outputResources": {"amis": [{"image": "ami-1", "region": "us-west-2"}]}}}),
    ("ssm", "GetCommandInvocation", {"CommandId": "c", "Status": "Success", "StandardOutputContent": "{}"}),
    ("inspector2", "ListCoverage", {"coveredResources": [{"resourceId": "i-1", "resourceType": "AWS_EC2_INSTANCE",
                                                          "accountId": "1", "scanType": "PACKAGE"}]}),
])
def test_a_fake_output_reads_back_through_botocore_unchanged(service: str, operation: str, output: dict[str, Any]) -> None:
    model = wire.service_model(service).operation_model(operation)
    call = wire.AwsCall(service, operation, {}, "us-west-2", "AKID", model)

    parsed = wire.parse_output(call, wire.respond(call, output))
    parsed.pop("ResponseMetadata")

    assert parsed == output


@pytest.mark.parametrize(("service", "code", "status"), [
    ("ec2", "UnauthorizedOperation", 403), ("s3", "AccessDenied", 403), ("sns", "AuthorizationError", 403),
    ("dynamodb", "AccessDeniedException", 400), ("lambda", "AccessDeniedException", 403), ("sqs", "AccessDenied", 400),
])
def test_errors_carry_the_code_the_sdk_raises(service: str, code: str, status: int) -> None:
    model = wire.service_model(service)
    response = wire.error(model.protocol, code, "User: x is not authorized", status, query_compatible=service == "sqs")
    operation = model.operation_model(model.operation_names[0])
    parsed = create_parser(model.protocol).parse(
        {"status_code": response.status, "headers": response.headers, "body": response.body}, operation.output_shape)
    if service == "sqs":  # botocore maps the query-compatible header onto the error code
        assert response.headers["x-amzn-query-error"] == "AccessDenied;Sender"
    else:
        assert parsed["Error"]["Code"] == code
    assert "not authorized" in parsed["Error"]["Message"]
