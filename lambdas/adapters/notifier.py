"""SNS delivery of notifications and endpoint subscriptions."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from lambdas.adapters.aws import client
from lambdas.core.observability import logger, metrics
from lambdas.domain.models import NotificationTarget
from lambdas.domain.notifications import Notification

_PROTOCOL = {"EMAIL": "email", "HTTPS": "https"}


class Notifier:
    def __init__(self, topic_arn: str) -> None:
        self._topic_arn = topic_arn

    def publish(self, notification: Notification) -> None:
        attributes: dict[str, Any] = {
            name: {"DataType": "String", "StringValue": value}
            for name, value in (
                ("lifecycle_id", notification.lifecycle_id),
                ("stack_tag", notification.stack_tag),
                ("event", notification.event),
                ("status", notification.status),
                ("severity", notification.severity.value),
                ("audience", notification.audience.value),
            )
        }
        if notification.recipients:
            attributes["recipients"] = {
                "DataType": "String.Array",
                "StringValue": json.dumps(list(notification.recipients)),
            }
        client("sns").publish(
            TopicArn=self._topic_arn,
            Subject=notification.subject,
            Message=notification.message,
            MessageAttributes=attributes,
        )

    def subscribe(self, target: NotificationTarget) -> None:
        """One subscription per endpoint whose filter names only the endpoint.

        SNS returns the existing subscription when protocol, endpoint and attributes are the same,
        so calling this for every lifecycle is idempotent and the filter never grows. When the
        endpoint already has a subscription with other attributes (one of the stack's static
        operator or QA subscriptions, say), SNS refuses a second one: the endpoint keeps the one it
        has, which is not the request's fault (logged and counted as SubscriptionConflict).
        """
        try:
            client("sns").subscribe(
                TopicArn=self._topic_arn,
                Protocol=_PROTOCOL[target.method.value],
                Endpoint=target.target,
                Attributes={"FilterPolicy": json.dumps({"recipients": [target.target_id]})},
                ReturnSubscriptionArn=True,
            )
        except ClientError as exc:
            if not _already_subscribed(exc):
                raise
            logger.warning("endpoint already subscribed with other attributes", extra={"target_id": target.target_id})
            metrics.add_metric(name="SubscriptionConflict", unit="Count", value=1)


def _already_subscribed(exc: ClientError) -> bool:
    # SNS: InvalidParameter "Invalid parameter: Attributes Reason: Subscription already exists with
    # different attributes".
    error = exc.response.get("Error", {})
    return error.get("Code") == "InvalidParameter" and "already exists with different attributes" in error.get(
        "Message", "")
