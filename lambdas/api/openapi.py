"""The OpenAPI document, generated from the routes and their pydantic models.

Regenerate the checked-in copy with: .venv/bin/python -m lambdas.api.openapi > docs/openapi.json
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from lambdas.api.app import create_app
from lambdas.api.routes.read import router as read_routes
from lambdas.api.routes.writes import approval, certification, lifecycles


def openapi_json() -> str:
    app = create_app(read_routes, lifecycles, certification, approval)
    return app.get_openapi_json_schema(
        title="AMI Lifecycle Orchestrator API",
        version="1.0.0",
        description=(
            "Build, test, scan, certify, approve and patch golden AMIs. Every route needs the x-api-key "
            "header; the operator key calls every route except certify (QA key) and approve (approver key)."
        ),
        security_schemes={"apiKey": APIKey(name="x-api-key", in_=APIKeyIn.header)},
        security=[{"apiKey": []}],
    )


if __name__ == "__main__":
    print(openapi_json())
