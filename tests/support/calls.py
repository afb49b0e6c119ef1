"""Invoke the project's handlers the way AWS does: API Gateway proxy events and SQS batches."""

from __future__ import annotations

import importlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from lambdas.api.catalog import match
from tests.support.aws import ACCOUNT, API_KEY_IDS, API_KEY_VALUES, REGION



@dataclass
class FakeContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def api_event(method: str, path: str, *, role: str | None = "operator", body: Any = None,
              query: dict[str, str] | None = None, raw_body: str | None = None) -> dict[str, Any]:
    key_id = API_KEY_IDS.get(role, role) if role else None
    key_value = API_KEY_VALUES.get(role or "", "unknown-key-value")
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "x-api-key": key_value},
        "multiValueHeaders": {},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "testapi",
            "httpMethod": method,
            "path": f"/api{path}",
            "stage": "api",
            "requestId": str(uuid.uuid4()),
            "resourcePath": path,
            "identity": {"apiKeyId": key_id, "sourceIp": "127.0.0.1", "apiKey": key_value},
        },
        "body": raw_body if raw_body is not None else (json.dumps(body) if body is not None else None),
        "isBase64Encoded": False,
    }


def call_api(method: str, path: str, **kwargs: Any) -> ApiResponse:
    route = match(method, path)
    module = importlib.import_module(f"lambdas.api.handlers.{route.function if route else 'read'}")
    response = module.lambda_handler(api_event(method, path, **kwargs), FakeContext())
    headers = {key.lower(): value for key, value in (response.get("headers") or {}).items()}
    headers |= {key.lower(): ", ".join(values) for key, values in (response.get("multiValueHeaders") or {}).items()}
    return ApiResponse(status=response["statusCode"], headers=headers, text=response.get("body") or "")


def sqs_event(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:receiver",
                "awsRegion": REGION,
            }
            for body in bodies
        ]
    }


def call_receiver(kind: str, *bodies: Any) -> dict[str, Any]:
    module = importlib.import_module(f"lambdas.receivers.{kind}")
    return module.lambda_handler(sqs_event(*bodies), FakeContext())
