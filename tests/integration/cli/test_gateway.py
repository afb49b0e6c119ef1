"""local/api_gateway.py behaves like the deployed REST API where a client can tell."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from local.api_gateway import KEYLESS_ROUTES, ApiGateway
from tests.support.aws import API_KEY_IDS, API_KEY_VALUES
from tests.support.flow import create

LC = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"


def _request(url: str, method: str = "GET", *, key: str | None = None, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("x-api-key", key)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as exc:
        text, status = exc.read().decode(), exc.code
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


@pytest.fixture
def recorded(gateway: ApiGateway) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    real = gateway.invoke

    def invoke(function: str, event: dict[str, Any]) -> dict[str, Any]:
        calls.append((function, event))
        return real(function, event)

    gateway.invoke = invoke
    return calls


def test_routes_are_the_catalog_of_the_deployed_api(gateway) -> None:
    """The gateway routes every concrete path exactly as lambdas/api/catalog.py (the deployed table) does."""
    from lambdas.api.catalog import ROUTES as CATALOG
    from lambdas.api.catalog import match

    assert len(gateway.routes) == len(CATALOG)
    for route in CATALOG:
        concrete = route.path.replace("{lifecycle-id}", LC).replace("{stack-tag}", "main")
        found = gateway.match(route.method, concrete)
        assert found is not None, route
        local, parameters = found
        assert (local.method, local.resource, local.function) == (route.method, route.path, route.function)
        assert local.key_required == (route.auth == "key")
        assert match(route.method, concrete) == route
        expected = {name: value for name, value in (("lifecycle-id", LC), ("stack-tag", "main"))
                    if f"{{{name}}}" in route.path}
        assert parameters == expected


def test_keys_are_checked_before_any_function_runs(gateway, recorded, deployment):
    url = f"{gateway.url}/ami-creation/lifecycles/{LC}/status"
    for key in (None, "not-a-key", API_KEY_IDS["operator"]):  # a key *id* is not a key either
        assert _request(url, key=key) == (401, {"error": "Unauthorized", "message": "missing or invalid x-api-key header"})
    assert recorded == []
    status, body = _request(url, key=API_KEY_VALUES["operator"])
    assert (status, body["error"]) == (404, "NotFound")
    [(function, event)] = recorded
    assert function == "read"


def test_unknown_routes_and_methods_are_404_without_a_call(gateway, recorded):
    no_route = (404, {"error": "NotFound",
                      "message": "no such route: check the HTTP method and the path (including the stage)"})
    key = API_KEY_VALUES["operator"]
    assert _request(f"{gateway.url}/ami-creation/nothing", key=key) == no_route
    assert _request(f"{gateway.url}/ami-creation/lifecycles", "DELETE", key=key) == no_route
    assert _request(f"{gateway.url.removesuffix('/api')}/ami-creation/lifecycles", "POST", key=key, body={}) == no_route
    assert _request(f"{gateway.url}/ami-creation/lifecycles/{LC}/status/extra", key=key) == no_route
    assert recorded == []
    assert [(r.status, r.function) for r in gateway.requests] == [(404, None)] * 4


def test_each_route_reaches_its_function_with_a_proxy_event(gateway, recorded, deployment):
    lifecycle_id = create(deployment)
    key = API_KEY_VALUES["qa"]
    status, body = _request(f"{gateway.url}/ami-creation/lifecycles/{lifecycle_id}/certify?a=1&a=2&b=", "POST",
                            key=key, body={"lifecycle_id": lifecycle_id, "stack_tag": "main",
                                           "certification_status": "CERTIFIED"},
                            headers={"X-Trace": "t1"})
    assert (status, body["message"]) == (409, "BUILD_AMI is IN_PROGRESS; wait for its result before starting QA_CERTIFICATION_RESPONSE")
    [(function, event)] = recorded
    assert function == "certify"
    assert event["resource"] == "/ami-creation/lifecycles/{lifecycle-id}/certify"
    assert event["path"] == f"/ami-creation/lifecycles/{lifecycle_id}/certify"
    assert event["pathParameters"] == {"lifecycle-id": lifecycle_id}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    headers = {name.lower(): value for name, value in event["headers"].items()}
    assert headers["x-trace"] == "t1" and headers["x-api-key"] == key
    assert event["requestContext"]["identity"]["apiKeyId"] == API_KEY_IDS["qa"]
    assert event["requestContext"]["path"] == f"/api/ami-creation/lifecycles/{lifecycle_id}/certify"
    assert json.loads(event["body"])["certification_status"] == "CERTIFIED"
    # The key value travels in the headers only, as API Gateway sends it.
    elsewhere = {k: v for k, v in event.items() if k not in ("headers", "multiValueHeaders")}
    assert key not in json.dumps(elsewhere)

    for method, path, expected in (
        ("POST", "/ami-creation/lifecycles", "lifecycles"),
        ("PUT", "/ami-patch/lifecycles", "lifecycles"),
        ("POST", f"/ami-patch/lifecycles/{lifecycle_id}/approve", "approve"),
        ("GET", "/ami-patch/lifecycles/status?stack_tag=main", "read"),
    ):
        _request(f"{gateway.url}{path}", method, key=API_KEY_VALUES["operator"], body={} if method != "GET" else None)
        assert recorded[-1][0] == expected, path


def test_keyless_routes_pass_without_a_key(deployment):
    calls = []

    def invoke(function, event):
        calls.append((function, event["requestContext"]["identity"]["apiKeyId"], event["queryStringParameters"]))
        return {"statusCode": 200, "headers": {"Content-Type": "text/html"}, "body": "<html></html>"}

    key_ids = {API_KEY_VALUES["operator"]: API_KEY_IDS["operator"]}
    with ApiGateway(key_ids=key_ids, invoke=invoke) as gateway:
        assert _request(f"{gateway.url}/ami-creation/lifecycles/{LC}/timeline?token=abc") == (200, "<html></html>")
        assert _request(f"{gateway.url}/ami-patch/lifecycles/{LC}/timeline/data?token=abc")[0] == 200
        assert _request(f"{gateway.url}/ami-creation/lifecycles/{LC}/timeline-link")[0] == 401  # needs a key
    assert calls == [("read", None, {"token": "abc"})] * 2
    assert ("GET", "/ami-creation/lifecycles/{lifecycle-id}/timeline") in KEYLESS_ROUTES

    with ApiGateway(key_ids=key_ids, invoke=invoke, keyless_routes=()) as strict:
        assert _request(f"{strict.url}/ami-creation/lifecycles/{LC}/timeline?token=abc")[0] == 401


def test_function_errors_are_502_and_calls_are_serialised():
    active, most = [0], [0]
    lock = threading.Lock()

    def invoke(function, event):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        if event["path"].endswith("/status") and event["httpMethod"] == "GET" and "boom" in (event["queryStringParameters"] or {}):
            raise RuntimeError("handler crashed")
        return {"statusCode": 200, "multiValueHeaders": {"X-A": ["1", "2"]}, "body": "{}"}

    with ApiGateway(key_ids={"k": "id"}, invoke=invoke) as gateway:
        url = f"{gateway.url}/ami-creation/lifecycles/status"
        threads = [threading.Thread(target=_request, args=(url,), kwargs={"key": "k"}) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert most[0] == 1
        assert _request(url + "?boom=1", key="k") == (502, {"error": "InternalServerError",
                                                            "message": "Internal server error"})
        assert len(gateway.requests) == 5


def test_loopback_only():
    with pytest.raises(ValueError, match="loopback only"):
        ApiGateway(host="0.0.0.0", key_ids={})
