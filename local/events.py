"""EventBridge routing for the local cloud: moto cannot deliver events to Lambda targets.

`EventRouter` holds the rules of the synthesized template (pattern + Lambda target ARNs) and
invokes the matching targets, asynchronously as EventBridge does, through moto's Lambda.
"""

from __future__ import annotations

import json
from typing import Any

import boto3


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """The subset of EventBridge patterns the project uses: nested objects and lists of exact values."""
    for key, expected in pattern.items():
        if key not in event:
            return False
        actual = event[key]
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
        elif isinstance(actual, list):
            if not any(value in expected for value in actual):
                return False
        elif actual not in expected:
            return False
    return True


class EventRouter:
    def __init__(self, *, region: str) -> None:
        self.region = region
        self.rules: list[tuple[dict[str, Any], list[str]]] = []
        self.delivered: list[tuple[str, dict[str, Any]]] = []

    def add_rule(self, pattern: dict[str, Any], target_arns: list[str]) -> None:
        self.rules.append((pattern, target_arns))

    def put_event(self, event: dict[str, Any]) -> None:
        lambda_client = boto3.client("lambda", region_name=self.region)
        for pattern, targets in self.rules:
            if matches(pattern, event):
                for arn in targets:
                    self.delivered.append((arn, event))
                    lambda_client.invoke(FunctionName=arn, InvocationType="Event", Payload=json.dumps(event).encode())
