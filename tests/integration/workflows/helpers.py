"""Workflow inputs and assertions shared by the workflow tests."""

from __future__ import annotations

from typing import Any

import boto3

from lambdas.domain.contracts import WorkflowError, WorkflowInput, WorkflowResult


def register_ami(name: str = "golden-1", *, encrypted: bool = True) -> str:
    """An AMI like the recipe builds it: root volume encrypted (the local cloud's RegisterImage remembers
    Ebs.Encrypted, which moto alone ignores)."""
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ebs: dict[str, Any] = {"VolumeSize": 8, "VolumeType": "gp3"}
    if encrypted:
        ebs |= {"Encrypted": True, "KmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/local-deployment-key"}
    return ec2.register_image(
        Name=name, RootDeviceName="/dev/xvda", BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": ebs}],
    )["ImageId"]


def workflow_input(event: str, lifecycle_type: str = "ami-creation", *, ami_id: str | None = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "lifecycle_id": "lc-0123456789abcdef",
        "stack_tag": "main",
        "lifecycle_type": lifecycle_type,
        "event": event,
        "attempt": 1,
        "product_name": "My Product Name",
        "product_ver": "1.0.0",
        "commit_ref": "0a1b2c3",
        "semver": "1.0.0",
        **extra,
    }
    if ami_id:
        payload["ami"] = {"ami_id": ami_id, "region": "us-east-1", "name": "golden-1", "semver": "1.0.0"}
    return WorkflowInput.model_validate(payload).model_dump(mode="json", exclude_none=True)


def one_result(messages: list[dict[str, Any]]) -> WorkflowResult:
    assert len(messages) == 1, messages
    return WorkflowResult.model_validate(messages[0])


def one_error(messages: list[dict[str, Any]]) -> WorkflowError:
    assert len(messages) == 1, messages
    return WorkflowError.model_validate(messages[0])
