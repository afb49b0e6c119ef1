"""Test-instance steps shared by the smoke-test and vulnerability-scan workflows."""

from __future__ import annotations

from typing import Any

from lambdas.adapters import instance_gateway as instances
from lambdas.steps.common import NonEmptyStr, StepInput


class LaunchInput(StepInput):
    ami_id: NonEmptyStr
    deployment_tag: NonEmptyStr
    execution_name: NonEmptyStr  # tags the instance, so cleanup finds it whatever state was recorded
    instance_type: NonEmptyStr
    subnet_id: NonEmptyStr
    security_group_id: NonEmptyStr
    instance_profile: NonEmptyStr
    purpose: NonEmptyStr  # in the instance's Name: smoke, scan


class TerminateInput(StepInput):
    execution_name: NonEmptyStr


def launch(event: LaunchInput) -> dict[str, Any]:
    tag, lifecycle_id, execution_name = event.deployment_tag, event.lifecycle_id, event.execution_name
    instance_id = instances.launch(
        ami_id=event.ami_id,
        instance_type=event.instance_type,
        subnet_id=event.subnet_id,
        security_group_id=event.security_group_id,
        instance_profile=event.instance_profile,
        tags={
            "Name": f"ami-lc-{tag}-{event.purpose}-{lifecycle_id}",
            "AMI_LC_DEPLOYMENT": tag,
            "AMI_LC_LIFECYCLE_ID": lifecycle_id,
            "AMI_LC_EVENT_INSTANCE": "TRUE",
            instances.EXECUTION_TAG: execution_name,
        },
        client_token=execution_name,
    )
    return {"instance_id": instance_id}


def terminate(event: TerminateInput) -> dict[str, Any]:
    """Cleanup on every path: everything this execution launched, whatever state was recorded."""
    return {"terminated": instances.terminate_by_execution(event.execution_name)}
