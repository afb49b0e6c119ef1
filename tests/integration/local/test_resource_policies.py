"""The local endpoint evaluates a queue's resource-based policy with the caller's identity policies, as
AWS does: an explicit Deny in either wins, and within the account an Allow in either suffices. The
deployed receiver queues therefore take messages from the workflows' state machine roles only, and a
role that holds sqs:SendMessage cannot post a forged result (tests/integration/orchestrator/
test_forged_results.py covers one that reaches a receiver anyway)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.cloud import LocalCloud
from stacks import naming
from tests.integration.local.test_iam_enforcement import ACCOUNT, REGION, Role
from tests.support.aws import refused

FORGED = json.dumps({"status": "COMPLETED", "outputs": {"gate_passed": True}})
# Which workflows report to which receiver queue (statemachines/*.asl.json), written out here so that a
# change of the deployed policy shows up as a failing test.
REPORTS_TO = {
    "Creation": {"build", "smoke-tests", "vulnerability-scans", "qa-certification-request", "mark-for-production"},
    "Patch": {"patch", "smoke-tests", "vulnerability-scans", "mark-for-production"},
    "Error": {"build", "smoke-tests", "vulnerability-scans", "qa-certification-request", "mark-for-production",
              "patch"},
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_factor=0.001) as local:
        yield local


def _guarded_queue(cloud: LocalCloud, name: str, policy: dict[str, Any]) -> str:
    url = cloud.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    cloud.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url


def _depth(cloud: LocalCloud, url: str) -> int:
    attributes = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _only_senders(queue: str, *role_arns: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sqs:SendMessage",
        "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": list(role_arns)}}}]}


def test_an_explicit_deny_in_a_queue_policy_overrides_the_callers_own_allow(cloud: LocalCloud) -> None:
    everything = [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]
    sender, forger = Role(cloud, "sender", everything), Role(cloud, "forger", everything)
    url = _guarded_queue(cloud, "guarded", _only_senders("guarded", sender.arn))

    error = refused(lambda: forger.client("sqs").send_message(QueueUrl=url, MessageBody=FORGED))

    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/forger/test is not authorized to perform: sqs:SendMessage on "
        f"resource: arn:aws:sqs:{REGION}:{ACCOUNT}:guarded with an explicit deny in a resource-based policy")
    assert _depth(cloud, url) == 0  # nothing reached the queue
    assert "Messages" not in forger.client("sqs").receive_message(QueueUrl=url)  # only sending is denied
    # The condition names the role; its session (arn:aws:sts::...:assumed-role/sender/test) is admitted.
    sender.client("sqs").send_message(QueueUrl=url, MessageBody="genuine")
    assert _depth(cloud, url) == 1


def test_within_the_account_a_queue_policy_naming_the_caller_grants_what_its_own_policies_do_not(
    cloud: LocalCloud,
) -> None:
    nothing = Role(cloud, "no-sqs", [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}])
    grant = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"arn:aws:sqs:{REGION}:{ACCOUNT}:granted"}
    url = _guarded_queue(cloud, "granted", {"Version": "2012-10-17", "Statement": [
        {**grant, "Principal": {"AWS": nothing.arn}}]})
    nothing.client("sqs").send_message(QueueUrl=url, MessageBody="x")

    # Naming only the account delegates to IAM: the caller's own policies must allow.
    cloud.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(
        {"Version": "2012-10-17", "Statement": [{**grant, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]})})
    error = refused(lambda: nothing.client("sqs").send_message(QueueUrl=url, MessageBody="y"))
    assert "because no identity-based policy allows the sqs:SendMessage action" in error["Message"]
    assert _depth(cloud, url) == 1


@pytest.fixture(scope="module")
def deployed(cloud: LocalCloud, synth) -> dict[str, str]:
    """The app's two templates in the local cloud; receiver queue (Creation, Patch, Error) -> URL."""
    core_name, workflows_name = naming.core_stack_name("main"), naming.workflows_stack_name("main")
    core = cloud.deploy(synth.templates[core_name], synth.outdir, core_name)
    cloud.deploy(synth.templates[workflows_name], synth.outdir, workflows_name)
    template = synth.templates[core_name]["Resources"]
    queues = {lid: r["Ref"] for lid, r in core.items() if template[lid]["Type"] == "AWS::SQS::Queue"}
    return {kind: url for kind in REPORTS_TO for lid, url in queues.items()
            if lid.startswith(f"Messaging{kind}Results")}


def _as_state_machine(cloud: LocalCloud, workflow: str) -> Any:
    """An SQS client signing as the deployed state machine of `workflow` does (its role's session)."""
    sfn = cloud.client("stepfunctions")
    name = naming.state_machine_name("main", workflow)
    (machine,) = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == name]
    role_arn = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["roleArn"]
    issued = cloud.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="StepFunctions")
    return boto3.client("sqs", region_name=REGION, aws_access_key_id=issued["Credentials"]["AccessKeyId"],
                        aws_secret_access_key=issued["Credentials"]["SecretAccessKey"],
                        aws_session_token=issued["Credentials"]["SessionToken"])


def test_a_role_allowed_to_send_anything_cannot_post_to_a_receiver_queue(
    cloud: LocalCloud, deployed: dict[str, str]
) -> None:
    forger = Role(cloud, "insider", [{"Effect": "Allow", "Action": ["sqs:SendMessage", "kms:*"], "Resource": "*"}])

    for kind, url in deployed.items():
        error = refused(lambda url=url: forger.client("sqs").send_message(QueueUrl=url, MessageBody=FORGED))
        assert error["Code"] == "AccessDenied" and "explicit deny in a resource-based policy" in error["Message"], kind

    assert {kind: _depth(cloud, url) for kind, url in deployed.items()} == dict.fromkeys(REPORTS_TO, 0)


@pytest.mark.parametrize("workflow", sorted(REPORTS_TO["Error"]))
def test_each_state_machine_role_reaches_exactly_the_queues_its_workflow_reports_to(
    cloud: LocalCloud, deployed: dict[str, str], workflow: str
) -> None:
    sqs = _as_state_machine(cloud, workflow)
    reached = set()
    for kind, url in deployed.items():
        try:
            sqs.send_message(QueueUrl=url, MessageBody="{}")
            reached.add(kind)
        except sqs.exceptions.ClientError as exc:
            assert "explicit deny in a resource-based policy" in str(exc)
        cloud.drain(url)
    assert reached == {kind for kind, workflows in REPORTS_TO.items() if workflow in workflows}
