"""The EC2 image fakes behind the QA export refuse what AWS refuses: VM export of encrypted, foreign or
malformed requests, tagging a deregistered AMI, restoring under a name already in use; the store /
restore round trip yields an unencrypted copy unless EBS encryption by default is on.

Driven through ordinary boto3 clients inside a LocalCloud (moto in decorator mode, the fakes installed),
as the step handlers drive them. AWS sources: docs/LOCAL_CLOUD.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from local.cloud import LocalCloud
from tests.integration.workflows.helpers import register_ami
from tests.support.aws import refused

REGION = "us-east-1"
FACTOR = 0.0005  # 1 simulated minute = 30 ms


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(region=REGION, time_factor=FACTOR) as local:
        client("iam").create_role(RoleName="vmimport", AssumeRolePolicyDocument="{}")
        for bucket in ("exports", "staging"):
            client("s3").create_bucket(Bucket=bucket)
        yield local


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def export(ami_id: str, **overrides: Any) -> dict[str, Any]:
    args = {"ImageId": ami_id, "DiskImageFormat": "VMDK", "S3ExportLocation": {"S3Bucket": "exports", "S3Prefix": "x/"}}
    return client("ec2").export_image(**{**args, **overrides})


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done(value := read()):
            return value
        time.sleep(0.02)
    raise AssertionError(f"not done in time: {value}")


def store_and_restore(ami_id: str, name: str | None = "copy-1") -> str:
    ec2 = client("ec2")
    assert ec2.create_store_image_task(ImageId=ami_id, Bucket="staging")["ObjectKey"] == f"{ami_id}.bin"
    wait_for(lambda: ec2.describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"][0]["StoreTaskState"],
             lambda state: state == "Completed")
    return ec2.create_restore_image_task(Bucket="staging", ObjectKey=f"{ami_id}.bin", **({"Name": name} if name else {}))["ImageId"]


def image(ami_id: str) -> dict[str, Any]:
    return client("ec2").describe_images(ImageIds=[ami_id])["Images"][0]


def test_export_of_an_image_with_an_encrypted_snapshot_is_refused_naming_the_encryption(cloud: LocalCloud) -> None:
    ami_id = register_ami()
    (mapping,) = image(ami_id)["BlockDeviceMappings"]
    assert mapping["Ebs"]["Encrypted"] is True

    error = refused(lambda: export(ami_id))

    assert error["Code"] == "NotExportable"
    assert "encrypted EBS snapshots" in error["Message"] and mapping["Ebs"]["SnapshotId"] in error["Message"]


def test_export_refuses_a_bad_format_an_unknown_role_and_a_missing_or_sse_kms_bucket(cloud: LocalCloud) -> None:
    ami_id = register_ami(encrypted=False)

    assert refused(lambda: export(ami_id, DiskImageFormat="OVA"))["Code"] == "InvalidParameterValue"
    error = refused(lambda: export(ami_id, RoleName="no-such-role"))
    assert error["Code"] == "InvalidParameter" and "service role no-such-role does not exist" in error["Message"]
    client("iam").delete_role(RoleName="vmimport")
    assert "vmimport" in refused(lambda: export(ami_id))["Message"]  # the default role must exist
    client("iam").create_role(RoleName="vmimport", AssumeRolePolicyDocument="{}")
    missing = {"S3Bucket": "no-such-bucket", "S3Prefix": "x/"}
    assert "does not exist" in refused(lambda: export(ami_id, S3ExportLocation=missing))["Message"]
    client("s3").put_bucket_encryption(Bucket="exports", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert "SSE-KMS" in refused(lambda: export(ami_id))["Message"]


def test_export_refuses_an_image_of_another_account(cloud: LocalCloud) -> None:
    foreign = next(i for i in client("ec2").describe_images(Owners=["amazon"])["Images"] if i.get("Platform") != "windows")

    error = refused(lambda: export(foreign["ImageId"]))

    assert error["Code"] == "NotExportable" and "owned by account" in error["Message"]


def test_export_of_an_unencrypted_image_completes_and_writes_the_disk_image(cloud: LocalCloud) -> None:
    ami_id = register_ami(encrypted=False)
    task_id = export(ami_id, ClientToken="t-1")["ExportImageTaskId"]
    assert export(ami_id, ClientToken="t-1")["ExportImageTaskId"] == task_id  # idempotent on the token

    task = wait_for(lambda: client("ec2").describe_export_image_tasks(ExportImageTaskIds=[task_id])["ExportImageTasks"][0],
                    lambda t: t["Status"] != "active")

    assert task["Status"] == "completed"
    assert client("s3").get_object(Bucket="exports", Key=f"x/{task_id}.vmdk")["Body"].read()


def test_store_and_restore_give_an_unencrypted_pending_then_available_copy(cloud: LocalCloud) -> None:
    released = register_ami()
    cloud.ec2_images.restore_minutes = 120  # long enough to see it pending

    copy = store_and_restore(released, name="copy-1")

    assert image(copy)["State"] == "pending"
    restored = wait_for(lambda: image(copy), lambda i: i["State"] != "pending")
    assert restored["State"] == "available" and restored["Name"] == "copy-1"
    assert [m["Ebs"]["Encrypted"] for m in restored["BlockDeviceMappings"]] == [False]
    assert image(released)["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True  # the source is untouched
    assert export(copy)["Status"] == "active"  # VM export accepts the copy


def test_restore_refuses_a_name_already_used_and_a_missing_object(cloud: LocalCloud) -> None:
    released = register_ami("golden-unique-name")

    error = refused(lambda: store_and_restore(released, name=None))  # no name: the original's, which exists

    assert error["Code"] == "InvalidAMIName.Duplicate" and "golden-unique-name" in error["Message"]
    missing = refused(lambda: client("ec2").create_restore_image_task(Bucket="staging", ObjectKey="ami-0.bin", Name="name-n"))
    assert missing["Code"] == "InvalidParameterValue"


def test_restore_with_encryption_by_default_on_gives_an_encrypted_copy_that_export_refuses(cloud: LocalCloud) -> None:
    client("ec2").enable_ebs_encryption_by_default()
    copy = store_and_restore(register_ami(), name="copy-encrypted")
    wait_for(lambda: image(copy)["State"], lambda state: state == "available")

    assert image(copy)["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert refused(lambda: export(copy))["Code"] == "NotExportable"


def test_injected_restore_failure_leaves_the_ami_failed_and_its_snapshots_in_error(cloud: LocalCloud) -> None:
    cloud.ec2_images.fail_next_restore("Server.InternalError: injected")
    copy = store_and_restore(register_ami(), name="copy-failed")

    failed = wait_for(lambda: image(copy), lambda i: i["State"] != "pending")

    assert failed["State"] == "failed" and failed["StateReason"]["Message"] == "Server.InternalError: injected"
    snapshot_id = failed["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    assert client("ec2").describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]["State"] == "error"


def test_create_tags_on_a_deregistered_ami_fails(cloud: LocalCloud) -> None:
    ec2 = client("ec2")
    ami_id = register_ami()
    ec2.create_tags(Resources=[ami_id], Tags=[{"Key": "k", "Value": "v"}])
    ec2.deregister_image(ImageId=ami_id)

    error = refused(lambda: ec2.create_tags(Resources=[ami_id], Tags=[{"Key": "k", "Value": "v"}]))

    assert error["Code"] == "InvalidAMIID.NotFound"
    assert refused(lambda: ec2.create_tags(Resources=["snap-0123456789abcdef0"], Tags=[{"Key": "k", "Value": "v"}]))["Code"] \
        == "InvalidSnapshot.NotFound"


def test_store_task_reports_an_injected_failure_with_aws_vocabulary(cloud: LocalCloud) -> None:
    cloud.ec2_images.fail_next_store("InternalError: injected")
    ami_id = register_ami()
    client("ec2").create_store_image_task(ImageId=ami_id, Bucket="staging")

    result = wait_for(lambda: client("ec2").describe_store_image_tasks(ImageIds=[ami_id])["StoreImageTaskResults"][0],
                      lambda r: r["StoreTaskState"] != "InProgress")

    assert result["StoreTaskState"] == "Failed" and result["StoreTaskFailureReason"] == "InternalError: injected"
    assert "Contents" not in client("s3").list_objects_v2(Bucket="staging")
