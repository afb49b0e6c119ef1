"""GET .../status (one lifecycle) and GET .../lifecycles/status (a stack tag's list), creation and patch."""

import base64
import json

import pytest

from tests.support.aws import API_KEY_VALUES
from tests.support.calls import call_api
from tests.support.flow import (
    CREATION,
    PATCH,
    UNKNOWN_ID,
    Flow,
    assert_error,
    assert_refused,
    assert_unchanged,
    snapshot,
)


def listing(kind=CREATION, **query):
    response = call_api("GET", f"{kind}/status", query={"stack_tag": "main", **{k: str(v) for k, v in query.items()}})
    assert response.status == 200, response.text
    return response.json()


def test_status_returns_the_whole_lifecycle_and_no_secret(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.built(properties={"team": "platform"})
    response = call_api("GET", f"{CREATION}/{lifecycle_id}/status")
    assert response.status == 200 and response.headers["content-type"].startswith("application/json")
    record = response.json()
    assert (record["lifecycle_id"], record["lifecycle_type"], record["stack_tag"]) == (
        lifecycle_id, "ami-creation", "main")
    assert (record["semver"], record["stage"], record["properties"]) == ("1.0.0", 1, {"team": "platform"})
    assert record["ami"]["ami_id"].startswith("ami-")
    assert [event["name"] for event in record["events"]][:2] == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE"]
    assert record["events"][0]["outputs"]["image_builder"]["image_arn"].startswith("arn:aws:imagebuilder")
    assert "api_key" not in response.text and "?token=" not in response.text
    assert not any(value in response.text for value in API_KEY_VALUES.values())


def test_reads_change_nothing(deployment):
    # The original's GET status wrote ERROR_EVENT_TIMEOUT into the lifecycle as a side effect.
    flow = Flow(deployment)
    lifecycle_id = flow.create()["lifecycle_id"]
    before = snapshot(deployment)
    for path in (f"{CREATION}/{lifecycle_id}/status", f"{PATCH}/{lifecycle_id}/status",
                 f"{CREATION}/{lifecycle_id}/timeline-link"):
        assert call_api("GET", path).status == 200
    assert listing()["items"]
    assert_unchanged(deployment, before)


def test_status_errors(deployment):
    assert_refused(deployment, {
        f"{kind} {name}": (
            lambda kind=kind, path_id=path_id: call_api("GET", f"{kind}/{path_id}/status"), status, *words)
        for kind in (CREATION, PATCH)
        for name, path_id, status, *words in (
            ("not a uuid", "lc-1234", 400, "lifecycle_id"),
            ("upper-case uuid", UNKNOWN_ID.upper(), 400, "lifecycle_id"),
            ("unknown", UNKNOWN_ID, 404, f"lifecycle {UNKNOWN_ID} does not exist"),
        )
    })


def test_patch_status_is_the_latest_patch_run(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    assert call_api("GET", f"{PATCH}/{lifecycle_id}/status").json() == {
        "lifecycle_id": lifecycle_id, "patch_count": 0, "patch": None}
    flow.patch(lifecycle_id, "MINOR")
    flow.finish(lifecycle_id, kind="patch", status="FAILED")
    flow.patch(lifecycle_id, "PATCH")
    body = call_api("GET", f"{PATCH}/{lifecycle_id}/status").json()
    assert (body["patch_count"], body["patch"]["patch_number"], body["patch"]["semver"]) == (2, 2, "1.0.1")
    assert body["patch"]["events"][0]["status"] == "IN_PROGRESS"
    assert body["patch"]["parent_ami"]["semver"] == "1.0.0"


# ----- lists ---------------------------------------------------------------------------------------


def test_the_list_holds_only_the_stack_tags_lifecycles_newest_first(deployment):
    main = Flow(deployment, stack_tag="main")
    other = Flow(deployment, stack_tag="release-2024")
    created = []
    for index in range(3):
        created.append(main.create(product_name=f"P{index}")["lifecycle_id"])
        other.create(product_name=f"P{index}")
    items = listing()["items"]
    assert [item["lifecycle_id"] for item in items] == created[::-1]
    assert {item["stack_tag"] for item in items} == {"main"}
    assert listing(stack_tag="no-such-tag") == {"items": [], "next_token": None}


def test_pages_return_every_lifecycle_exactly_once(deployment):
    flow = Flow(deployment)
    created = [flow.create(product_name=f"P{index}")["lifecycle_id"] for index in range(5)]
    seen, token, pages = [], None, 0
    while True:
        page = listing(limit=2, **({"next_token": token} if token else {}))
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["lifecycle_id"] for item in page["items"]]
        token = page["next_token"]
        if not token:
            break
        assert pages < 5, "pagination does not end"
    assert seen == created[::-1]
    assert pages == 3


def test_the_patch_list_holds_patch_runs(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.patched()
    flow.built(product_name="Never patched")
    items = listing(PATCH)["items"]
    assert [(item["lifecycle_id"], item["lifecycle_type"], item["patch_number"]) for item in items] == [
        (lifecycle_id, "ami-patch", 1)]
    assert len(listing()["items"]) == 2


def forged_token(**key):
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize("kind", [CREATION, PATCH])
def test_list_errors(deployment, kind):
    flow = Flow(deployment)
    for index in range(3):
        flow.create(product_name=f"P{index}")
    token = listing(limit=1)["next_token"]
    other_listing = forged_token(pk={"S": "LC#x"}, sk={"S": "CREATION"}, gsi1pk={"S": "release#ami-creation"},
                                 gsi1sk={"S": "2024#x"})

    def get(**query):
        return lambda: call_api("GET", f"{kind}/status", query=query)

    assert_refused(deployment, {
        "no stack_tag": (get(), 400, "stack_tag", "Field required"),
        "stack_tag not a slug": (get(stack_tag="Main Branch"), 400, "stack_tag"),
        "limit 0": (get(stack_tag="main", limit="0"), 400, "limit"),
        "limit 101": (get(stack_tag="main", limit="101"), 400, "limit"),
        "limit not a number": (get(stack_tag="main", limit="ten"), 400, "limit"),
        "next_token not base64 json": (get(stack_tag="main", next_token="not-a-token!"), 400, "next_token"),
        "next_token tampered": (get(stack_tag="main", next_token=token[:-6] + "AAAAAA"), 400, "next_token"),
        "next_token with other keys": (get(stack_tag="main", next_token=forged_token(a=1)), 400, "next_token"),
        "next_token of another stack tag": (get(stack_tag="main", next_token=other_listing), 400, "next_token"),
        "next_token too long": (get(stack_tag="main", next_token="A" * 2049), 400, "next_token"),
        "qa key": (lambda: call_api("GET", f"{kind}/status", role="qa", query={"stack_tag": "main"}), 403,
                   "operator API key"),
        "no key": (lambda: call_api("GET", f"{kind}/status", role=None, query={"stack_tag": "main"}), 401,
                   "x-api-key"),
    })


def test_a_token_of_one_list_is_refused_by_the_other(deployment):
    flow = Flow(deployment)
    for index in range(2):
        flow.create(product_name=f"P{index}")
    token = listing(limit=1)["next_token"]
    assert_error(call_api("GET", f"{PATCH}/status", query={"stack_tag": "main", "next_token": token}), 400,
                 "next_token")
