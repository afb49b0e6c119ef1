"""What a long-running local cloud deploys beyond the tests' LocalDeployer: generated API keys, queue
attributes, and the event source mappings and schedules the server then plays."""

from __future__ import annotations

import json
import re
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any

_RESOLVE_SECRET = re.compile(r"\{\{resolve:secretsmanager:(.+?):SecretString:::\}\}")


@dataclass(frozen=True)
class EventSourceMapping:
    queue_arn: str
    function: str
    batch_size: int


def server_deployer_class() -> type:
    from local.cfn import LocalDeployer, generated_secret

    class ServerDeployer(LocalDeployer):
        """LocalDeployer + what the long-running local cloud needs (see the module docstring)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.api_keys: dict[str, str] = {}  # key id -> key value (never logged)
            self.event_source_mappings: list[EventSourceMapping] = []
            self.schedules: list[tuple[str, list[str]]] = []  # (rate expression, target function ARNs)
            self.queues: dict[str, dict[str, Any]] = {}  # queue ARN -> url, visibility timeout
            self._creators.update({
                "AWS::ApiGateway::ApiKey": self._api_key,
                "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            })

        def _api_key(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            value = str(props.get("Value") or "")
            found = _RESOLVE_SECRET.fullmatch(value)
            if found:
                value = self.secret_values[found.group(1)]
            if not value:
                value = generated_secret({"GenerateSecretString": {"ExcludePunctuation": True, "PasswordLength": 40}})
            key_id = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(10))
            self.api_keys[key_id] = value
            return key_id, {"APIKeyId": key_id}

        def _queue(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            url, attrs = super()._queue(lid, props)
            attributes: dict[str, str] = {}
            if props.get("RedrivePolicy"):
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            if props.get("VisibilityTimeout") is not None:
                attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
            if attributes:
                self._client("sqs").set_queue_attributes(QueueUrl=url, Attributes=attributes)
            self.queues[attrs["Arn"]] = {"url": url, "visibility": int(props.get("VisibilityTimeout", 30))}
            return url, attrs

        def _event_source_mapping(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            self.event_source_mappings.append(
                EventSourceMapping(props["EventSourceArn"], props["FunctionName"], int(props.get("BatchSize", 10)))
            )
            return str(uuid.uuid4()), {}

        def _rule(self, lid: str, props: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            if "ScheduleExpression" in props and props.get("State", "ENABLED") == "ENABLED":
                self.schedules.append((props["ScheduleExpression"], [t["Arn"] for t in props.get("Targets", [])]))
            return super()._rule(lid, props)

    return ServerDeployer


def rate_seconds(expression: str) -> float | None:
    found = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not found:
        return None  # cron(...) schedules are not played locally
    unit = found.group(2).rstrip("s")
    return int(found.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]
