"""Every route of the API, the function that serves it and how it is authenticated.

The single source for the deployed API Gateway (stacks/core/api.py), the local gateway (local/) and
the tests; the handlers declare the same routes with their models, and a test checks both agree.
Also the gateway responses: API Gateway's own answers, reshaped to the functions' ErrorBody.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Function = Literal["read", "lifecycles", "certify", "approve"]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form: {lifecycle-id}, {stack-tag}
    function: Function
    # "key": API Gateway requires a valid x-api-key. "link": a page and its data (a timeline, the
    # fleet dashboard) are opened by a browser, which cannot send a header; the handler verifies the
    # signed link's token instead.
    auth: Literal["key", "link"] = "key"


_C, _P, _F = "/ami-creation/lifecycles", "/ami-patch/lifecycles", "/ami-fleet"
ROUTES: tuple[Route, ...] = (
    Route("POST", _C, "lifecycles"),
    Route("PUT", _C, "lifecycles"),
    Route("GET", f"{_C}/status", "read"),
    Route("GET", f"{_C}/{{lifecycle-id}}/status", "read"),
    Route("POST", f"{_C}/{{lifecycle-id}}/certify", "certify"),
    Route("GET", f"{_C}/{{lifecycle-id}}/export-link", "certify"),
    Route("POST", f"{_C}/{{lifecycle-id}}/approve", "approve"),
    Route("GET", f"{_C}/{{lifecycle-id}}/timeline-link", "read"),
    Route("GET", f"{_C}/{{lifecycle-id}}/timeline", "read", auth="link"),
    Route("GET", f"{_C}/{{lifecycle-id}}/timeline/data", "read", auth="link"),
    Route("POST", _P, "lifecycles"),
    Route("PUT", _P, "lifecycles"),
    Route("GET", f"{_P}/status", "read"),
    Route("GET", f"{_P}/{{lifecycle-id}}/status", "read"),
    Route("POST", f"{_P}/{{lifecycle-id}}/approve", "approve"),
    Route("GET", f"{_P}/{{lifecycle-id}}/timeline-link", "read"),
    Route("GET", f"{_P}/{{lifecycle-id}}/timeline", "read", auth="link"),
    Route("GET", f"{_P}/{{lifecycle-id}}/timeline/data", "read", auth="link"),
    Route("GET", f"{_F}/{{stack-tag}}/dashboard-link", "read"),
    Route("GET", f"{_F}/{{stack-tag}}/dashboard", "read", auth="link"),
    Route("GET", f"{_F}/{{stack-tag}}/dashboard/data", "read", auth="link"),
)


@dataclass(frozen=True)
class GatewayResponse:
    """One API Gateway response type (aws_apigateway.ResponseType), answered with an ErrorBody.

    Types and their default statuses:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
    """

    response_type: str
    status: int | None  # None: the status API Gateway gives each response the type falls back for
    error: str
    message: str | None  # None: API Gateway's own text ($context.error.messageString)

    def body(self, message_string: str = "") -> dict[str, str]:
        """The body API Gateway renders (`message_string`: its text, for message None)."""
        return {"error": self.error, "message": self.message if self.message is not None else message_string}


GATEWAY_RESPONSES: dict[str, GatewayResponse] = {
    response.response_type: response
    for response in (
        GatewayResponse("INVALID_API_KEY", 401, "Unauthorized", "missing or invalid x-api-key header"),
        # A path or method that does not exist (default 403 "Missing Authentication Token", as our
        # methods use no IAM auth). The routes are a published contract: say so plainly.
        GatewayResponse("MISSING_AUTHENTICATION_TOKEN", 404, "NotFound",
                        "no such route: check the HTTP method and the path (including the stage)"),
        GatewayResponse("ACCESS_DENIED", 403, "Forbidden", "access denied"),
        GatewayResponse("THROTTLED", 429, "TooManyRequests", "too many requests: slow down and retry"),
        GatewayResponse("QUOTA_EXCEEDED", 429, "TooManyRequests",
                        "this API key's daily request quota is used up; it resets at midnight UTC"),
        GatewayResponse("INTEGRATION_TIMEOUT", 504, "GatewayTimeout", "Endpoint request timed out"),
        # A function that raised or answered a malformed response: 502 "Internal server error"
        # (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).
        GatewayResponse("DEFAULT_5XX", None, "InternalServerError", None),
        GatewayResponse("DEFAULT_4XX", None, "$context.error.responseType", None),
    )
}
# REQUEST_TOO_LARGE (a body over API Gateway's 10 MB payload limit) cannot be customized: API Gateway
# answers it with its fixed body, and so does the local gateway.
GATEWAY_TOO_LARGE_LIMIT = "10 MB"
GATEWAY_TOO_LARGE = (413, {"message": "Request Too Long"})


def match(method: str, path: str) -> Route | None:
    """The route serving a concrete request path (e.g. /ami-creation/lifecycles/<uuid>/status); a
    parameter segment matches any value."""
    parts = path.rstrip("/").split("/")
    for route in ROUTES:
        pattern = route.path.split("/")
        if route.method == method and len(pattern) == len(parts) and all(
            want == got or want.startswith("{") for want, got in zip(pattern, parts, strict=True)
        ):
            return route
    return None
