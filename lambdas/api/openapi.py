"""The OpenAPI document, generated from the routes and their pydantic models.

Regenerate the checked-in copy with: .venv/bin/python -m lambdas.api.openapi > docs/openapi.json
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from lambdas.api.app import create_app
from lambdas.api.catalog import match
from lambdas.api.routes import pages, read
from lambdas.api.routes.writes import approval, certification, lifecycles

DESCRIPTION = (
    "Build, test, scan, certify, approve and patch golden AMIs.\n\n"
    "Security: every route but the pages takes the x-api-key header (the apiKey scheme), checked by API Gateway. "
    "The operator key calls every key route except certify and export-link (QA key) and approve (approver key); "
    "another role's key gets 403. The timeline and fleet dashboard pages and their data take no key (a browser "
    "cannot send one): they are opened with the short-lived, read-only link that timeline-link or dashboard-link "
    "returns (the signedLink scheme).\n\n"
    "Errors: every error body is an ErrorBody {error, message}, whether a function or API Gateway itself answers "
    "(missing or invalid key 401, unknown route or method 404, throttling or quota 429, timeout 504, function "
    "failure 502). One exception: a body over API Gateway's 10 MB limit gets its fixed 413 "
    '{"message": "Request Too Long"}.'
)
SECURITY_SCHEMES = {
    "apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header, description="The role's API key (operator, QA or approver)."),
    "signedLink": APIKey(
        name="token", in_=APIKeyIn.query,
        description="A link token from timeline-link or dashboard-link: it names one lifecycle and view (or one "
                    "stack tag's dashboard) and an expiry, signed with HMAC-SHA256 under a key only the API "
                    "holds. It opens that page and its data, read-only, until it expires (default 60 minutes); "
                    "a forged, altered, expired or misdirected token gets 401.",
    ),
}


def _link_security(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            route = match(method.upper(), path)
            if route is not None and route.auth == "link":
                operation["security"] = [{"signedLink": []}]


def _drop_powertools_422(document: dict[str, Any]) -> None:
    """Every validation error is a 400 ErrorBody (app.invalid_request): Powertools' default 422 is
    never sent (a documented 422 is the Idempotency-Key's, an ErrorBody)."""
    for operations in document["paths"].values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in json.dumps(responses.get("422", {})):
                del responses["422"]
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document.get("components", {}).get("schemas", {}).pop(name, None)


def openapi_json() -> str:
    app = create_app(read.router, pages.router, lifecycles, certification, approval)
    document = json.loads(app.get_openapi_json_schema(
        title="AMI Lifecycle Orchestrator API",
        version="1.0.0",
        description=DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
        security=[{"apiKey": []}],
    ))
    _link_security(document)
    _drop_powertools_422(document)
    return json.dumps(document, indent=2)


if __name__ == "__main__":
    print(openapi_json())
