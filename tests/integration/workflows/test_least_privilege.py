"""Each function and state machine runs with its own role, and the local endpoint enforces it: take
one permission away from one role and the lifecycle fails there, with the AccessDenied recorded as
the event's reason (what a missing grant would do in a customer's account)."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.workflows.conftest import Deployment
from tests.integration.workflows.test_full_lifecycle import CREATE, Orchestrator, _settled, _statuses


def _remove_action(deployment: Deployment, handler: str, action: str) -> tuple[str, str, dict[str, Any]]:
    """Drop `action` from every statement of the role of the function with this handler."""
    cloud = deployment.cloud
    functions = cloud.client("lambda").list_functions()["Functions"]
    role = next(f["Role"] for f in functions if f["Handler"] == handler).rsplit("/", 1)[1]
    iam = cloud.client("iam")
    (name,) = [n for n in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    original = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    document = json.loads(json.dumps(original))
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        statement["Action"] = [a for a in actions if a != action] or ["none:Nothing"]
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
    return role, name, original


def test_a_missing_permission_fails_the_event_with_access_denied_as_its_reason(deployment: Deployment) -> None:
    orchestrator = Orchestrator(deployment)
    role, name, original = _remove_action(deployment, "lambdas.steps.smoke_tests.handler.lambda_handler", "ec2:RunInstances")
    try:
        code, created = orchestrator.api("POST", "/ami-creation/lifecycles", body={
            **CREATE, "events": [{"name": n, "enabled": True} for n in ("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE")]})
        assert code == 201, created

        record = orchestrator.pump_until(created["lifecycle_id"], _settled("SMOKE_TESTS_AMI_CREATE"))
    finally:
        deployment.cloud.client("iam").put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(original))

    assert _statuses(record)["BUILD_AMI"] == "COMPLETED"
    smoke = next(e for e in record["events"] if e["name"] == "SMOKE_TESTS_AMI_CREATE")
    assert smoke["status"] == "ERROR"
    assert "UnauthorizedOperation" in smoke["reason"] and "ec2:RunInstances" in smoke["reason"], smoke["reason"]
    assert deployment.cloud.live_instances() == []  # nothing was launched
    denial = deployment.cloud.endpoint.denials[-1]
    assert (denial.action, denial.principal.split("/")[1]) == ("ec2:RunInstances", role)
