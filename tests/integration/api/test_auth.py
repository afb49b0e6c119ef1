"""Every route checks its caller before it looks at anything else.

Key routes: API Gateway validated an x-api-key and passes its id; the function maps the id to a role.
The operator key calls every key route but certify and export-link (QA key) and approve (approver key).
Link routes (the timeline and dashboard pages and their data) are opened by a browser and take a signed
token instead.
"""

import pytest

from lambdas.api.catalog import ROUTES
from tests.support.calls import call_api
from tests.support.flow import CREATION, PATCH, UNKNOWN_ID, assert_error, assert_unchanged, create_body, snapshot

ROLE_OF_FUNCTION = {"read": "operator", "lifecycles": "operator", "certify": "qa", "approve": "approver"}
ROLES = ("operator", "qa", "approver")
UPDATE = {"lifecycle_id": UNKNOWN_ID, "stack_tag": "main"}
PATCH_BODY = {
    "lifecycle_id": UNKNOWN_ID, "stack_tag": "main", "owner": "o",
    "notifications": [{"method": "EMAIL", "target": "user@domain.com"}],
    "events": [{"name": "PATCH_AMI", "enabled": True}],
    "patch_component_url": "s3://ami-lc-test-patch-components/fix.yml",
    "patch_change_description": "fix", "semver_bump_type": "PATCH",
}
VERDICT = {"lifecycle_id": UNKNOWN_ID, "stack_tag": "main"}
C, P, F, ID, TAG = CREATION, PATCH, "/ami-fleet", "{lifecycle-id}", "{stack-tag}"

# A valid request for each key route, and what its own role gets for it (404: the lifecycle is unknown).
VALID = {
    ("POST", C): ({"body": create_body()}, 201),
    ("PUT", C): ({"body": UPDATE}, 404),
    ("GET", f"{C}/status"): ({"query": {"stack_tag": "main"}}, 200),
    ("GET", f"{C}/{ID}/status"): ({}, 404),
    ("POST", f"{C}/{ID}/certify"): ({"body": {**VERDICT, "certification_status": "CERTIFIED"}}, 404),
    ("GET", f"{C}/{ID}/export-link"): ({}, 404),
    ("POST", f"{C}/{ID}/approve"): ({"body": {**VERDICT, "approval_status": "APPROVED", "approver": "jane"}}, 404),
    ("GET", f"{C}/{ID}/timeline-link"): ({}, 404),
    ("POST", P): ({"body": PATCH_BODY}, 404),
    ("PUT", P): ({"body": UPDATE}, 404),
    ("GET", f"{P}/status"): ({"query": {"stack_tag": "main"}}, 200),
    ("GET", f"{P}/{ID}/status"): ({}, 404),
    ("POST", f"{P}/{ID}/approve"): ({"body": {**VERDICT, "approval_status": "APPROVED", "approver": "jane"}}, 404),
    ("GET", f"{P}/{ID}/timeline-link"): ({}, 404),
    ("GET", f"{F}/{TAG}/dashboard-link"): ({}, 200),
}
KEY_ROUTES = [route for route in ROUTES if route.auth == "key"]
LINK_ROUTES = [route for route in ROUTES if route.auth == "link"]


def ids(routes):
    return [f"{route.method} {route.path}" for route in routes]


def request_for(route):
    request, expected = VALID[(route.method, route.path)]
    return route.method, route.path.replace(ID, UNKNOWN_ID).replace(TAG, "main"), request, expected


def test_the_original_13_routes_are_all_served():
    served = {(route.method, route.path) for route in ROUTES}
    original = {
        ("POST", C), ("PUT", C), ("GET", f"{C}/status"), ("GET", f"{C}/{ID}/status"), ("POST", f"{C}/{ID}/certify"),
        ("POST", f"{C}/{ID}/approve"), ("GET", f"{C}/{ID}/timeline"), ("POST", P), ("PUT", P), ("GET", f"{P}/status"),
        ("GET", f"{P}/{ID}/status"), ("GET", f"{P}/{ID}/timeline"), ("POST", f"{P}/{ID}/approve"),
    }
    assert original <= served


def test_every_key_route_has_a_request_here():
    assert {(route.method, route.path) for route in KEY_ROUTES} == set(VALID)


@pytest.mark.parametrize("route", KEY_ROUTES, ids=ids(KEY_ROUTES))
def test_only_the_routes_own_key_gets_through(deployment, route):
    method, path, request, expected = request_for(route)
    allowed = ROLE_OF_FUNCTION[route.function]
    before = snapshot(deployment)
    assert_error(call_api(method, path, role=None, **request), 401, "x-api-key")
    assert_error(call_api(method, path, role="keyidofanotherstack", **request), 401, "x-api-key")
    for role in ROLES:
        if role != allowed:
            assert_error(call_api(method, path, role=role, **request), 403, f"needs the {allowed} API key")
    assert_unchanged(deployment, before)

    response = call_api(method, path, role=allowed, **request)
    assert response.status == expected, response.text
    if expected == 404:
        assert_error(response, 404, UNKNOWN_ID)


@pytest.mark.parametrize("route", LINK_ROUTES, ids=ids(LINK_ROUTES))
def test_a_link_route_needs_a_genuine_token_not_a_key(deployment, route):
    path = route.path.replace(ID, UNKNOWN_ID).replace(TAG, "main")
    page = "dashboard" if TAG in route.path else "timeline"
    assert_error(call_api("GET", path, role="operator"), 400, "token", "Field required")
    subject, view = ("main", "d") if page == "dashboard" else (UNKNOWN_ID, "c")
    forged = f"v1.{subject}.{view}.9999999999." + "A" * 43
    for role in (None, "operator"):
        assert_error(call_api("GET", path, role=role, query={"token": forged}), 401, f"invalid {page} link")
    assert_error(call_api("GET", path, role=None, query={"token": "x" * 30}), 401, f"invalid {page} link")
