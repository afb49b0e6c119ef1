"""docs/openapi.json is generated from the code; this test fails when they drift, or when it leaves out
what a client must know: each route's success body, every error status it can return, and how it is
secured."""

import json
from pathlib import Path

import pytest

from lambdas.api.catalog import ROUTES
from lambdas.api.openapi import openapi_json

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"
REGENERATE = "regenerate it with: .venv/bin/python -m lambdas.api.openapi > docs/openapi.json"
ORIGINAL_13 = {
    ("post", "/ami-creation/lifecycles"), ("put", "/ami-creation/lifecycles"),
    ("get", "/ami-creation/lifecycles/status"), ("get", "/ami-creation/lifecycles/{lifecycle_id}/status"),
    ("post", "/ami-creation/lifecycles/{lifecycle_id}/certify"),
    ("post", "/ami-creation/lifecycles/{lifecycle_id}/approve"),
    ("get", "/ami-creation/lifecycles/{lifecycle_id}/timeline"),
    ("post", "/ami-patch/lifecycles"), ("put", "/ami-patch/lifecycles"), ("get", "/ami-patch/lifecycles/status"),
    ("get", "/ami-patch/lifecycles/{lifecycle_id}/status"), ("get", "/ami-patch/lifecycles/{lifecycle_id}/timeline"),
    ("post", "/ami-patch/lifecycles/{lifecycle_id}/approve"),
}
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
# What each route answers, written out here so that a change of the API shows up as a failing test.
SUCCESS = {
    ("post", "/ami-creation/lifecycles"): {"201": "LifecycleAccepted"},
    ("put", "/ami-creation/lifecycles"): {"200": "LifecycleAccepted"},
    ("post", "/ami-patch/lifecycles"): {"201": "LifecycleAccepted", "200": "PatchCheck"},
    ("put", "/ami-patch/lifecycles"): {"200": "LifecycleAccepted"},
    ("get", "/ami-creation/lifecycles/status"): {"200": "LifecycleList"},
    ("get", "/ami-patch/lifecycles/status"): {"200": "LifecycleList"},
    ("get", "/ami-creation/lifecycles/{lifecycle_id}/status"): {"200": "LifecycleRecord"},
    ("get", "/ami-patch/lifecycles/{lifecycle_id}/status"): {"200": "PatchStatus"},
    ("post", "/ami-creation/lifecycles/{lifecycle_id}/certify"): {"200": "EventRecorded"},
    ("get", "/ami-creation/lifecycles/{lifecycle_id}/export-link"): {"200": "ExportLink"},
    ("post", "/ami-creation/lifecycles/{lifecycle_id}/approve"): {"200": "EventRecorded"},
    ("post", "/ami-patch/lifecycles/{lifecycle_id}/approve"): {"200": "EventRecorded"},
    ("get", "/ami-creation/lifecycles/{lifecycle_id}/timeline-link"): {"200": "TimelineLink"},
    ("get", "/ami-patch/lifecycles/{lifecycle_id}/timeline-link"): {"200": "TimelineLink"},
    ("get", "/ami-creation/lifecycles/{lifecycle_id}/timeline"): {"200": "text/html"},
    ("get", "/ami-patch/lifecycles/{lifecycle_id}/timeline"): {"200": "text/html"},
    ("get", "/ami-creation/lifecycles/{lifecycle_id}/timeline/data"): {"200": "TimelineView"},
    ("get", "/ami-patch/lifecycles/{lifecycle_id}/timeline/data"): {"200": "TimelineView"},
    ("get", "/ami-fleet/{stack_tag}/dashboard-link"): {"200": "DashboardLink"},
    ("get", "/ami-fleet/{stack_tag}/dashboard"): {"200": "text/html"},
    ("get", "/ami-fleet/{stack_tag}/dashboard/data"): {"200": "DashboardView"},
}
EVERY_ROUTE = {"400", "429", "500", "502", "504"}


def operations(document):
    return {(method, path) for path, item in document["paths"].items() for method in item}


def _documented(path: str) -> str:
    """A catalog path as OpenAPI writes it: `{lifecycle-id}` -> `{lifecycle_id}`, `{stack-tag}` -> `{stack_tag}`."""
    return path.replace("{lifecycle-id}", "{lifecycle_id}").replace("{stack-tag}", "{stack_tag}")


@pytest.fixture(scope="module")
def document():
    return json.loads(openapi_json())


def test_the_checked_in_document_is_the_generated_one(document):
    assert CHECKED_IN.exists(), f"docs/openapi.json is missing; {REGENERATE}"
    assert json.loads(CHECKED_IN.read_text()) == document, f"docs/openapi.json differs from the code; {REGENERATE}"


def test_it_documents_every_route_the_api_serves(document):
    documented = operations(document)
    assert documented >= ORIGINAL_13
    served = {(route.method.lower(), _documented(route.path)) for route in ROUTES}
    assert documented == served == set(SUCCESS)
    assert len({op["operationId"] for item in document["paths"].values() for op in item.values()}) == len(documented)


def test_every_route_documents_its_success_body(document):
    for (method, path), expected in SUCCESS.items():
        responses = document["paths"][path][method]["responses"]
        successes = {code: body for code, body in responses.items() if code.startswith("2")}
        assert set(successes) == set(expected), (method, path)
        for code, name in expected.items():
            [(media_type, content)] = successes[code]["content"].items()
            if name == "text/html":
                assert (media_type, content["schema"]) == ("text/html", {"type": "string"})
            else:
                assert (media_type, content["schema"]) == ("application/json", {"$ref": f"#/components/schemas/{name}"})


def test_every_error_a_route_can_return_is_an_error_body(document):
    for route in ROUTES:
        method, path = route.method.lower(), _documented(route.path)
        operation = document["paths"][path][method]
        errors = {code: body for code, body in operation["responses"].items() if code[0] in "45"}
        expected = set(EVERY_ROUTE) | {"401"} | ({"403"} if route.auth == "key" else set())
        if method in ("post", "put"):
            expected |= {"413", "415"}
            assert operation["requestBody"]["required"] is True, (method, path)
        if "{lifecycle_id}" in path or method == "put" or path == "/ami-patch/lifecycles":
            expected.add("404")
        assert expected <= set(errors), (method, path, sorted(expected - set(errors)))
        for code, body in errors.items():
            assert body["content"] == {"application/json": {"schema": ERROR_BODY}}, (method, path, code)
            assert body["description"], (method, path, code)
    create = document["components"]["schemas"]["CreateLifecycleRequest"]
    assert create.get("additionalProperties") is False
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "message"}


def test_only_the_idempotent_creates_document_a_422(document):
    with_422 = {(method, path) for path, item in document["paths"].items() for method, operation in item.items()
                if "422" in operation["responses"]}
    assert with_422 == {("post", "/ami-creation/lifecycles"), ("post", "/ami-patch/lifecycles")}
    for method, path in with_422:
        operation = document["paths"][path][method]
        assert "Idempotency-Key" in operation["responses"]["422"]["description"]
        [header] = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"].lower() == "idempotency-key" and header["required"] is False
    assert "HTTPValidationError" not in json.dumps(document)


def test_key_routes_take_the_x_api_key_header_and_link_routes_the_signed_link(document):
    schemes = document["components"]["securitySchemes"]
    assert {name: (scheme["type"], scheme["in"], scheme["name"]) for name, scheme in schemes.items()} == {
        "apiKey": ("apiKey", "header", "x-api-key"), "signedLink": ("apiKey", "query", "token")}
    assert "HMAC-SHA256" in schemes["signedLink"]["description"]
    assert document["security"] == [{"apiKey": []}]
    for route in ROUTES:
        operation = document["paths"][_documented(route.path)][route.method.lower()]
        if route.auth == "link":
            assert operation["security"] == [{"signedLink": []}], route.path
        else:
            assert "security" not in operation, route.path  # the document's default: the API key
    assert "api_key" not in json.dumps(document)
