"""Receiver queues (each with its dead-letter queue), the notification topic and the alarm topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lambdas.domain.events import CREATION_SEQUENCE, PATCH_SEQUENCE, WORKFLOW_OF_EVENT

# A message is retried this often before it is parked in the dead-letter queue.
MAX_RECEIVE_COUNT = 5


class Messaging(Construct):
    """The creation, patch and error receiver queues, the notification topic and the alarm topic.

    A receiver queue takes messages only from the state machine roles of the workflows that report to
    it (`senders`: workflow -> role ARN, fixed names from stacks/naming.py). Within one account an
    identity policy alone would let any principal holding sqs:SendMessage post a forged result, so
    the queue policy denies SendMessage to every other principal, explicitly: an explicit Deny in a
    resource-based policy overrides any Allow (IAM User Guide, "Policy evaluation logic",
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html). It
    matches on aws:PrincipalArn, which for a role session is the role's ARN (IAM User Guide, "AWS
    global condition context keys", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn),
    with ArnNotEquals rather than NotPrincipal, as AWS recommends. Only SendMessage is denied:
    consumers, and administrators fixing a queue's policy, are unaffected. A DLQ redrive back into a
    receiver queue is denied too (it needs sqs:SendMessage on the destination): a lost outcome is
    settled by the reconciler and a retry of the event, never by replaying a message.

    Alarms go to a topic of their own: the notification topic's operator subscriptions filter on a
    `severity` attribute that CloudWatch's alarm messages do not carry.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        visibility_timeout: Duration,
        display_name: str,
        operator_emails: Sequence[str],
        qa_emails: Sequence[str],
        senders: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.creation_queue = self._queue("Creation", key, visibility_timeout)
        self.patch_queue = self._queue("Patch", key, visibility_timeout)
        self.error_queue = self._queue("Error", key, visibility_timeout)
        queues = {"creation": self.creation_queue, "patch": self.patch_queue, "error": self.error_queue}
        self.dead_letter_queues = {name: queue.dead_letter_queue.queue for name, queue in queues.items()
                                   if queue.dead_letter_queue}
        # Who reports where: a creation (patch) event's workflow to its receiver, every workflow to errors.
        reporting_events = {"creation": CREATION_SEQUENCE, "patch": PATCH_SEQUENCE, "error": tuple(WORKFLOW_OF_EVENT)}
        for name, events in reporting_events.items():
            reporting = sorted({WORKFLOW_OF_EVENT[event] for event in events if event in WORKFLOW_OF_EVENT})
            _accept_only_from(queues[name], [senders[workflow] for workflow in reporting])

        self.notification_topic = sns.Topic(
            self, "Notifications", display_name=display_name, master_key=key, enforce_ssl=True
        )
        # Static subscriptions; per-lifecycle targets subscribe at run time with a "recipients" filter.
        for email in operator_emails:
            self.notification_topic.add_subscription(
                subscriptions.EmailSubscription(
                    email,
                    filter_policy={"severity": sns.SubscriptionFilter.string_filter(allowlist=["WARNING", "ERROR"])},
                )
            )
        for email in qa_emails:
            self.notification_topic.add_subscription(
                subscriptions.EmailSubscription(
                    email, filter_policy={"audience": sns.SubscriptionFilter.string_filter(allowlist=["qa"])}
                )
            )
        self.alarm_topic = sns.Topic(
            self, "Alarms", display_name=f"{display_name} alarms", master_key=key, enforce_ssl=True
        )
        for email in operator_emails:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(email))

    def _queue(self, name: str, key: kms.IKey, visibility_timeout: Duration) -> sqs.Queue:
        dead_letters = sqs.Queue(
            self,
            f"{name}DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            # Longer than the source queue: a dead-lettered message keeps its original timestamp.
            retention_period=Duration.days(14),
        )
        return sqs.Queue(
            self,
            f"{name}Results",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=MAX_RECEIVE_COUNT),
        )


def _accept_only_from(queue: sqs.Queue, role_arns: Sequence[str]) -> None:
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyThisDeploymentsWorkflowsSend",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": list(role_arns)}},
        )
    )
