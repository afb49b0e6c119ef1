"""The OpenAPI document, generated from the routes and their pydantic models.

Regenerate the checked-in copy with: .venv/bin/python -m lambdas.api.openapi > docs/openapi.json
"""

from __future__ import annotations

import json

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from lambdas.api.app import create_app
from lambdas.api.catalog import match
from lambdas.api.routes import pages, read
from lambdas.api.routes.writes import approval, certification, lifecycles


def openapi_json() -> str:
    app = create_app(read.router, pages.router, lifecycles, certification, approval)
    document = json.loads(app.get_openapi_json_schema(
        title="AMI Lifecycle Orchestrator API",
        version="1.0.0",
        description=(
            "Build, test, scan, certify, approve and patch golden AMIs. Routes need the x-api-key header: "
            "the operator key calls every route except certify and export-link (QA key) and approve "
            "(approver key). The timeline and fleet dashboard pages and their data take no key: they are "
            "opened with the short-lived, read-only link that timeline-link or dashboard-link returns."
        ),
        security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)},
        security=[{"apiKey": []}],
    ))
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            # Every validation error is a 400 ErrorBody (app.invalid_request); 422 is never sent.
            operation.get("responses", {}).pop("422", None)
            route = match(method.upper(), path)
            if route is not None and route.auth == "link":
                operation["security"] = []  # opened by a browser with the signed link's token
    unused = {"HTTPValidationError", "ValidationError"}
    for name in unused:
        document.get("components", {}).get("schemas", {}).pop(name, None)
    return json.dumps(document, indent=2)


if __name__ == "__main__":
    print(openapi_json())
