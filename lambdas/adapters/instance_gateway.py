"""Short-lived test instances launched from an AMI (smoke tests, vulnerability scans)."""

from __future__ import annotations

from typing import Any

from lambdas.adapters.aws import client

# Cleanup finds instances by this tag, so an instance is reaped even when the step that launched it
# died before recording its id.
EXECUTION_TAG = "AMI_LC_EXECUTION"


def launch(
    *,
    ami_id: str,
    instance_type: str,
    subnet_id: str,
    security_group_id: str,
    instance_profile: str,
    tags: dict[str, str],
    client_token: str,
) -> str:
    tag_list = [{"Key": k, "Value": v[:255]} for k, v in tags.items()]
    response = client("ec2").run_instances(
        ImageId=ami_id,
        InstanceType=instance_type,
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet_id,
        SecurityGroupIds=[security_group_id],
        IamInstanceProfile={"Name": instance_profile},
        # IMDSv2 only: no credential theft through a v1 metadata request.
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
        InstanceInitiatedShutdownBehavior="terminate",
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": tag_list},
            {"ResourceType": "volume", "Tags": tag_list},
        ],
        ClientToken=client_token[:64],
    )
    return response["Instances"][0]["InstanceId"]


def is_ssm_managed(instance_id: str) -> bool:
    response = client("ssm").describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [instance_id]}]
    )
    return any(i.get("PingStatus") == "Online" for i in response.get("InstanceInformationList", []))


def instance_state(instance_id: str) -> str:
    reservations = client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservations[0]["Instances"][0]["State"]["Name"] if reservations else "terminated"


def terminate_by_execution(execution_name: str) -> list[str]:
    """Terminate every live instance a workflow execution launched; returns their ids."""
    ec2 = client("ec2")
    ids: list[str] = []
    paginator = ec2.get_paginator("describe_instances")
    filters: list[dict[str, Any]] = [
        {"Name": f"tag:{EXECUTION_TAG}", "Values": [execution_name]},
        {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
    ]
    for page in paginator.paginate(Filters=filters):
        ids += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)
    return ids
