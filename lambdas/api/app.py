"""REST resolver shared by the API functions: body parsing, validation, error contract, role checks.

Every answer a function gives is a 2xx or an ErrorBody: invalid input of any kind (not UTF-8, not
JSON, nested too deeply, huge numbers, wrong types, too large) is a 4xx that says what is wrong, and
an unexpected failure is a 500 ErrorBody naming the request id (logged, and counted as UnhandledError).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger, metrics
from lambdas.core.settings import get_settings
from lambdas.domain.errors import (
    DomainError,
    Forbidden,
    InvalidRequest,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
)
from lambdas.domain.requests import LIFECYCLE_ID_PATTERN, MAX_BODY_BYTES, ErrorBody, explain

OPERATOR, QA, APPROVER = "operator", "qa", "approver"
PathId = Annotated[str, Path(pattern=LIFECYCLE_ID_PATTERN, description="Lifecycle id (UUID).")]
_MAX_NUMBER_DIGITS = 64  # no request field is a number; a longer one is only ever an attack


def error_response(status: int, error: str, message: str) -> Response[str]:
    body = ErrorBody(error=error, message=message)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_NUMBER_DIGITS:
        raise json.JSONDecodeError(f"a number has more than {_MAX_NUMBER_DIGITS} digits", digits, 0)
    return int(digits)


def _no_constants(constant: str) -> Any:
    raise json.JSONDecodeError(f"{constant} is not a JSON value", constant, 0)


def parse_json_body(text: str) -> Any:
    """Powertools' body parser: a JSONDecodeError (reported as a 400) for anything the standard
    parser accepts but no client should send or boto3 could not encode later."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the request body has {size} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        document = json.loads(text, parse_int=_bounded_int, parse_constant=_no_constants)
        json.dumps(document, ensure_ascii=False).encode()  # "\ud800" parses but is not Unicode text
    except RecursionError as exc:
        raise json.JSONDecodeError("it is nested too deeply", text, 0) from exc
    except UnicodeEncodeError as exc:
        raise json.JSONDecodeError("it holds an unpaired UTF-16 surrogate escape", text, 0) from exc
    return document


def _describe_validation(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error")
            problems.append(f"body: is not valid JSON ({reason})" if reason else "body: is not valid JSON")
            continue
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
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
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        return error_response(400, InvalidRequest.error, _describe_validation(exc))

    @app.exception_handler(UnicodeDecodeError)
    def not_utf8(_: UnicodeDecodeError) -> Response[str]:
        # Raised only by Powertools decoding a base64 body (the local gateway sends bytes that are not
        # UTF-8 that way); everything after it works on text.
        return error_response(400, InvalidRequest.error, "body: is not UTF-8 encoded JSON")

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response[str]:
        if exc.status_code >= 500:
            logger.error("request failed", extra={"error": exc.message})
        return error_response(exc.status_code, exc.error, exc.message)

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        metrics.add_metric(name="UnhandledError", unit="Count", value=1)
        request_id = app.lambda_context.aws_request_id
        return error_response(500, "InternalServerError", f"internal error (request id {request_id}); it is logged")

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return error_response(404, "NotFound", "no such route")

    return app


def _refuse_other_media_types(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 415 for a POST or PUT body sent as anything but JSON. Checked before Powertools, which would
    parse forms and multipart bodies (and fail on a multipart type without a boundary)."""
    if event.get("httpMethod") not in ("POST", "PUT") or not event.get("body"):
        return None
    content_type = next((value for name, value in (event.get("headers") or {}).items()
                         if name.lower() == "content-type"), "")
    if not content_type or content_type.strip().lower().startswith(content_types.APPLICATION_JSON):
        return None
    body = ErrorBody(error=UnsupportedMediaType.error, message="Content-Type: send the body as application/json")
    return {"statusCode": UnsupportedMediaType.status_code, "body": body.model_dump_json(), "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": [content_types.APPLICATION_JSON]}}


def lambda_handler_for(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    # log_event stays off: the event holds the x-api-key header.
    @logger.inject_lambda_context(log_event=False, clear_state=True)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return _refuse_other_media_types(event) or app.resolve(event, context)

    return lambda_handler
