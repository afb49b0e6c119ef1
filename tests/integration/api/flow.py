"""What only the API tests need; the lifecycle driver and the state capture are tests/support/flow.py."""

from __future__ import annotations

from urllib.parse import parse_qsl

from tests.support.calls import ApiResponse, call_api


def open_link(path: str, *, role: str | None = None) -> ApiResponse:
    """GET a path as the API hands it out (timeline-link's `path` carries ?token=...), as a browser
    would: no key unless `role` is given."""
    route, _, query = path.partition("?")
    return call_api("GET", route, role=role, query=dict(parse_qsl(query)) or None)
