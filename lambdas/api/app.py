"""REST resolver shared by the API functions: validation, error contract, role checks, handler."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger, metrics
from lambdas.core.settings import get_settings
from lambdas.domain.errors import DomainError, Forbidden, Unauthorized
from lambdas.domain.requests import LIFECYCLE_ID_PATTERN, ErrorBody, explain

OPERATOR, QA, APPROVER = "operator", "qa", "approver"
PathId = Annotated[str, Path(pattern=LIFECYCLE_ID_PATTERN, description="Lifecycle id (UUID).")]

ERROR_RESPONSES: dict[int, dict[str, Any]] = {
    code: {"description": text, "content": {"application/json": {"model": ErrorBody}}}
    for code, text in (
        (400, "Invalid input; the message names the field and why."),
        (401, "Missing or invalid x-api-key header."),
        (403, "This API key's role may not call this route."),
        (404, "Unknown lifecycle."),
        (409, "A lifecycle rule refuses the request (immutable, out of order, in progress)."),
    )
}


def _error(status: HTTPStatus, message: str) -> Response:
    body = ErrorBody(error=status.phrase.replace(" ", ""), message=message)
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def _describe_validation(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            problems.append("body: is not valid JSON")
            continue
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        where = ".".join(location) or "body"
        problems.append(f"{where}: {explain(error)}")
    return "; ".join(problems) or "invalid request"


def caller_role(app: BaseRouter) -> str | None:
    """The role of the API key API Gateway validated (matched by key id; the value is never seen)."""
    key_id = app.current_event.request_context.identity.api_key_id
    for role, role_key_id in get_settings().api_key_ids.items():
        if key_id and key_id == role_key_id:
            return role
    return None


def require_role(app: BaseRouter, *roles: str) -> None:
    role = caller_role(app)
    if role is None:
        # API Gateway already refuses unknown keys; this guards a misconfigured or bypassed gateway.
        raise Unauthorized("missing or invalid x-api-key header")
    if role not in roles:
        raise Forbidden(f"this route needs the {' or '.join(roles)} API key")


def create_app(*routers: APIGatewayRouter) -> APIGatewayRestResolver:
    app = APIGatewayRestResolver(enable_validation=True)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        return _error(HTTPStatus.BAD_REQUEST, _describe_validation(exc))

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response:
        if exc.status_code >= 500:
            logger.error("request failed", extra={"error": exc.message})
        return _error(HTTPStatus(exc.status_code), exc.message)

    @app.not_found
    def not_found(_: Exception) -> Response:
        return _error(HTTPStatus.NOT_FOUND, "no such route")

    return app


def lambda_handler_for(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    # log_event stays off: the event holds the x-api-key header.
    @logger.inject_lambda_context(log_event=False, clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return app.resolve(event, context)

    return lambda_handler
