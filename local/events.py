"""EventBridge for the local cloud: moto cannot deliver events to Lambda targets.

`EventRouter` holds the rules of the synthesized templates (pattern + Lambda target ARNs). The fakes
`emit` AWS's events; a worker thread matches them against the rules and invokes the targets through
moto's Lambda, asynchronously as EventBridge does (an event emitted inside a handler's AWS call is
never delivered inside that call, and the emitter never waits for the target).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from queue import Queue
from typing import Any

from local.credentials import admin_client

LOGGER = logging.getLogger("local.events")


def aws_event(*, source: str, detail_type: str, account: str, region: str, resources: list[str],
              detail: dict[str, Any]) -> dict[str, Any]:
    """An event in EventBridge's envelope (EventBridge User Guide, "Amazon EventBridge events")."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": source, "account": account,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "region": region, "resources": resources,
        "detail": detail,
    }


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
        self.emitted: list[dict[str, Any]] = []  # every event the fakes emitted, matched or not
        self.delivered: list[tuple[str, dict[str, Any]]] = []
        self._queue: Queue[dict[str, Any] | None] = Queue()
        self._worker: threading.Thread | None = None
        self._lambda: Any = None  # one client, made at start: one per event would add its set-up to every delivery

    def add_rule(self, pattern: dict[str, Any], target_arns: list[str]) -> None:
        self.rules.append((pattern, target_arns))

    def emit(self, event: dict[str, Any]) -> None:
        self.emitted.append(event)
        self._queue.put(event)

    def start(self) -> EventRouter:
        self._lambda = admin_client("lambda", self.region)  # EventBridge's delivery is always warm
        self._worker = threading.Thread(target=self._deliver_all, name="eventbridge", daemon=True)
        self._worker.start()
        return self

    def stop(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=10)
            self._worker = None
        self._lambda = None

    def _deliver_all(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._deliver(event)
            except Exception:  # noqa: BLE001 - one undeliverable event must not stop the bus; logged
                LOGGER.exception("event %s could not be delivered", event.get("detail-type"))

    def _deliver(self, event: dict[str, Any]) -> None:
        for pattern, targets in self.rules:
            if matches(pattern, event):
                for arn in targets:
                    self.delivered.append((arn, event))
                    self._lambda.invoke(FunctionName=arn, InvocationType="Event", Payload=json.dumps(event).encode())
