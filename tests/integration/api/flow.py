"""What only the API tests need; the lifecycle driver and the state capture are tests/support/flow.py."""

from __future__ import annotations

import base64
import importlib
from urllib.parse import parse_qsl

from lambdas.api.catalog import match
from tests.support.calls import ApiResponse, FakeContext, api_event, call_api


def open_link(path: str, *, role: str | None = None) -> ApiResponse:
    """GET a path as the API hands it out (timeline-link's `path` carries ?token=...), as a browser
    would: no key unless `role` is given."""
    route, _, query = path.partition("?")
    return call_api("GET", route, role=role, query=dict(parse_qsl(query)) or None)


ROLE = {"certify": "qa", "approve": "approver"}


def send(method: str, path: str, body: str | bytes, *, headers: dict[str, str] | None = None,
         role: str | None = None, **query: str) -> ApiResponse:
    """A raw body as API Gateway passes it: text, or base64 when it is not UTF-8 (as the local gateway
    does), with the route's own role unless given."""
    route = match(method, path)
    assert route is not None
    event = api_event(method, path, role=role or ROLE.get(route.function, "operator"), query=query or None)
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"] = body
    event["headers"].update(headers or {})
    response = importlib.import_module(f"lambdas.api.handlers.{route.function}").lambda_handler(event, FakeContext())
    headers = {key.lower(): ", ".join(values) for key, values in (response.get("multiValueHeaders") or {}).items()}
    return ApiResponse(response["statusCode"], headers, response["body"])


def assert_body(response: ApiResponse, status: int, error: str, message: str) -> None:
    assert (response.status, response.json()) == (status, {"error": error, "message": message}), response.text
    assert response.headers["content-type"] == "application/json"
