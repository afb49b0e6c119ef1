"""Scheduled jobs: the reconciler and the garbage collector."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.config import AppConfig
from stacks.suppressions import suppress_checkov


class ScheduledJobs(Construct):
    """Runs the reconciler and the garbage collector on the schedules of the config."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        reconciler: lambda_.IFunction,
        garbage_collector: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        for rule_id, schedule, function in (
            ("ReconcilerSchedule", config.reconciler.schedule, reconciler),
            ("GarbageCollectorSchedule", config.garbage_collector.schedule, garbage_collector),
        ):
            events.Rule(
                self,
                rule_id,
                description=f"Runs {function.node.id} ({config.stack_tag_slug})",
                schedule=events.Schedule.expression(schedule),
                # A late run is worthless: the next one is due soon and does the same work.
                targets=[targets.LambdaFunction(function, retry_attempts=2, max_event_age=Duration.minutes(15))],
            )
            suppress_checkov(
                function,
                ("CKV_AWS_116", "Scheduled and idempotent: the next run redoes whatever a failed run left, so a "
                                "dead-lettered schedule event would carry nothing worth replaying; failures show "
                                "in the function's Errors metric and logs."),
            )
