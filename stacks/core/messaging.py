"""Receiver queues (each with its dead-letter queue) and the notification topic."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# A message is retried this often before it is parked in the dead-letter queue.
MAX_RECEIVE_COUNT = 5


class Messaging(Construct):
    """The creation, patch and error receiver queues and the notification topic.

    Nothing here grants a service principal: the state machines' roles (workflows stack) get
    sqs:SendMessage through IAM, so the queues need no resource policy beyond TLS enforcement.
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
    ) -> None:
        super().__init__(scope, construct_id)
        self.creation_queue = self._queue("Creation", key, visibility_timeout)
        self.patch_queue = self._queue("Patch", key, visibility_timeout)
        self.error_queue = self._queue("Error", key, visibility_timeout)

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
