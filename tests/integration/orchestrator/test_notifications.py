"""Notification targets: one subscription per endpoint, filters that never grow, routing by target."""

import json
from collections import Counter

import boto3

from lambdas.adapters.notifier import Notifier
from lambdas.domain.models import NotificationMethod, NotificationTarget
from lambdas.domain.notifications import event_notification
from tests.support.aws import drain_notifications
from tests.support.calls import call_api
from tests.support.flow import Flow, complete_current, create_body, status


def _subscriptions(topic_arn):
    sns = boto3.client("sns")
    found = {}
    for sub in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
        if sub["Protocol"] in ("email", "https"):
            attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
            found[(sub["Protocol"], sub["Endpoint"])] = attributes.get("FilterPolicy")
    return found


def test_email_and_https_targets_subscribe_once_with_a_constant_filter(deployment):
    targets = [{"method": "EMAIL", "target": "ops@example.com"},
               {"method": "HTTPS", "target": "https://hooks.example.com/ami", "in_progress": True}]
    for _ in range(3):
        body = create_body() | {"notifications": targets}
        assert call_api("POST", "/ami-creation/lifecycles", body=body).status == 201

    subscriptions = _subscriptions(deployment.topic_arn)
    assert set(subscriptions) == {("email", "ops@example.com"), ("https", "https://hooks.example.com/ami")}
    for (protocol, endpoint), policy in subscriptions.items():
        method = NotificationMethod.EMAIL if protocol == "email" else NotificationMethod.HTTPS
        # Three lifecycles later the filter still holds one value: the endpoint's own id.
        assert json.loads(policy) == {"recipients": [NotificationTarget(method=method, target=endpoint).target_id]}
    # The HTTPS endpoint asked for starts too: it received the builds' IN_PROGRESS messages.
    https = deployment.extra["https_deliveries"]
    assert https and all(delivery["url"] == "https://hooks.example.com/ami" for delivery in https)
    assert "BUILD_AMI is IN_PROGRESS" in https[0]["body"]["Message"]


def test_messages_reach_only_the_targets_of_their_lifecycle(deployment):
    sns, sqs = boto3.client("sns"), boto3.client("sqs")
    alice = NotificationTarget(method="EMAIL", target="alice@example.com")
    bob = NotificationTarget(method="EMAIL", target="bob@example.com")
    inboxes = {}
    for target in (alice, bob):
        url = sqs.create_queue(QueueName=target.target.split("@")[0])["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # The same filter the notifier gives an email endpoint, on a queue we can read.
        sns.subscribe(TopicArn=deployment.topic_arn, Protocol="sqs", Endpoint=arn,
                      Attributes={"FilterPolicy": json.dumps({"recipients": [target.target_id]})})
        inboxes[target.target] = url
    created = call_api("POST", "/ami-creation/lifecycles",
                       body=create_body() | {"notifications": [{"method": "EMAIL", "target": "alice@example.com"}]})
    lifecycle_id = created.json()["lifecycle_id"]
    complete_current(deployment, lifecycle_id)  # BUILD_AMI COMPLETED: an outcome, for every target

    def received(address):
        messages = sqs.receive_message(QueueUrl=inboxes[address], MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"])["Message"] for message in messages]

    alice_got = received("alice@example.com")
    assert alice_got and lifecycle_id in alice_got[0]
    assert (f"  python3 cli/api-cli.py --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --stackTag main --lifecycleId "
            f"{lifecycle_id}") in alice_got[0].splitlines()
    assert received("bob@example.com") == []


def test_every_message_carries_the_routing_attributes(deployment):
    lifecycle_id = call_api("POST", "/ami-creation/lifecycles", body=create_body()).json()["lifecycle_id"]
    assert drain_notifications(deployment) == []  # a start is not announced by default
    complete_current(deployment, lifecycle_id, status="FAILED", reason="recipe step 3 failed")
    [note] = drain_notifications(deployment)
    attributes = {name: value["Value"] for name, value in note["MessageAttributes"].items()}
    assert set(attributes) == {"lifecycle_id", "stack_tag", "event", "status", "severity", "audience", "recipients"}
    assert (attributes["event"], attributes["status"], attributes["severity"]) == ("BUILD_AMI", "FAILED", "WARNING")
    assert attributes["lifecycle_id"] in note["Message"]


def test_a_creation_lifecycle_notifies_each_target_once_per_event_outcome(deployment):
    watcher = {"method": "EMAIL", "target": "watcher@example.com", "in_progress": True}
    lifecycle_id = Flow(deployment).in_production(
        notifications=[{"method": "EMAIL", "target": "ops@example.com"}, watcher])
    notes = [note for note in drain_notifications(deployment)
             if note["MessageAttributes"]["lifecycle_id"]["Value"] == lifecycle_id]
    sent: Counter[tuple[str, str, str]] = Counter()
    for note in notes:
        attributes = {name: value["Value"] for name, value in note["MessageAttributes"].items()}
        for recipient in json.loads(attributes.get("recipients", "[]")):
            sent[(recipient, attributes["event"], attributes["status"])] += 1
    assert max(sent.values()) == 1
    ops = NotificationTarget(method="EMAIL", target="ops@example.com").target_id
    assert sorted(event for recipient, event, status in sent if recipient == ops) == sorted(
        ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST",
         "QA_CERTIFICATION_RESPONSE", "MARK_FOR_PRODUCTION_CREATE"])  # six outcomes, no start
    starts = [event for recipient, event, status in sent if status == "IN_PROGRESS"]
    assert sorted(starts) == sorted(["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                                     "QA_CERTIFICATION_REQUEST", "MARK_FOR_PRODUCTION_CREATE"])  # the watcher's


def test_notifier_publishes_without_recipients_for_targetless_messages(deployment):
    lifecycle = call_api("POST", "/ami-creation/lifecycles", body=create_body()).json()["lifecycle_id"]
    drain_notifications(deployment)
    from lambdas.adapters.lifecycle_repository import LifecycleRepository
    from lambdas.domain.events import EventName, EventStatus

    record = LifecycleRepository(deployment.lifecycle_table).get(lifecycle)
    record.notifications = []
    Notifier(deployment.topic_arn).publish(event_notification(record, EventName.BUILD_AMI, EventStatus.IN_PROGRESS))
    [note] = drain_notifications(deployment)
    assert "recipients" not in note["MessageAttributes"]
    assert status(lifecycle)["lifecycle_id"] == lifecycle
