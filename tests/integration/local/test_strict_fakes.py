"""The local fakes refuse what AWS refuses, with AWS's error codes, and answer with AWS's vocabulary.

Each test drives a fake through an ordinary boto3 client inside a LocalCloud (moto in decorator mode
with the fakes installed), as the handlers do. The AWS source of each behaviour is listed in
docs/LOCAL_CLOUD.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from lambdas.adapters import image_builder_gateway
from local.cloud import LocalCloud
from local.fakes.inspector import InspectorFake
from tests.integration.local.shapes import assert_matches, enum
from tests.support.aws import refused

REGION, ACCOUNT = "us-east-1", "123456789012"
FACTOR = 0.001  # 1 simulated minute = 60 ms


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account=ACCOUNT, time_factor=FACTOR) as local:
        yield local


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def wait_until(predicate: Callable[[], Any], timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def _if(value: Any, condition: Callable[[Any], bool]) -> Any:
    return value if condition(value) else None


def register_ami() -> str:
    return client("ec2").register_image(
        Name=f"parent-{time.monotonic_ns()}", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]


def run_instance() -> str:
    return client("ec2").run_instances(ImageId=register_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]


def create_component(name: str = "hardening", version: str = "1.0.0", token: str = "c-1") -> str:
    return client("imagebuilder").create_component(
        name=name, semanticVersion=version, platform="Linux", uri="s3://components/hardening.yml", clientToken=token
    )["componentBuildVersionArn"]


def create_recipe(parent: str, name: str = "golden", token: str = "r-1") -> str:
    component = create_component(name=f"for-{token}", token=f"c-{token}")
    return client("imagebuilder").create_image_recipe(
        name=name, semanticVersion="1.0.0", parentImage=parent, components=[{"componentArn": component}], clientToken=token,
    )["imageRecipeArn"]


# ---- EC2 Image Builder

def test_create_component_refuses_a_name_and_version_that_exists(cloud: LocalCloud) -> None:
    arn = create_component(token="first")
    assert create_component(token="first") == arn  # same client token: the same component (idempotent retry)

    error = refused(lambda: create_component(token="second"))

    assert error["Code"] == "ResourceAlreadyExistsException"
    assert "already exists" in error["Message"] and arn in error["Message"]
    assert create_component(version="1.0.1", token="third").endswith("/hardening/1.0.1/1")


def test_create_image_recipe_refuses_an_ami_that_does_not_exist(cloud: LocalCloud) -> None:
    error = refused(lambda: create_recipe("ami-0123456789abcdef0"))

    assert error["Code"] == "InvalidParameterValueException"
    assert "'parentImage'" in error["Message"] and "ami-0123456789abcdef0" in error["Message"]
    assert create_recipe(register_ami(), name="from-real-ami", token="r-2").endswith("/from-real-ami/1.0.0")


def test_create_image_recipe_refuses_an_image_builder_image_that_does_not_exist(cloud: LocalCloud) -> None:
    missing = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/never-built/1.0.0/1"

    error = refused(lambda: create_recipe(missing))

    assert error["Code"] == "InvalidParameterValueException"
    assert "'parentImage'" in error["Message"] and missing in error["Message"]
    # AWS-managed images exist in every Region: accepted.
    assert create_recipe(f"arn:aws:imagebuilder:{REGION}:aws:image/amazon-linux-2023-x86/x.x.x", name="managed", token="r-3")


def test_create_image_recipe_refuses_a_duplicate_and_an_unknown_component(cloud: LocalCloud) -> None:
    ami = register_ami()
    recipe = create_recipe(ami, token="r-1")
    duplicate = refused(lambda: create_recipe(ami, token="r-other"))
    unknown = f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:component/ghost/1.0.0/1"
    missing_component = refused(lambda: client("imagebuilder").create_image_recipe(
        name="other", semanticVersion="1.0.0", parentImage=ami, components=[{"componentArn": unknown}], clientToken="r-4"))

    assert duplicate["Code"] == "ResourceAlreadyExistsException" and recipe in duplicate["Message"]
    assert missing_component["Code"] == "InvalidParameterValueException" and unknown in missing_component["Message"]


@pytest.mark.parametrize("wrong", ["infrastructureConfigurationArn", "distributionConfigurationArn", "imageRecipeArn"])
def test_create_image_pipeline_refuses_a_configuration_or_recipe_that_does_not_exist(cloud: LocalCloud, wrong: str) -> None:
    fake = cloud.image_builder
    arguments = {
        "imageRecipeArn": create_recipe(register_ami()),
        "infrastructureConfigurationArn": fake.add_infrastructure_configuration("main-infrastructure"),
        "distributionConfigurationArn": fake.add_distribution_configuration("main-distribution"),
    }
    arguments[wrong] = arguments[wrong].replace("main", "deleted").replace("golden", "deleted")

    error = refused(lambda: client("imagebuilder").create_image_pipeline(name="patch", clientToken="p-1", **arguments))

    assert error["Code"] == "InvalidParameterValueException"
    assert f"'{wrong}'" in error["Message"] and arguments[wrong] in error["Message"] and "does not exist" in error["Message"]


def test_create_image_pipeline_accepts_the_registered_configurations(cloud: LocalCloud) -> None:
    fake = cloud.image_builder
    arn = client("imagebuilder").create_image_pipeline(
        name="patch", clientToken="p-1", imageRecipeArn=create_recipe(register_ami()),
        infrastructureConfigurationArn=fake.add_infrastructure_configuration("main-infrastructure"),
        distributionConfigurationArn=fake.add_distribution_configuration("main-distribution"),
    )["imagePipelineArn"]

    assert arn == f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image-pipeline/patch"
    assert fake.infrastructure_configurations and fake.distribution_configurations


def test_a_failed_image_reports_the_documented_status_reason_and_failure_context(cloud: LocalCloud) -> None:
    fake = cloud.image_builder
    fake.build_minutes = 1
    fake.fail_next_build("Component 'hardening' failed at step 'sshd'")
    image_arn = client("imagebuilder").start_image_pipeline_execution(
        imagePipelineArn=fake.add_pipeline("golden"), clientToken="s-1")["imageBuildVersionArn"]
    seen = {client("imagebuilder").get_image(imageBuildVersionArn=image_arn)["image"]["state"]["status"]}

    image = wait_until(lambda: _if(client("imagebuilder").get_image(imageBuildVersionArn=image_arn),
                                   lambda i: i["image"]["state"]["status"] == "FAILED"))

    state = image["image"]["state"]
    assert state["reason"] == "Component 'hardening' failed at step 'sshd'"
    assert state["failureContext"]["componentFailure"]["errorMessage"] == state["reason"]
    assert_matches("imagebuilder", "GetImage", image)
    assert seen <= enum("imagebuilder", "ImageStatus")
    # What the workflows wait on is exactly the API's vocabulary.
    gateway = image_builder_gateway.IN_PROGRESS | image_builder_gateway.TERMINAL_FAILURES | {"AVAILABLE"}
    assert gateway == enum("imagebuilder", "ImageStatus")


# ---- Systems Manager Run Command

def _send(instance_id: str, timeout: str = "600") -> dict[str, Any]:
    return client("ssm").send_command(
        InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["python3 /tmp/ami_checks.py /"], "executionTimeout": [timeout]},
    )


def _online(instance_id: str) -> bool:
    info = client("ssm").describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])
    return any(i["PingStatus"] == "Online" for i in info["InstanceInformationList"])


def test_send_command_refuses_an_instance_that_is_not_managed_yet(cloud: LocalCloud) -> None:
    cloud.ssm.registration_minutes = 10  # registration runs from launch: 0.6 s, well after the send below
    instance_id = run_instance()

    error = refused(lambda: _send(instance_id))

    assert error["Code"] == "InvalidInstanceId"
    assert f"Instances [[{instance_id}]] not in a valid state for account {ACCOUNT}" == error["Message"]
    wait_until(lambda: _online(instance_id))
    assert _send(instance_id)["Command"]["Status"] == "Pending"


def test_send_command_refuses_a_terminated_or_unknown_instance(cloud: LocalCloud) -> None:
    instance_id = run_instance()
    wait_until(lambda: _online(instance_id))
    client("ec2").terminate_instances(InstanceIds=[instance_id])

    terminated = refused(lambda: _send(instance_id))
    unknown = refused(lambda: _send("i-0123456789abcdef0"))

    assert terminated["Code"] == unknown["Code"] == "InvalidInstanceId"
    assert instance_id in terminated["Message"] and "i-0123456789abcdef0" in unknown["Message"]


def test_get_command_invocation_refuses_an_unknown_command_or_instance(cloud: LocalCloud) -> None:
    instance_id = run_instance()
    wait_until(lambda: _online(instance_id))
    command_id = _send(instance_id)["Command"]["CommandId"]

    unknown_command = refused(lambda: client("ssm").get_command_invocation(
        CommandId="11111111-2222-3333-4444-555555555555", InstanceId=instance_id))
    other_instance = refused(lambda: client("ssm").get_command_invocation(CommandId=command_id, InstanceId="i-0123456789abcdef0"))

    for error in (unknown_command, other_instance):
        assert error["Code"] == "InvocationDoesNotExist"
        assert "didn't match any invocations" in error["Message"]


def test_command_statuses_are_the_api_vocabulary(cloud: LocalCloud) -> None:
    cloud.ssm.command_minutes = 10  # 0.6 s: long enough to see it Pending/InProgress
    instance_id = run_instance()
    wait_until(lambda: _online(instance_id))
    sent = _send(instance_id)
    assert_matches("ssm", "SendCommand", sent)
    seen: list[str] = []

    def finished() -> dict[str, Any] | None:
        invocation = client("ssm").get_command_invocation(CommandId=sent["Command"]["CommandId"], InstanceId=instance_id)
        assert_matches("ssm", "GetCommandInvocation", invocation)
        seen.append(invocation["Status"])
        return invocation if invocation["Status"] not in ("Pending", "InProgress") else None

    done = wait_until(finished)

    assert done["Status"] == "Success" and done["ResponseCode"] == 0 and "AMI_CHECKS_JSON" in done["StandardOutputContent"]
    assert seen[0] in ("Pending", "InProgress") and set(seen) <= {"Pending", "InProgress", "Success"}


def test_a_command_running_past_its_execution_timeout_ends_timed_out(cloud: LocalCloud) -> None:
    instance_id = run_instance()
    wait_until(lambda: _online(instance_id))
    command_id = _send(instance_id, timeout="30")["Command"]["CommandId"]  # the check takes 1 simulated minute

    done = wait_until(lambda: _if(client("ssm").get_command_invocation(CommandId=command_id, InstanceId=instance_id),
                                  lambda i: i["Status"] not in ("Pending", "InProgress")))

    assert (done["Status"], done["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")


# ---- Amazon Inspector

def _ec2_status() -> str:
    status = client("inspector2").batch_get_account_status(accountIds=[ACCOUNT])
    assert_matches("inspector2", "BatchGetAccountStatus", status)
    return status["accounts"][0]["resourceState"]["ec2"]["status"]


def test_account_status_reports_ec2_scanning_and_enable_disable_change_it(cloud: LocalCloud) -> None:
    inspector = client("inspector2")
    assert _ec2_status() == "ENABLED"

    disabled = inspector.disable(accountIds=[ACCOUNT], resourceTypes=["EC2"])
    assert_matches("inspector2", "Disable", disabled)
    assert disabled["accounts"][0]["resourceStatus"]["ec2"] == "DISABLING"
    wait_until(lambda: _ec2_status() == "DISABLED")

    enabled = inspector.enable(accountIds=[ACCOUNT], resourceTypes=["EC2"])
    assert_matches("inspector2", "Enable", enabled)
    assert enabled["accounts"][0]["resourceStatus"]["ec2"] == "ENABLING"
    wait_until(lambda: _ec2_status() == "ENABLED")
    assert inspector.batch_get_account_status()["accounts"][0]["accountId"] == ACCOUNT  # no ids: the caller's account


def test_enable_refuses_an_unknown_resource_type(cloud: LocalCloud) -> None:
    error = refused(lambda: client("inspector2").enable(resourceTypes=["EC3"]))

    assert error["Code"] == "ValidationException" and "EC3" in error["Message"]


def test_nothing_is_covered_or_found_while_ec2_scanning_is_disabled() -> None:
    local = LocalCloud(region=REGION, account=ACCOUNT, time_factor=FACTOR)
    local.inspector = InspectorFake(scale=local.scale, region=REGION, account=ACCOUNT, scan_minutes=0, ec2_scanning_enabled=False)
    with local:
        instance_id = run_instance()
        time.sleep(0.1)
        criteria = {"resourceId": [{"comparison": "EQUALS", "value": instance_id}]}
        inspector = client("inspector2")

        assert _ec2_status() == "DISABLED"
        assert inspector.list_coverage(filterCriteria=criteria)["coveredResources"] == []
        assert inspector.list_findings(filterCriteria=criteria)["findings"] == []

        inspector.enable(resourceTypes=["EC2"])
        wait_until(lambda: _ec2_status() == "ENABLED")
        coverage = wait_until(lambda: inspector.list_coverage(filterCriteria=criteria)["coveredResources"])
        assert_matches("inspector2", "ListCoverage", {"coveredResources": coverage})
        assert coverage[0]["resourceId"] == instance_id and inspector.list_findings(filterCriteria=criteria)["findings"]
