"""POST and PUT /ami-creation/lifecycles."""

import json

import pytest

from tests.support.aws import aws, drain_notifications, execution_input, executions
from tests.support.calls import call_api
from tests.support.flow import (
    AUTOMATIC_CREATION,
    CREATION,
    UNKNOWN_ID,
    Flow,
    assert_error,
    assert_refused,
    assert_unchanged,
    create_body,
    snapshot,
    switches,
)


def subscriptions(deployment):
    sns = aws("sns")
    return {
        sub["Endpoint"]: sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])["Attributes"]
        for sub in sns.list_subscriptions_by_topic(TopicArn=deployment.topic_arn)["Subscriptions"]
        if sub["Protocol"] != "sqs"
    }


# ----- POST ---------------------------------------------------------------------------------------


def test_create_starts_the_build_and_says_where_to_follow_it(deployment):
    response = call_api("POST", CREATION, body=create_body(events=AUTOMATIC_CREATION))
    assert response.status == 201, response.text
    body = response.json()
    lifecycle_id = body["lifecycle_id"]
    assert body == {
        "lifecycle_id": lifecycle_id, "lifecycle_type": "ami-creation", "patch_number": None, "semver": "1.0.0",
        "event_started": "BUILD_AMI", "status_path": f"/ami-creation/lifecycles/{lifecycle_id}/status",
    }
    [execution] = executions(deployment, "build")
    assert execution["name"] == f"{lifecycle_id}-build-1"
    started = execution_input(deployment, "build", execution["name"])
    assert (started["lifecycle_id"], started["event"], started["attempt"], started["semver"]) == (
        lifecycle_id, "BUILD_AMI", 1, "1.0.0")
    assert "api_key" not in json.dumps(started)

    record = Flow(deployment).status(lifecycle_id)
    assert {state["name"]: (state["enabled"], state["status"]) for state in record["events"]} == {
        "BUILD_AMI": (True, "IN_PROGRESS"),
        "SMOKE_TESTS_AMI_CREATE": (True, "NOT_STARTED"),
        "VULNERABILITY_SCANS_AMI_CREATE": (True, "NOT_STARTED"),
        "QA_CERTIFICATION_REQUEST": (True, "NOT_STARTED"),
        "QA_CERTIFICATION_RESPONSE": (True, "NOT_STARTED"),
        "MARK_FOR_PRODUCTION_CREATE": (True, "NOT_STARTED"),
    }
    assert (record["owner"], record["product_name"], record["commit_ref"]) == (
        "ownername", "My Product Name", "4f2a9c1")


def test_create_subscribes_each_target_once_with_a_filter_on_its_id(deployment):
    flow = Flow(deployment)
    flow.create()
    flow.create()
    subscribed = subscriptions(deployment)
    assert list(subscribed) == ["user@domain.com"]
    policy = json.loads(subscribed["user@domain.com"]["FilterPolicy"])
    assert list(policy) == ["recipients"] and len(policy["recipients"]) == 1  # never grows with lifecycles
    # A start is announced only to targets that asked for starts (none here): nothing is sent yet.
    assert drain_notifications(deployment) == []
    flow.create(notifications=[{"method": "EMAIL", "target": "user@domain.com", "in_progress": True}])
    assert list(subscriptions(deployment)) == ["user@domain.com"]  # the same subscription
    [note] = drain_notifications(deployment)
    assert "BUILD_AMI is IN_PROGRESS" in note["Message"]
    assert json.loads(note["MessageAttributes"]["recipients"]["Value"]) == policy["recipients"]


def test_only_build_is_required(deployment):
    body = Flow(deployment).create(("BUILD_AMI",))
    assert body["event_started"] == "BUILD_AMI"
    record = Flow(deployment).status(body["lifecycle_id"])
    assert [state["name"] for state in record["events"] if not state["enabled"]] == [
        "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"]


BAD_CREATE = {
    "product_ver leading zero": ({"product_ver": "01.0.0"}, "product_ver"),
    "product_ver two parts": ({"product_ver": "1.0"}, "product_ver"),
    "product_ver v prefix": ({"product_ver": "v1.0.0"}, "product_ver"),
    "stack_tag upper case": ({"stack_tag": "Main"}, "stack_tag"),
    "stack_tag with slash": ({"stack_tag": "feature/x"}, "stack_tag"),
    "stack_tag trailing dash": ({"stack_tag": "main-"}, "stack_tag"),
    "bad email": ({"notifications": [{"method": "EMAIL", "target": "user.domain.com"}]}, "notifications.0", "email"),
    "http target": ({"notifications": [{"method": "HTTPS", "target": "http://hooks.example.com/ami"}]},
                    "notifications.0", "https://"),
    "https target with query": ({"notifications": [{"method": "HTTPS", "target": "https://h.example.com/x?api_key=1"}]},
                                "notifications.0", "query string"),
    "HTTP method": ({"notifications": [{"method": "HTTP", "target": "http://hooks.example.com"}]},
                    "notifications.0.method"),
    "no notifications": ({"notifications": []}, "notifications"),
    "unknown event (the original's spelling)": ({"events": switches(["BUILD_AMI", "VULNERABILIY_SCANS_AMI_CREATE"])},
                                                "events.1.name"),
    "duplicate events": ({"events": switches(["BUILD_AMI", "BUILD_AMI"])}, "events", "BUILD_AMI is listed twice"),
    "smoke without build": ({"events": switches(["SMOKE_TESTS_AMI_CREATE"], ("BUILD_AMI",))},
                            "events", "SMOKE_TESTS_AMI_CREATE is enabled but the earlier BUILD_AMI"),
    "scan without smoke": ({"events": switches(["BUILD_AMI", "VULNERABILITY_SCANS_AMI_CREATE"])},
                           "VULNERABILITY_SCANS_AMI_CREATE is enabled but the earlier SMOKE_TESTS_AMI_CREATE"),
    "build disabled": ({"events": switches([], ("BUILD_AMI",))}, "events", "BUILD_AMI must be enabled"),
    "manual event requested": ({"events": switches(["BUILD_AMI", "QA_CERTIFICATION_RESPONSE"])},
                               "QA_CERTIFICATION_RESPONSE cannot be requested"),
    "patch event requested": ({"events": switches(["BUILD_AMI", "PATCH_AMI"])}, "PATCH_AMI cannot be requested"),
    "no events": ({"events": []}, "events"),
    "api_key in the body (the original's auth)": ({"api_key": "secret"}, "api_key", "Extra inputs are not permitted"),
    "lifecycle_id on create": ({"lifecycle_id": UNKNOWN_ID}, "lifecycle_id", "Extra inputs"),
    "empty owner": ({"owner": ""}, "owner"),
    "owner with a control character": ({"owner": "own\u0000er"}, "owner", "control characters"),
    "product_name too long": ({"product_name": "p" * 257}, "product_name"),
    "properties not strings": ({"properties": {"a": {"b": 1}}}, "properties.a"),
    "too many properties": ({"properties": {f"k{i}": "v" for i in range(51)}}, "properties"),
}


def test_an_invalid_create_is_400_naming_the_field_and_creates_nothing(deployment):
    cases = {
        name: (lambda change=change: call_api("POST", CREATION, body=create_body(**change)), 400, *words)
        for name, (change, *words) in BAD_CREATE.items()
    }
    for missing in ("stack_tag", "owner", "product_name", "product_ver", "notifications", "events"):
        body = {key: value for key, value in create_body().items() if key != missing}
        cases[f"no {missing}"] = (lambda body=body: call_api("POST", CREATION, body=body), 400, missing,
                                  "Field required")
    for raw in ("{not json", '{"stack_tag": "main",}'):
        cases[f"malformed {raw}"] = (lambda raw=raw: call_api("POST", CREATION, raw_body=raw), 400, "JSON")
    for raw in ("[1, 2]", "null", ""):
        cases[f"not an object: {raw!r}"] = (lambda raw=raw: call_api("POST", CREATION, raw_body=raw), 400, "body")
    # no record, no execution, no subscription, no version used, no notification
    assert_refused(deployment, cases)


def test_malformed_json_is_described_as_the_body(deployment):
    assert assert_error(call_api("POST", CREATION, raw_body="{not json"), 400)["message"].startswith("body")


def test_a_target_with_a_trailing_newline_is_400(deployment):
    before = snapshot(deployment)
    body = create_body(notifications=[{"method": "EMAIL", "target": "user@domain.com\n"}])
    assert_error(call_api("POST", CREATION, body=body), 400, "notifications")
    assert_unchanged(deployment, before)


# ----- PUT ----------------------------------------------------------------------------------------


def test_put_enables_the_next_event_after_a_build(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.built()
    body = flow.update(lifecycle_id, events=switches(["SMOKE_TESTS_AMI_CREATE"]))
    assert (body["event_started"], body["semver"]) == ("SMOKE_TESTS_AMI_CREATE", "1.0.0")
    assert [e["name"] for e in executions(deployment, "smoke-tests")] == [f"{lifecycle_id}-smoke-1"]
    started = execution_input(deployment, "smoke-tests", f"{lifecycle_id}-smoke-1")
    assert started["ami"]["ami_id"] == flow.status(lifecycle_id)["ami"]["ami_id"]


@pytest.mark.parametrize("verdict", ["FAILED", "ERROR"])
def test_put_retries_a_failed_build_as_attempt_2(deployment, verdict):
    flow = Flow(deployment)
    lifecycle_id = flow.create()["lifecycle_id"]
    flow.finish(lifecycle_id, status=verdict, reason="recipe failed")
    assert flow.event(lifecycle_id, "BUILD_AMI")["status"] == verdict
    assert flow.update(lifecycle_id)["event_started"] == "BUILD_AMI"
    state = flow.event(lifecycle_id, "BUILD_AMI")
    assert (state["status"], state["attempt"], state["reason"]) == ("IN_PROGRESS", 2, None)
    assert state["execution_name"] == f"{lifecycle_id}-build-2"
    assert sorted(e["name"] for e in executions(deployment, "build")) == [
        f"{lifecycle_id}-build-1", f"{lifecycle_id}-build-2"]
    flow.finish(lifecycle_id)
    assert flow.status(lifecycle_id)["ami"] is not None


def test_put_retries_a_failed_smoke_test_and_the_chain_goes_on(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create(AUTOMATIC_CREATION[:3])["lifecycle_id"]
    flow.finish(lifecycle_id)
    flow.finish(lifecycle_id, status="FAILED", reason="sshd check failed")
    assert flow.event(lifecycle_id, "VULNERABILITY_SCANS_AMI_CREATE")["status"] == "NOT_STARTED"
    assert flow.update(lifecycle_id)["event_started"] == "SMOKE_TESTS_AMI_CREATE"
    assert flow.event(lifecycle_id, "SMOKE_TESTS_AMI_CREATE")["execution_name"] == f"{lifecycle_id}-smoke-2"
    flow.finish(lifecycle_id)
    assert flow.event(lifecycle_id, "VULNERABILITY_SCANS_AMI_CREATE")["status"] == "IN_PROGRESS"


def test_put_while_an_event_runs_records_the_switch_but_starts_nothing(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create()["lifecycle_id"]
    body = flow.update(lifecycle_id, events=switches(["SMOKE_TESTS_AMI_CREATE"]))
    assert body["event_started"] is None
    assert executions(deployment, "smoke-tests") == []
    assert len(executions(deployment, "build")) == 1
    flow.finish(lifecycle_id)  # the build's result chains into the newly enabled smoke tests
    assert flow.event(lifecycle_id, "SMOKE_TESTS_AMI_CREATE")["status"] == "IN_PROGRESS"


def test_a_second_put_while_a_retry_runs_starts_no_second_execution(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create()["lifecycle_id"]
    flow.finish(lifecycle_id, status="FAILED")
    flow.update(lifecycle_id)
    assert flow.update(lifecycle_id)["event_started"] is None
    assert len(executions(deployment, "build")) == 2
    assert flow.event(lifecycle_id, "BUILD_AMI")["attempt"] == 2


def test_put_changes_owner_notifications_and_merges_properties(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create(properties={"team": "platform", "ticket": "A-1"})["lifecycle_id"]
    flow.update(lifecycle_id, owner="newowner", properties={"ticket": "A-2"},
                notifications=[{"method": "HTTPS", "target": "https://hooks.example.com/ami"}])
    record = flow.status(lifecycle_id)
    assert record["owner"] == "newowner"
    assert record["properties"] == {"team": "platform", "ticket": "A-2"}
    assert record["notifications"] == [{"method": "HTTPS", "target": "https://hooks.example.com/ami", "in_progress": False}]
    assert "https://hooks.example.com/ami" in subscriptions(deployment)


def put_error_cases(lifecycle_id):
    return {
        "lifecycle_id not a uuid": ({"lifecycle_id": "not-a-uuid"}, 400, "lifecycle_id"),
        "upper-case uuid": ({"lifecycle_id": lifecycle_id.upper()}, 400, "lifecycle_id"),
        "stack tag of another lifecycle": ({"stack_tag": "other"}, 400, "stack_tag", "'other'", "'main'"),
        "field of create only": ({"product_ver": "2.0.0"}, 400, "product_ver", "Extra inputs"),
        "gap in the events": ({"events": switches(["VULNERABILITY_SCANS_AMI_CREATE"])}, 400,
                              "VULNERABILITY_SCANS_AMI_CREATE is enabled but the earlier SMOKE_TESTS_AMI_CREATE"),
        "duplicate events": ({"events": switches(["SMOKE_TESTS_AMI_CREATE", "SMOKE_TESTS_AMI_CREATE"])}, 400,
                             "listed twice"),
        "bad email": ({"notifications": [{"method": "EMAIL", "target": "nope"}]}, 400, "notifications.0"),
        "unknown lifecycle": ({"lifecycle_id": UNKNOWN_ID}, 404, UNKNOWN_ID),
        "disable a completed event": ({"events": switches([], ("BUILD_AMI",))}, 409,
                                      "BUILD_AMI is COMPLETED and immutable"),
    }


def test_an_invalid_put_is_refused_and_changes_nothing(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.built()
    for name, (change, status, *words) in put_error_cases(lifecycle_id).items():
        before = snapshot(deployment)
        body = {"lifecycle_id": lifecycle_id, "stack_tag": "main", **change}
        try:
            assert_error(call_api("PUT", CREATION, body=body), status, *words)
            assert_unchanged(deployment, before)
        except AssertionError as exc:
            raise AssertionError(f"case '{name}': {exc}") from exc


def test_put_cannot_disable_the_event_in_progress(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create()["lifecycle_id"]
    before = snapshot(deployment)
    response = call_api("PUT", CREATION, body={"lifecycle_id": lifecycle_id, "stack_tag": "main",
                                               "events": switches([], ("BUILD_AMI",))})
    assert_error(response, 409, "BUILD_AMI is IN_PROGRESS")
    assert_unchanged(deployment, before)


def test_put_with_a_patch_event_is_400(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.built()
    before = snapshot(deployment)
    response = call_api("PUT", CREATION, body={"lifecycle_id": lifecycle_id, "stack_tag": "main",
                                               "events": switches(["PATCH_AMI"])})
    assert_error(response, 400, "PATCH_AMI")
    assert_unchanged(deployment, before)


def test_put_cannot_switch_off_certification(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    before = snapshot(deployment)
    response = call_api("PUT", CREATION, body={"lifecycle_id": lifecycle_id, "stack_tag": "main",
                                               "events": switches([], ("QA_CERTIFICATION_RESPONSE",))})
    assert_error(response, 400, "QA_CERTIFICATION_RESPONSE cannot be requested")
    assert_unchanged(deployment, before)


def test_put_cannot_grow_properties_beyond_the_limit(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create(properties={f"first-{index}": "v" for index in range(50)})["lifecycle_id"]
    before = snapshot(deployment)
    response = call_api("PUT", CREATION, body={"lifecycle_id": lifecycle_id, "stack_tag": "main",
                                               "properties": {f"more-{index}": "v" for index in range(50)}})
    assert_error(response, 400, "properties")
    assert_unchanged(deployment, before)
