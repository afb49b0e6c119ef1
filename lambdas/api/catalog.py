"""Every route of the API, the function that serves it and how it is authenticated.

The single source for the deployed API Gateway (stacks/core/api.py), the local gateway (local/) and
the tests; the handlers declare the same routes with their models, and a test checks both agree.
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
