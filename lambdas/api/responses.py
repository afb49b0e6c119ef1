"""What each route answers, for the OpenAPI document: its success body and every error it can return.

The error statuses come from the functions (lambdas/api/app.py) and from API Gateway itself, whose
own responses are reshaped to the same ErrorBody (catalog.GATEWAY_RESPONSES, stacks/core/api.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from lambdas.api.catalog import GATEWAY_TOO_LARGE_LIMIT
from lambdas.domain.requests import MAX_BODY_BYTES, MAX_PROPERTIES_BYTES, ErrorBody

_ERRORS = {
    400: "Invalid input: the body is not UTF-8 JSON, or a field, parameter or header is invalid (the message "
         "names it and says why).",
    401: "Missing or invalid x-api-key header (answered by API Gateway before any function runs), or an "
         "invalid or expired signed link.",
    403: "This API key's role may not call this route.",
    404: "Unknown lifecycle (or patch run).",
    409: "A lifecycle rule refuses the request (immutable, out of order, in progress), or the lifecycle "
         "changed while the request ran: read it again and retry.",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes (a properties map holds at most "
         f"{MAX_PROPERTIES_BYTES} bytes). Over {GATEWAY_TOO_LARGE_LIMIT}, API Gateway answers 413 itself with "
         'its fixed body {"message": "Request Too Long"}, which cannot be customized.',
    415: "The body is not sent as application/json.",
    422: "This Idempotency-Key was already used with a different request body.",
    429: "Throttled (the stage's or the key's rate) or the key's daily quota is used up: retry later "
         "(answered by API Gateway).",
    500: "An unexpected failure; the message names the request id, under which it is logged.",
    502: "A workflow could not be started (the event is recorded as ERROR and can be retried with PUT), or "
         "the function failed (answered by API Gateway).",
    504: "The function did not answer within API Gateway's 29 seconds (answered by API Gateway).",
}
# Every route: invalid input, throttling, and the server faults a client can still meet.
_ALWAYS = (400, 429, 500, 502, 504)
KEY = (401, 403)  # routes that take the x-api-key header
LINK = (401,)  # routes opened with a signed link
BODY = (413, 415)  # routes with a JSON body
JSON = "application/json"


def _content(model: type[BaseModel] | None, media_type: str) -> dict[str, Any]:
    return {media_type: {"model": model}} if model else {media_type: {"schema": {"type": "string"}}}


def documented(success: dict[int, tuple[type[BaseModel] | None, str]], *errors: int,
               media_type: str = JSON) -> dict[int, dict[str, Any]]:
    """`responses=` of a route: each success status with (model, description) — model None for an HTML
    page — and the error statuses (beyond those every route has), each an ErrorBody."""
    documented_errors = {
        code: {"description": _ERRORS[code], "content": {JSON: {"model": ErrorBody}}}
        for code in sorted({*_ALWAYS, *errors})
    }
    return {
        code: {"description": description, "content": _content(model, media_type)}
        for code, (model, description) in success.items()
    } | documented_errors
