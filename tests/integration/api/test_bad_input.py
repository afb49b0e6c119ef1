"""Every kind of malformed request gets a 4xx ErrorBody that says what is wrong, and changes nothing.

Bodies that are not UTF-8 or not JSON, JSON the standard parser accepts but no client should send
(deep nesting, 5,000-digit numbers, NaN, unpaired surrogates), wrong types, oversized bodies and
properties, an S3 key over S3's limit, malformed list cursors and link tokens, unexpected failures.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.integration.api.flow import assert_body, send
from tests.support.aws import aws
from tests.support.calls import call_api
from tests.support.flow import (
    CREATION,
    PATCH,
    UNKNOWN_ID,
    Flow,
    assert_unchanged,
    create_body,
    snapshot,
)

VERDICT = {"lifecycle_id": UNKNOWN_ID, "stack_tag": "main"}
BODY_ROUTES = [
    ("POST", CREATION), ("PUT", CREATION), ("POST", PATCH), ("PUT", PATCH),
    ("POST", f"{CREATION}/{UNKNOWN_ID}/certify"), ("POST", f"{CREATION}/{UNKNOWN_ID}/approve"),
    ("POST", f"{PATCH}/{UNKNOWN_ID}/approve"),
]
def bad_request(message: str) -> tuple[int, str, str]:
    return 400, "BadRequest", message


# ----- bodies ---------------------------------------------------------------------------------------

MALFORMED = {
    "not UTF-8": (b"\xff\xfe{}", bad_request("body: is not UTF-8 encoded JSON")),
    "not JSON": ("{not json", bad_request("body: is not valid JSON (Expecting property name enclosed in double quotes)")),
    "truncated": ('{"stack_tag": "main"', bad_request("body: is not valid JSON (Expecting ',' delimiter)")),
    "nested 60 000 deep": ("[" * 60_000 + "]" * 60_000,
                            bad_request("body: is not valid JSON (it is nested too deeply)")),
    "a 5,000-digit number": ('{"stack_tag": ' + "9" * 5000 + "}",
                             bad_request("body: is not valid JSON (a number has more than 64 digits)")),
    "NaN": ('{"stack_tag": NaN}', bad_request("body: is not valid JSON (NaN is not a JSON value)")),
    "an unpaired surrogate": ('{"stack_tag": "\\ud800"}',
                              bad_request("body: is not valid JSON (it holds an unpaired UTF-16 surrogate escape)")),
    "an array": ("[]", bad_request("body: Input should be a valid dictionary or object to extract fields from")),
    "a string": ('"main"', bad_request("body: Input should be a valid dictionary or object to extract fields from")),
    "empty": ("", bad_request("body: Field required")),
    "over 128 KiB": ('{"stack_tag": "' + "x" * 131_072 + '"}',
                     (413, "PayloadTooLarge", "the request body has 131089 bytes; the limit is 131072")),
}


@pytest.mark.parametrize("method,path", BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_every_body_route_refuses_malformed_bodies_with_a_400_that_says_why(deployment, method, path):
    before = snapshot(deployment)
    for name, (body, (status, error, message)) in MALFORMED.items():
        try:
            assert_body(send(method, path, body), status, error, message)
        except AssertionError as exc:
            raise AssertionError(f"case '{name}': {exc}") from exc
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                         "multipart/form-data; boundary=x"):
        assert_body(send(method, path, "stack_tag=main", headers={"Content-Type": content_type}),
                    415, "UnsupportedMediaType", "Content-Type: send the body as application/json")
    assert_unchanged(deployment, before)


def test_wrong_types_name_the_field(deployment):
    before = snapshot(deployment)
    cases = {
        "owner": (1, "owner: Input should be a valid string"),
        "events": ("BUILD_AMI", "events: Input should be a valid list"),
        "notifications": ([{"method": "EMAIL", "target": 7}], "notifications.0.target: Input should be a valid string"),
        "properties": ({"team": 1}, "properties.team: Input should be a valid string"),
    }
    for field, (value, message) in cases.items():
        assert_body(call_api("POST", CREATION, body={**create_body(), field: value}), *bad_request(message))
    response = call_api("POST", CREATION, body=create_body(events=({"name": "BUILD_AMI", "enabled": "1" * 5000},)))
    assert_body(response, *bad_request("events.0.enabled: Input should be a valid boolean, unable to interpret input"))
    assert_unchanged(deployment, before)


# ----- sizes: nothing a request sends can make an item exceed DynamoDB's limit -------------------------

FOUR_BYTES = "\U0001f600"  # 4 bytes of UTF-8, 12 bytes when a client \u-escapes it


def _largest_properties() -> dict[str, str]:
    # 8,192 bytes of keys and values, every character 4 bytes of UTF-8: the most a request may send.
    return {f"k{n:02d}" + FOUR_BYTES * 7: FOUR_BYTES * 41 for n in range(42)} | {"z": "y"}


def _item_bytes(value: Any) -> int:
    """DynamoDB's item size: names and values, strings in UTF-8, 3 bytes per map or list plus one per
    element (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html)."""
    [(kind, inner)] = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(inner) // 2 + 2
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + _item_bytes(item) for name, item in inner.items())
    if kind == "L":
        return 3 + sum(1 + _item_bytes(item) for item in inner)
    return 1


def test_the_largest_requests_keep_the_lifecycle_item_far_below_400_kb(deployment):
    from lambdas.domain.requests import properties_bytes

    largest = _largest_properties()
    assert properties_bytes(largest) == 8192
    text = FOUR_BYTES * 256
    notifications = [{"method": "HTTPS", "target": f"https://hooks{n}.example.com/" + FOUR_BYTES * 480}
                     for n in range(10)]
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested(owner=text, product_name=text, commit_ref=text, properties=largest,
                                     notifications=notifications)
    body = {"lifecycle_id": lifecycle_id, "stack_tag": "main"}
    certified = call_api("POST", f"{CREATION}/{lifecycle_id}/certify", role="qa",
                         body={**body, "certification_status": "CERTIFIED", "properties": largest})
    assert certified.status == 200, certified.text
    approved = call_api("POST", f"{CREATION}/{lifecycle_id}/approve", role="approver",
                        body={**body, "approval_status": "APPROVED", "approver": text, "properties": largest})
    assert approved.status == 200, approved.text

    item = aws("dynamodb").get_item(TableName=deployment.lifecycle_table,
                                    Key={"pk": {"S": f"LC#{lifecycle_id}"}, "sk": {"S": "CREATION"}})["Item"]
    size = sum(len(name.encode()) + _item_bytes(value) for name, value in item.items())
    assert 3 * 8192 < size < 64 * 1024  # about 50 KB: the rest of the 400 KB is left to what workflows record


def test_properties_over_8_kib_are_refused_before_anything_is_stored(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create()["lifecycle_id"]
    before = snapshot(deployment)
    over = _largest_properties() | {"x": "y"}
    message = "properties: at most 8192 bytes of UTF-8 keys and values (8194 given)"
    assert_body(call_api("POST", CREATION, body=create_body(properties=over)), *bad_request(message))
    response = call_api("POST", f"{CREATION}/{lifecycle_id}/certify", role="qa", body={
        "lifecycle_id": lifecycle_id, "stack_tag": "main", "certification_status": "CERTIFIED", "properties": over})
    assert_body(response, *bad_request(message))
    # Two updates, each within the limit, cannot merge into a lifecycle over it.
    half = {f"a{n}": "v" * 210 for n in range(20)}  # 4,250 bytes
    assert call_api("PUT", CREATION, body={"lifecycle_id": lifecycle_id, "stack_tag": "main",
                                           "properties": half}).status == 200
    before = snapshot(deployment)
    more = {f"b{n}": "v" * 210 for n in range(20)}
    response = call_api("PUT", CREATION, body={"lifecycle_id": lifecycle_id, "stack_tag": "main", "properties": more})
    assert_body(response, *bad_request(
        "properties: a lifecycle holds at most 8192 bytes of UTF-8 keys and values (8500 with this update)"))
    assert_unchanged(deployment, before)


def test_a_component_key_over_s3s_1024_bytes_is_refused_before_s3_is_asked(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    before = snapshot(deployment)
    url = f"s3://{deployment.patch_bucket}/" + "é" * 511 + ".yml"  # 1,026 bytes of key
    response = call_api("POST", PATCH, body=flow.patch_body(lifecycle_id, patch_component_url=url))
    assert_body(response, *bad_request(
        "patch_component_url: the S3 key is longer than S3's limit of 1024 bytes of UTF-8"))
    control = f"s3://{deployment.patch_bucket}/a\x01b.yml"
    response = call_api("POST", PATCH, body=flow.patch_body(lifecycle_id, patch_component_url=control))
    assert response.status == 400 and response.json()["message"].startswith("patch_component_url: ")
    assert_unchanged(deployment, before)


# ----- query parameters and headers ---------------------------------------------------------------------

def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_a_malformed_next_token_is_a_400(deployment):
    good = {"pk": {"S": "LC#x"}, "sk": {"S": "CREATION"}, "gsi1pk": {"S": "main#ami-creation"}, "gsi1sk": {"S": "a"}}
    tokens = {
        "not base64": "%%%",
        "not JSON": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "nested deeply": base64.urlsafe_b64encode(b"[" * 760 + b"]" * 760).decode(),
        "wrong keys": _cursor({"x": {"S": "1"}}),
        "numbers instead of strings": _cursor({**good, "sk": {"N": "1"}}),
        "an empty string": _cursor({**good, "sk": {"S": ""}}),
        "a sort key over 1,024 bytes": _cursor({**good, "gsi1sk": {"S": "x" * 1025}}),
        "an unpaired surrogate": base64.urlsafe_b64encode(
            json.dumps({**good, "sk": {"S": "\ud800"}}).encode()).decode(),
    }
    for name, token in tokens.items():
        response = call_api("GET", f"{CREATION}/status", query={"stack_tag": "main", "next_token": token})
        assert response.status == 400, (name, response.text)
        assert_body(response, *bad_request("next_token: not a token this API issued"))
    response = call_api("GET", f"{CREATION}/status", query={"stack_tag": "main", "limit": "9" * 5000})
    assert_body(response, *bad_request("limit: Unable to parse input string as an integer, exceeded maximum size"))


@pytest.mark.parametrize("path", [f"{CREATION}/{UNKNOWN_ID}/timeline/data", f"{PATCH}/{UNKNOWN_ID}/timeline",
                                  "/ami-fleet/main/dashboard/data"])
def test_a_link_token_that_no_link_could_hold_is_a_400_without_a_key(deployment, path):
    for token in ("é" * 30, "v1.main.d.²²²²²²²²²²." + "A" * 43, "v1 main d 9999999999 " + "A" * 43):
        response = call_api("GET", path, role=None, query={"token": token})
        assert_body(response, *bad_request(
            f"token: '{token}' is not a link token: ask timeline-link or dashboard-link for a new link"))


def test_an_idempotency_key_must_be_printable_ascii(deployment):
    before = snapshot(deployment)
    for key in ("has space", "é", "x" * 129):
        response = send("POST", CREATION, json.dumps(create_body()), headers={"Idempotency-Key": key})
        assert_body(response, *bad_request(f"idempotency-key: '{key}' is not an idempotency key: 1 to 128 printable "
                                           "ASCII characters without spaces (a UUID will do)"))
    assert_unchanged(deployment, before)


# ----- the unexpected ---------------------------------------------------------------------------------------

def test_an_unexpected_failure_is_a_500_error_body_with_the_request_id(deployment, monkeypatch):
    from lambdas.adapters.lifecycle_repository import LifecycleRepository

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(LifecycleRepository, "get", broken)
    response = call_api("GET", f"{CREATION}/{UNKNOWN_ID}/status")
    assert_body(response, 500, "InternalServerError", "internal error (request id req-1); it is logged")
    assert "disk on fire" not in response.text


def test_an_unknown_route_is_a_404_error_body(deployment):
    assert_body(call_api("GET", "/ami-creation/nothing"), 404, "NotFound", "no such route")
