"""Workflow results flow from the receiver queues into their receiver functions."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.suppressions import suppress_checkov

BATCH_SIZE = 10


class Receivers(Construct):
    """Connects each (queue, function) pair with an SQS event source that reports partial batch
    failures, so one bad record is retried (and finally dead-lettered) without redoing the others."""

    def __init__(
        self, scope: Construct, construct_id: str, *, pairs: Sequence[tuple[sqs.IQueue, lambda_.Function]]
    ) -> None:
        super().__init__(scope, construct_id)
        for queue, function in pairs:
            function.add_event_source(
                event_sources.SqsEventSource(queue, batch_size=BATCH_SIZE, report_batch_item_failures=True)
            )
            suppress_checkov(
                function,
                ("CKV_AWS_116", "Invoked synchronously by the SQS event source mapping: failed records return "
                                "to the queue, whose redrive policy moves them to its dead-letter queue."),
            )
