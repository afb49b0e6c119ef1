"""EC2 calls of the orchestrator: AMI tags and the deployment's leftover test instances."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from lambdas.adapters.aws import client

DEPLOYMENT_TAG_KEY = "AMI_LC_DEPLOYMENT"
EVENT_INSTANCE_TAG_KEY = "AMI_LC_EVENT_INSTANCE"


class AmiTagger:
    def tag(self, ami_id: str, tags: dict[str, str]) -> None:
        client("ec2").create_tags(
            Resources=[ami_id], Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())]
        )


class TestInstances:
    """Instances the workflows launch to test AMIs, found by this deployment's tags only."""

    def live(self, deployment_tag: str) -> Iterator[tuple[str, datetime]]:
        paginator = client("ec2").get_paginator("describe_instances")
        pages = paginator.paginate(
            Filters=[
                {"Name": f"tag:{DEPLOYMENT_TAG_KEY}", "Values": [deployment_tag]},
                {"Name": f"tag:{EVENT_INSTANCE_TAG_KEY}", "Values": ["TRUE"]},
                {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
            ]
        )
        for page in pages:
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    yield instance["InstanceId"], instance["LaunchTime"]

    def terminate(self, instance_ids: list[str]) -> None:
        if instance_ids:
            client("ec2").terminate_instances(InstanceIds=instance_ids)
