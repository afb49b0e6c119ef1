"""Idempotency-Key on the create routes, and side effects after the commit that must not turn a
success into an error (a client that saw an error would retry and burn a MAJOR version)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas.adapters.notifier import Notifier
from tests.integration.api.flow import send
from tests.support.aws import aws, drain_notifications, executions
from tests.support.calls import ApiResponse, call_api
from tests.support.flow import CREATION, PATCH, Flow, assert_unchanged, create_body, snapshot


def create(key: str | None, **fields: Any) -> ApiResponse:
    return send("POST", CREATION, json.dumps(create_body(**fields)), headers={"Idempotency-Key": key} if key else None)


def seed(deployment) -> str:
    item = aws("dynamodb").get_item(TableName=deployment.environ["SEMVER_SEED_TABLE"],
                                    Key={"seed_id": {"S": "main#My Product Name"}})["Item"]
    return item["major"]["N"]


def lifecycles(deployment) -> list[str]:
    items = aws("dynamodb").scan(TableName=deployment.lifecycle_table)["Items"]
    return sorted(item["pk"]["S"] for item in items if item["pk"]["S"].startswith("LC#"))


def test_a_retry_with_the_same_key_and_body_answers_the_first_result(deployment):
    first = create("retry-1")
    assert first.status == 201, first.text
    before = snapshot(deployment)

    again = create("retry-1")

    assert (again.status, again.json()) == (201, first.json())
    assert_unchanged(deployment, before)  # no second lifecycle, version, execution or notification
    assert seed(deployment) == "1" and len(executions(deployment, "build")) == 1
    # Whitespace the model strips does not make it another request.
    assert create("retry-1", owner="  ownername ").json() == first.json()


def test_the_same_key_with_another_body_is_a_422_and_changes_nothing(deployment):
    assert create("k-1").status == 201
    before = snapshot(deployment)
    response = create("k-1", owner="someone else")
    assert (response.status, response.json()) == (422, {
        "error": "UnprocessableEntity",
        "message": "Idempotency-Key 'k-1' was already used with a different request body; use a new key for a "
                   "new request"})
    assert_unchanged(deployment, before)


def test_keys_are_per_stack_tag_and_route_and_expire(deployment, monkeypatch):
    first = create("shared").json()
    other_tag = create("shared", stack_tag="release").json()
    assert other_tag["lifecycle_id"] != first["lifecycle_id"]
    assert create(None).json()["semver"] == "2.0.0"  # no key: always a new lifecycle

    from lambdas.adapters import lifecycle_repository

    monkeypatch.setattr(lifecycle_repository, "IDEMPOTENCY_SECONDS", -1)
    expiring = create("short-lived").json()
    again = create("short-lived").json()  # its claim has expired: a new request, and it may claim the key again
    assert again["lifecycle_id"] != expiring["lifecycle_id"]
    assert [again["semver"], expiring["semver"]] == ["4.0.0", "3.0.0"]


def test_concurrent_retries_with_one_key_create_one_lifecycle(deployment, monkeypatch):
    from lambdas.adapters.semver_seed import SemverSeed

    # Both requests pass the replay check before either commits: the conditional claim decides.
    barrier = threading.Barrier(2, timeout=10)
    original = SemverSeed.next_major

    def gated(self, *args):
        barrier.wait()
        return original(self, *args)

    monkeypatch.setattr(SemverSeed, "next_major", gated)
    from lambdas.core.settings import get_settings
    from lambdas.domain.requests import CreateLifecycleRequest
    from lambdas.orchestrator.factory import build_orchestrator

    request = CreateLifecycleRequest.model_validate(create_body())
    results: list[Any] = [None, None]

    def run(index: int) -> None:
        results[index] = build_orchestrator(get_settings()).create_lifecycle(request, "race")[0].lifecycle_id

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results[0] == results[1] is not None
    assert len(lifecycles(deployment)) == 1 and len(executions(deployment, "build")) == 1
    assert seed(deployment) == "2"  # the loser's version was allocated before its commit was refused


def test_a_patch_retry_with_the_same_key_answers_the_same_run(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    body = json.dumps(flow.patch_body(lifecycle_id))
    first = send("POST", PATCH, body, headers={"Idempotency-Key": "patch-1"})
    assert first.status == 201, first.text
    before = snapshot(deployment)
    # Without the key this would be a 409 (patch run 1 is running); with it, the first answer again.
    again = send("POST", PATCH, body, headers={"Idempotency-Key": "patch-1"})
    assert (again.status, again.json()) == (201, first.json())
    assert first.json()["patch_number"] == 1
    assert_unchanged(deployment, before)


# ----- side effects after the commit --------------------------------------------------------------------

def _sns_down(*_: Any, **__: Any) -> None:
    raise ClientError({"Error": {"Code": "InternalError", "Message": "SNS is down"}}, "Publish")


def test_a_failed_notification_after_the_commit_is_logged_and_counted_not_a_5xx(deployment, monkeypatch, capsys,
                                                                                caplog):
    monkeypatch.setattr(Notifier, "publish", _sns_down)
    response = create("after-commit", notifications=[{"method": "EMAIL", "target": "u@d.com", "in_progress": True}])
    assert response.status == 201, response.text
    lifecycle_id = response.json()["lifecycle_id"]
    assert Flow(deployment).event(lifecycle_id, "BUILD_AMI")["status"] == "IN_PROGRESS"
    assert len(executions(deployment, "build")) == 1
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == ["notification failed"]
    assert '"NotificationFailed":[1.0]' in capsys.readouterr().out
    # The client's retry (same key) answers the same lifecycle: one MAJOR version, not two.
    assert create("after-commit", notifications=[{"method": "EMAIL", "target": "u@d.com",
                                                  "in_progress": True}]).json() == response.json()
    assert seed(deployment) == "1"


def test_a_verdict_is_recorded_even_when_its_notification_fails(deployment, monkeypatch):
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    monkeypatch.setattr(Notifier, "publish", _sns_down)
    response = call_api("POST", f"{CREATION}/{lifecycle_id}/certify", role="qa", body={
        "lifecycle_id": lifecycle_id, "stack_tag": "main", "certification_status": "CERTIFIED"})
    assert response.status == 200, response.text
    assert flow.event(lifecycle_id, "QA_CERTIFICATION_RESPONSE")["status"] == "COMPLETED"


@pytest.fixture
def sns_refuses_other_attributes(monkeypatch):
    """SNS refuses a Subscribe of an endpoint that is already subscribed with other attributes (moto
    returns the existing subscription and overwrites its attributes)."""
    from moto.sns.exceptions import SNSInvalidParameter
    from moto.sns.models import SNSBackend

    original = SNSBackend.subscribe

    def subscribe(self, topic_arn, endpoint, protocol):
        if self._find_subscription(topic_arn, endpoint, protocol):
            raise SNSInvalidParameter(
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
        return original(self, topic_arn, endpoint, protocol)

    monkeypatch.setattr(SNSBackend, "subscribe", subscribe)


def test_a_target_already_subscribed_with_other_attributes_keeps_its_subscription(
        deployment, sns_refuses_other_attributes, capsys):
    # Like the stack's static operator subscription: the same email, another filter.
    sns = aws("sns")
    static = sns.subscribe(TopicArn=deployment.topic_arn, Protocol="email", Endpoint="ops@example.com",
                           Attributes={"FilterPolicy": json.dumps({"severity": ["WARNING", "ERROR"]})},
                           ReturnSubscriptionArn=True)["SubscriptionArn"]
    drain_notifications(deployment)

    response = create(None, notifications=[{"method": "EMAIL", "target": "ops@example.com"}])

    assert response.status == 201, response.text
    attributes = sns.get_subscription_attributes(SubscriptionArn=static)["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"severity": ["WARNING", "ERROR"]}
    assert '"SubscriptionConflict":[1.0]' in capsys.readouterr().out
