"""The fakes emit the EventBridge events AWS emits, with AWS's shapes (source, detail-type, detail
fields), when AWS emits them; store and export tasks report a progress figure instead (AWS emits
nothing for them). Driven through ordinary boto3 clients inside a LocalCloud; the AWS page of each
shape is cited in docs/LOCAL_CLOUD.md."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from local.cloud import LocalCloud
from tests.integration.workflows.helpers import register_ami

REGION, ACCOUNT = "us-east-1", "123456789012"
ENVELOPE = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, account=ACCOUNT, time_factor=0.001) as local:
        for bucket in ("staging", "exports"):
            client("s3").create_bucket(Bucket=bucket)
        client("iam").create_role(RoleName="vmimport", AssumeRolePolicyDocument="{}")
        yield local


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def emitted(cloud: LocalCloud, detail_type: str, where: Callable[[dict[str, Any]], bool] = lambda d: True,
            timeout: float = 5) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := emitted_now(cloud, detail_type, where):
            assert all(set(e) == ENVELOPE and e["account"] == ACCOUNT and e["region"] == REGION for e in found)
            return found
        time.sleep(0.01)
    raise AssertionError(f"no {detail_type} event")


def emitted_now(cloud: LocalCloud, detail_type: str, where: Callable[[dict[str, Any]], bool] = lambda d: True) -> list[Any]:
    return [e for e in cloud.router.emitted if e["detail-type"] == detail_type and where(e["detail"])]


def test_instances_announce_pending_running_shutting_down_and_terminated(cloud: LocalCloud) -> None:
    instance_id = client("ec2").run_instances(ImageId=register_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    client("ec2").terminate_instances(InstanceIds=[instance_id])

    events = emitted(cloud, "EC2 Instance State-change Notification", lambda d: d["instance-id"] == instance_id)

    assert [e["detail"] for e in events] == [{"instance-id": instance_id, "state": s}
                                             for s in ("pending", "running", "shutting-down", "terminated")]
    assert {e["source"] for e in events} == {"aws.ec2"}
    assert events[0]["resources"] == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"]


def _store_and_restore(cloud: LocalCloud) -> str:
    ami_id = register_ami(encrypted=False)
    client("ec2").create_store_image_task(ImageId=ami_id, Bucket="staging")
    while client("ec2").describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"][0]["StoreTaskState"] != "Completed":
        time.sleep(0.01)
    return client("ec2").create_restore_image_task(Bucket="staging", ObjectKey=f"{ami_id}.bin", Name="copy")["ImageId"]


def test_a_registered_ami_is_available_at_once_and_a_restored_one_when_its_restore_ends(cloud: LocalCloud) -> None:
    registered = register_ami()
    (event,) = emitted(cloud, "EC2 AMI State Change", lambda d: d["ImageId"] == registered)
    assert event["source"] == "aws.ec2" and event["resources"] == [f"arn:aws:ec2:{REGION}::image/{registered}"]
    assert set(event["detail"]) == {"RequestId", "ImageId", "State", "ErrorMessage"} and event["detail"]["State"] == "available"

    restored = _store_and_restore(cloud)
    assert client("ec2").describe_images(ImageIds=[restored])["Images"][0]["State"] == "pending"
    assert not emitted_now(cloud, "EC2 AMI State Change", lambda d: d["ImageId"] == restored)  # nothing while pending
    (done,) = emitted(cloud, "EC2 AMI State Change", lambda d: d["ImageId"] == restored)
    assert (done["detail"]["State"], done["detail"]["ErrorMessage"]) == ("available", "")


def test_a_failed_restore_announces_failed_with_its_error_message(cloud: LocalCloud) -> None:
    cloud.ec2_images.fail_next_restore("Server.InternalError: injected")

    restored = _store_and_restore(cloud)

    (event,) = emitted(cloud, "EC2 AMI State Change", lambda d: d["ImageId"] == restored)
    assert (event["detail"]["State"], event["detail"]["ErrorMessage"]) == ("failed", "Server.InternalError: injected")


def test_a_command_invocation_announces_in_progress_then_its_final_status(cloud: LocalCloud) -> None:
    instance_id = client("ec2").run_instances(ImageId=register_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    time.sleep(cloud.scale.seconds(cloud.ssm.registration_minutes * 60) + 0.05)
    command_id = client("ssm").send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
                                            Parameters={"commands": ["true"]})["Command"]["CommandId"]

    events = emitted(cloud, "EC2 Command Invocation Status-change Notification",
                     lambda d: d["command-id"] == command_id and d["status"] == "Success")
    statuses = [e["detail"]["status"] for e in cloud.router.emitted
                if e["detail-type"].startswith("EC2 Command") and e["detail"]["command-id"] == command_id]

    assert statuses == ["InProgress", "Success"]
    detail = events[0]["detail"]
    assert set(detail) == {"command-id", "document-name", "instance-id", "requested-date-time", "status"}
    assert (detail["instance-id"], detail["document-name"], events[0]["source"]) == (instance_id, "AWS-RunShellScript", "aws.ssm")
    assert events[0]["resources"] == [f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"]


def test_inspector_announces_the_initial_scan_with_its_counts_and_an_unscannable_instance(cloud: LocalCloud) -> None:
    cloud.inspector.next_scan_reports({"CRITICAL": 1, "HIGH": 2})
    scanned = client("ec2").run_instances(ImageId=register_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    cloud.inspector.fail_next_scan("UNSUPPORTED_OS")
    unsupported = client("ec2").run_instances(ImageId=register_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]

    (scan,) = emitted(cloud, "Inspector2 Scan", lambda d: d["instance-id"] == scanned)
    assert scan["source"] == "aws.inspector2" and scan["resources"] == [scanned]  # an instance id, not an ARN
    assert scan["detail"] == {"scan-status": "INITIAL_SCAN_COMPLETE", "instance-id": scanned, "version": "1.0",
                              "finding-severity-counts": {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 0, "TOTAL": 3}}
    (coverage,) = emitted(cloud, "Inspector2 Coverage")
    assert coverage["resources"] == [unsupported]
    assert coverage["detail"]["scanStatus"] == {"reason": "UNSUPPORTED_OS", "statusCodeValue": "INACTIVE"}
    assert not emitted_now(cloud, "Inspector2 Scan", lambda d: d["instance-id"] == unsupported)  # never scanned


def test_a_terminated_instance_is_never_scanned(cloud: LocalCloud) -> None:
    instance_id = client("ec2").run_instances(ImageId=register_ami(), MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    client("ec2").terminate_instances(InstanceIds=[instance_id])

    time.sleep(cloud.scale.seconds(cloud.inspector.scan_minutes * 60) + 0.1)

    assert not emitted_now(cloud, "Inspector2 Scan")


def test_store_and_export_tasks_report_progress_that_grows_with_their_duration(cloud: LocalCloud) -> None:
    ami_id = register_ami(encrypted=False)
    ec2 = client("ec2")
    ec2.create_store_image_task(ImageId=ami_id, Bucket="staging")
    task_id = ec2.export_image(ImageId=ami_id, DiskImageFormat="VMDK",
                               S3ExportLocation={"S3Bucket": "exports", "S3Prefix": "x/"})["ExportImageTaskId"]

    def progress() -> tuple[int, int]:
        store = ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"][0]["ProgressPercentage"]
        export = ec2.describe_export_image_tasks(ExportImageTaskIds=[task_id])["ExportImageTasks"][0]["Progress"]
        return store, int(export)

    first = progress()
    time.sleep(cloud.scale.seconds(5 * 60))
    later = progress()

    assert all(0 <= a < b < 100 for a, b in zip(first, later, strict=False)), (first, later)
    assert not [e for e in cloud.router.emitted if "Store" in e["detail-type"] or "Export" in e["detail-type"]]
