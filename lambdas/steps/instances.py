"""Test-instance steps shared by the smoke-test and vulnerability-scan workflows."""

from __future__ import annotations

from typing import Any

from lambdas.adapters import instance_gateway as instances
from lambdas.steps.common import require


def launch(event: dict[str, Any]) -> dict[str, Any]:
    ami_id, tag, lifecycle_id, execution_name = require(
        event, "ami_id", "deployment_tag", "lifecycle_id", "execution_name"
    )
    instance_id = instances.launch(
        ami_id=ami_id,
        instance_type=event["instance_type"],
        subnet_id=event["subnet_id"],
        security_group_id=event["security_group_id"],
        instance_profile=event["instance_profile"],
        tags={
            "Name": f"ami-lc-{tag}-{event.get('purpose', 'test')}-{lifecycle_id}",
            "AMI_LC_DEPLOYMENT": tag,
            "AMI_LC_LIFECYCLE_ID": lifecycle_id,
            "AMI_LC_EVENT_INSTANCE": "TRUE",
            instances.EXECUTION_TAG: execution_name,
        },
        client_token=execution_name,
    )
    return {"instance_id": instance_id}


def terminate(event: dict[str, Any]) -> dict[str, Any]:
    """Cleanup on every path: everything this execution launched, whatever state was recorded."""
    (execution_name,) = require(event, "execution_name")
    return {"terminated": instances.terminate_by_execution(execution_name)}
