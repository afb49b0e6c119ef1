"""Play the workflows' part quickly: like tests/support/flow.py, with cheaper AMIs.

`flow.complete_current` builds each AMI by launching an instance from a moto-provided image, and
listing those images costs about a second per build in moto. A registered image serves the
orchestrator just as well (it records and tags the id), in a few milliseconds.
"""

from __future__ import annotations

import itertools
from typing import Any

import boto3

from tests.support.calls import call_api
from tests.support.flow import approve, certify, complete_current, create, in_progress, status

_NUMBERS = itertools.count(1)
BUILDS = ("BUILD_AMI", "PATCH_AMI")


def registered_ami(name: str = "golden") -> str:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    return ec2.register_image(
        Name=f"{name}-{next(_NUMBERS)}", RootDeviceName="/dev/xvda",
        BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]


def build_outputs(ami_id: str) -> dict[str, Any]:
    return {
        "ami": {"ami_id": ami_id, "region": "us-east-1", "name": "golden"},
        "image_builder": {"image_arn": "arn:aws:imagebuilder:us-east-1:123456789012:image/golden/1.0.0/1",
                          "components": ["hardening", "agents"]},
    }


def advance(deployment: Any, lifecycle_id: str, kind: str = "ami-creation", **result: Any) -> str:
    """Send the result of the event in progress (a registered AMI for a build); returns the event name."""
    running = in_progress(status(lifecycle_id, kind))
    if running is not None and running["name"] in BUILDS and "outputs" not in result and result.get(
            "status", "COMPLETED") == "COMPLETED":
        result["outputs"] = build_outputs(registered_ami(running["name"].lower()))
    return complete_current(deployment, lifecycle_id, kind, **result)


def production(deployment: Any, **kwargs: Any) -> str:
    """flow.production_lifecycle with registered AMIs."""
    lifecycle_id = create(deployment, **kwargs)
    for _ in range(4):
        advance(deployment, lifecycle_id)
    certify(lifecycle_id)
    approve(lifecycle_id)
    advance(deployment, lifecycle_id)
    return lifecycle_id


__all__ = ["advance", "build_outputs", "call_api", "production", "registered_ami"]
