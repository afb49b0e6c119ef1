"""docs/openapi.json is generated from the code; this test fails when they drift."""

import json
from pathlib import Path


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


def operations(document):
    return {(method, path) for path, item in document["paths"].items() for method in item}


def _documented(path: str) -> str:
    """A catalog path as OpenAPI writes it: `{lifecycle-id}` -> `{lifecycle_id}`, `{stack-tag}` -> `{stack_tag}`."""
    return path.replace("{lifecycle-id}", "{lifecycle_id}").replace("{stack-tag}", "{stack_tag}")


def test_the_checked_in_document_is_the_generated_one():
    assert CHECKED_IN.exists(), f"docs/openapi.json is missing; {REGENERATE}"
    assert json.loads(CHECKED_IN.read_text()) == json.loads(openapi_json()), (
        f"docs/openapi.json differs from the code; {REGENERATE}")


def test_it_documents_every_route_the_api_serves():
    document = json.loads(openapi_json())
    documented = operations(document)
    assert documented >= ORIGINAL_13
    served = {(route.method.lower(), _documented(route.path)) for route in ROUTES}
    assert documented == served
    assert len({op["operationId"] for item in document["paths"].values() for op in item.values()}) == len(documented)


def test_it_declares_the_x_api_key_header_and_the_error_bodies():
    document = json.loads(openapi_json())
    schemes = document["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "x-api-key"} in schemes.values()
    assert document["security"] == [{name: []} for name in schemes]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert {"400", "401", "403", "404", "409"} <= set(operation["responses"]), (method, path)
            if method in ("post", "put"):
                assert operation["requestBody"]["required"] is True, (method, path)
    create = document["components"]["schemas"]["CreateLifecycleRequest"]
    assert create.get("additionalProperties") is False
    assert "api_key" not in json.dumps(document)


def test_link_routes_are_documented_without_the_key():
    document = json.loads(openapi_json())
    for route in ROUTES:
        if route.auth == "link":
            path = _documented(route.path)
            assert document["paths"][path][route.method.lower()].get("security") == [], path


def test_no_operation_documents_a_status_the_api_never_returns():
    document = json.loads(openapi_json())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert "422" not in operation["responses"], (method, path)
