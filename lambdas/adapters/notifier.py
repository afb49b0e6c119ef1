"""SNS delivery of notifications and endpoint subscriptions."""

from __future__ import annotations

import json
from typing import Any

from lambdas.adapters.aws import client
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
        so calling this for every lifecycle is idempotent and the filter never grows.
        """
        client("sns").subscribe(
            TopicArn=self._topic_arn,
            Protocol=_PROTOCOL[target.method.value],
            Endpoint=target.target,
            Attributes={"FilterPolicy": json.dumps({"recipients": [target.target_id]})},
            ReturnSubscriptionArn=True,
        )
