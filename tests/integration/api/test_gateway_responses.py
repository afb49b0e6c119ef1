"""API Gateway's own answers are ErrorBodies too, and the local gateway gives exactly the deployed ones.

The deployed side is the synthesized template's GatewayResponse resources, rendered the way API
Gateway renders them ($context.error.messageString is its own text); the local side is real HTTP
against local/api_gateway.py with the functions in-process.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from local.api_gateway import ApiGateway
from tests.support.aws import API_KEY_IDS, API_KEY_VALUES
from tests.support.flow import CREATION, UNKNOWN_ID, create_body


@pytest.fixture
def gateway(deployment: Any) -> Iterator[ApiGateway]:
    key_ids = {API_KEY_VALUES[role]: key_id for role, key_id in API_KEY_IDS.items()}
    with ApiGateway(key_ids=key_ids) as running:
        yield running


def request(gateway: ApiGateway, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=30)
    try:
        connection.request(method, f"/{gateway.stage}{path}", body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, response.getheader("Content-Type", ""), json.loads(text) if text else None
    finally:
        connection.close()


def deployed(synth: Any, response_type: str, message_string: str = "") -> tuple[int | None, Any]:
    """What the deployed API answers for a gateway response type (status None: the type's own)."""
    template = synth.templates["AmiLifecycle-main"]
    [properties] = [r["Properties"] for r in template["Resources"].values()
                    if r["Type"] == "AWS::ApiGateway::GatewayResponse" and r["Properties"]["ResponseType"] == response_type]
    body = properties["ResponseTemplates"]["application/json"]
    rendered = body.replace("$context.error.messageString", json.dumps(message_string))
    status = properties.get("StatusCode")
    return (int(status) if status else None), json.loads(rendered)


OPERATOR = {"x-api-key": API_KEY_VALUES["operator"]}


def test_local_gateway_responses_are_the_deployed_ones(synth, gateway):
    status, body = deployed(synth, "INVALID_API_KEY")
    assert (status, body) == (401, {"error": "Unauthorized", "message": "missing or invalid x-api-key header"})
    for headers in ({}, {"x-api-key": "not-a-key"}, {"x-api-key": API_KEY_IDS["operator"]}):
        assert request(gateway, "GET", f"{CREATION}/{UNKNOWN_ID}/status", headers=headers) == (
            401, "application/json", body)

    status, body = deployed(synth, "MISSING_AUTHENTICATION_TOKEN")
    assert (status, body["error"]) == (404, "NotFound")
    for method, path in (("GET", "/ami-creation/nothing"), ("DELETE", CREATION), ("TRACE", f"{CREATION}/{UNKNOWN_ID}/timeline"),
                         ("TRACE", f"{CREATION}/{UNKNOWN_ID}/timeline/data"), ("FROB", CREATION), ("OPTIONS", CREATION)):
        assert request(gateway, method, path, headers=OPERATOR) == (404, "application/json", body), (method, path)
    assert request(gateway, "HEAD", CREATION, headers=OPERATOR) == (404, "application/json", None)

    # A function that raised: API Gateway's 502 "Internal server error", in the DEFAULT_5XX shape.
    status, body = deployed(synth, "DEFAULT_5XX", "Internal server error")
    assert (status, body) == (None, {"error": "InternalServerError", "message": "Internal server error"})
    gateway.invoke = lambda function, event: 1 / 0
    assert request(gateway, "GET", f"{CREATION}/{UNKNOWN_ID}/status", headers=OPERATOR) == (
        502, "application/json", body)


def test_throttling_and_timeouts_are_error_bodies_too(synth):
    assert deployed(synth, "THROTTLED") == (429, {"error": "TooManyRequests",
                                                  "message": "too many requests: slow down and retry"})
    assert deployed(synth, "QUOTA_EXCEEDED") == (429, {
        "error": "TooManyRequests", "message": "this API key's daily request quota is used up; it resets at midnight UTC"})
    assert deployed(synth, "INTEGRATION_TIMEOUT") == (504, {"error": "GatewayTimeout",
                                                            "message": "Endpoint request timed out"})
    assert deployed(synth, "ACCESS_DENIED") == (403, {"error": "Forbidden", "message": "access denied"})


def test_bad_bodies_over_real_http_are_400s_not_502s(gateway):
    json_headers = {**OPERATOR, "Content-Type": "application/json"}
    assert request(gateway, "POST", CREATION, b"\xff\xfe{", json_headers) == (
        400, "application/json", {"error": "BadRequest", "message": "body: is not UTF-8 encoded JSON"})
    assert request(gateway, "PUT", CREATION, b"{", json_headers)[2]["error"] == "BadRequest"
    status, _, body = request(gateway, "POST", CREATION, json.dumps(create_body()).encode(), json_headers)
    assert status == 201, body
    # Over API Gateway's 10 MB: its fixed 413, which cannot be customized (answered before the body is read).
    connection = http.client.HTTPConnection(gateway.host, gateway.port, timeout=30)
    connection.putrequest("POST", f"/{gateway.stage}{CREATION}")
    for name, value in {**json_headers, "Content-Length": str(10 * 1024 * 1024 + 1)}.items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())) == (413, {"message": "Request Too Long"})
    connection.close()
