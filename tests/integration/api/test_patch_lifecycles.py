"""POST and PUT /ami-patch/lifecycles."""

import json

from tests.support.aws import aws, execution_input, executions
from tests.support.calls import call_api
from tests.support.flow import (
    AUTOMATIC_PATCH,
    PATCH,
    UNKNOWN_ID,
    Flow,
    assert_refused,
    assert_unchanged,
    snapshot,
    switches,
)


def post(body):
    return lambda: call_api("POST", PATCH, body=body)


def put(body):
    return lambda: call_api("PUT", PATCH, body=body)


def test_a_patch_bumps_the_production_ami_and_starts_patch_ami(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    production = flow.status(lifecycle_id)["approved_ami"]
    url = flow.component("patches/openssl.yaml")
    response = call_api("POST", PATCH, body=flow.patch_body(lifecycle_id, "MINOR", AUTOMATIC_PATCH,
                                                              patch_component_url=url, commit_ref="9e1f00d"))
    assert response.status == 201, response.text
    assert response.json() == {
        "lifecycle_id": lifecycle_id, "lifecycle_type": "ami-patch", "patch_number": 1, "semver": "1.1.0",
        "event_started": "PATCH_AMI", "status_path": f"/ami-patch/lifecycles/{lifecycle_id}/status",
    }
    name = f"{lifecycle_id}-p0001-patch-1"
    assert [e["name"] for e in executions(deployment, "patch")] == [name]
    started = execution_input(deployment, "patch", name)
    assert started["parent_ami"]["ami_id"] == production["ami_id"]
    assert started["patch"] == {"component_s3_uri": url, "change_description": "openssl CVE fix",
                                "semver_bump_type": "MINOR"}
    assert (started["patch_number"], started["semver"], started["commit_ref"]) == (1, "1.1.0", "9e1f00d")

    record = flow.status(lifecycle_id, "patch")
    assert (record["owner"], record["parent_ami"]["semver"]) == ("patcher", "1.0.0")
    assert [(e["name"], e["enabled"]) for e in record["events"]] == [
        ("PATCH_AMI", True), ("SMOKE_TESTS_AMI_PATCH", True), ("VULNERABILITY_SCANS_AMI_PATCH", True),
        ("MARK_FOR_PRODUCTION_PATCH", True)]


def test_a_patch_subscribes_its_own_targets(deployment):
    # The original subscribed the creation's targets instead of the patch's.
    flow = Flow(deployment)
    flow.patched()
    endpoints = {sub["Endpoint"] for sub in aws("sns").list_subscriptions_by_topic(
        TopicArn=deployment.topic_arn)["Subscriptions"]}
    assert "patcher@domain.com" in endpoints


def test_the_patch_chain_runs_the_requested_tests(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    flow.patch(lifecycle_id, "PATCH", AUTOMATIC_PATCH)
    flow.finish(lifecycle_id, kind="patch")
    smoke = flow.event(lifecycle_id, "SMOKE_TESTS_AMI_PATCH", "patch")
    assert (smoke["status"], smoke["execution_name"]) == ("IN_PROGRESS", f"{lifecycle_id}-p0001-smoke-1")
    started = execution_input(deployment, "smoke-tests", smoke["execution_name"])
    assert started["ami"]["ami_id"] == flow.status(lifecycle_id, "patch")["ami"]["ami_id"]
    assert started["lifecycle_type"] == "ami-patch"


def test_invalid_patch_requests_are_refused_and_change_nothing(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    body = flow.patch_body(lifecycle_id)
    bucket = deployment.patch_bucket
    assert_refused(deployment, {
        "component in another bucket": (post({**body, "patch_component_url": "s3://someone-elses-bucket/fix.yml"}),
                                        400, "patch_component_url", f"s3://{bucket}/"),
        "component that does not exist": (post({**body, "patch_component_url": f"s3://{bucket}/missing.yml"}), 400,
                                          "patch_component_url", "does not exist"),
        "component over https": (post({**body, "patch_component_url": f"https://{bucket}.s3.amazonaws.com/fix.yml"}),
                                 400, "patch_component_url"),
        "component not yaml": (post({**body, "patch_component_url": f"s3://{bucket}/fix.sh"}), 400,
                               "patch_component_url"),
        "MAJOR bump": (post({**body, "semver_bump_type": "MAJOR"}), 400, "semver_bump_type"),
        "the original's shape (fields under properties)": (post({
            **{k: v for k, v in body.items() if k not in ("patch_component_url", "patch_change_description",
                                                          "semver_bump_type")},
            "properties": {"patch_component_url": body["patch_component_url"], "semver_bump_type": "MINOR"},
        }), 400, "patch_component_url", "Field required"),
        "smoke tests without the patch": (post({**body, "events": switches(["SMOKE_TESTS_AMI_PATCH"], ("PATCH_AMI",))}),
                                          400, "SMOKE_TESTS_AMI_PATCH is enabled but the earlier PATCH_AMI"),
        "PATCH_AMI disabled": (post({**body, "events": switches([], ("PATCH_AMI",))}), 400,
                               "PATCH_AMI must be enabled"),
        "creation event": (post({**body, "events": switches(["PATCH_AMI", "BUILD_AMI"])}), 400,
                           "BUILD_AMI cannot be requested"),
        "approval requested as an event": (
            post({**body, "events": switches(["PATCH_AMI", "MARK_FOR_PRODUCTION_PATCH"])}), 400,
            "MARK_FOR_PRODUCTION_PATCH cannot be requested"),
        "duplicate events": (post({**body, "events": switches(["PATCH_AMI", "PATCH_AMI"])}), 400, "listed twice"),
        "lifecycle_id not a uuid": (post({**body, "lifecycle_id": "lc-1"}), 400, "lifecycle_id"),
        "stack tag of another lifecycle": (post({**body, "stack_tag": "dev"}), 400, "stack_tag", "'dev'"),
        "bad email": (post({**body, "notifications": [{"method": "EMAIL", "target": "patcher"}]}), 400,
                      "notifications.0"),
        "unknown field": (post({**body, "product_ver": "2.0.0"}), 400, "product_ver", "Extra inputs"),
        "unknown lifecycle": (post({**body, "lifecycle_id": UNKNOWN_ID}), 404, UNKNOWN_ID),
        "qa key": (lambda: call_api("POST", PATCH, role="qa", body=body), 403, "operator API key"),
        "approver key": (lambda: call_api("POST", PATCH, role="approver", body=body), 403, "operator API key"),
    })
    assert flow.status(lifecycle_id)["patch_count"] == 0


def test_a_patch_needs_a_production_approved_ami(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.certified()

    def refused(when):
        assert_refused(deployment, {when: (post(flow.patch_body(lifecycle_id)), 409,
                                           "no production-approved AMI to patch",
                                           "MARK_FOR_PRODUCTION_CREATE must be COMPLETED")})

    refused("certified, not approved yet")
    flow.approve(lifecycle_id)
    refused("while mark-for-production runs")
    flow.finish(lifecycle_id, status="ERROR", reason="backup failed")
    refused("mark-for-production in ERROR")
    flow.approve(lifecycle_id, "NOT_APPROVED")
    refused("NOT_APPROVED")


def test_a_second_patch_waits_for_the_first_to_finish(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.patched("MINOR", AUTOMATIC_PATCH)
    assert_refused(deployment, {
        "while PATCH_AMI runs": (post(flow.patch_body(lifecycle_id, "PATCH")), 409,
                                 "patch run 1 of this lifecycle is running (PATCH_AMI IN_PROGRESS)"),
    })
    flow.finish(lifecycle_id, kind="patch")
    assert_refused(deployment, {
        "while its smoke tests run": (post(flow.patch_body(lifecycle_id, "PATCH")), 409,
                                      "SMOKE_TESTS_AMI_PATCH IN_PROGRESS"),
    })
    flow.finish(lifecycle_id, kind="patch", status="FAILED", reason="sshd down")
    assert flow.patch(lifecycle_id, "PATCH")["patch_number"] == 2


# ----- PUT ----------------------------------------------------------------------------------------


def test_put_continues_the_latest_patch_run(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.patched()  # PATCH_AMI only
    flow.finish(lifecycle_id, kind="patch")
    body = flow.update(lifecycle_id, kind="patch", events=switches(["SMOKE_TESTS_AMI_PATCH"]))
    assert (body["lifecycle_type"], body["patch_number"], body["event_started"]) == ("ami-patch", 1,
                                                                                      "SMOKE_TESTS_AMI_PATCH")
    assert body["status_path"] == f"/ami-patch/lifecycles/{lifecycle_id}/status"
    assert [e["name"] for e in executions(deployment, "smoke-tests") if "-p0001-" in e["name"]] == [
        f"{lifecycle_id}-p0001-smoke-1"]


def test_put_retries_a_failed_patch_build_as_attempt_2(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.patched()
    flow.finish(lifecycle_id, kind="patch", status="FAILED", reason="component failed")
    assert flow.update(lifecycle_id, kind="patch")["event_started"] == "PATCH_AMI"
    state = flow.event(lifecycle_id, "PATCH_AMI", "patch")
    assert (state["attempt"], state["execution_name"]) == (2, f"{lifecycle_id}-p0001-patch-2")
    # The retry builds from the same parent with the same version.
    started = execution_input(deployment, "patch", state["execution_name"])
    assert (started["semver"], started["parent_ami"]["semver"]) == ("1.1.0", "1.0.0")


def test_put_applies_to_the_latest_run_only(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.patched()
    flow.finish(lifecycle_id, kind="patch", status="FAILED")
    flow.patch(lifecycle_id, "PATCH")
    flow.finish(lifecycle_id, kind="patch", status="FAILED")
    assert flow.update(lifecycle_id, kind="patch")["patch_number"] == 2
    assert flow.event(lifecycle_id, "PATCH_AMI", "patch")["execution_name"] == f"{lifecycle_id}-p0002-patch-2"
    run_1 = json.loads(json.dumps(aws("dynamodb").get_item(
        TableName=deployment.lifecycle_table, Key={"pk": {"S": f"LC#{lifecycle_id}"}, "sk": {"S": "PATCH#0001"}})))
    assert '"attempt": {"N": "1"}' in json.dumps(run_1)  # run 1 was not retried


def test_invalid_patch_puts_are_refused_and_change_nothing(deployment):
    flow = Flow(deployment)
    unpatched = flow.built()
    patched = flow.patched(product_name="Patched")
    flow.finish(patched, kind="patch")
    assert_refused(deployment, {
        "no patch run": (put({"lifecycle_id": unpatched, "stack_tag": "main"}), 409,
                         f"lifecycle {unpatched} has no patch run"),
        "unknown lifecycle": (put({"lifecycle_id": UNKNOWN_ID, "stack_tag": "main"}), 404, UNKNOWN_ID),
        "stack tag of another lifecycle": (put({"lifecycle_id": patched, "stack_tag": "dev"}), 400, "stack_tag"),
        "lifecycle_id not a uuid": (put({"lifecycle_id": "x", "stack_tag": "main"}), 400, "lifecycle_id"),
        "disable the completed PATCH_AMI": (put({"lifecycle_id": patched, "stack_tag": "main",
                                                 "events": switches([], ("PATCH_AMI",))}), 409,
                                            "PATCH_AMI is COMPLETED and immutable"),
        "scan without smoke tests": (put({"lifecycle_id": patched, "stack_tag": "main",
                                          "events": switches(["VULNERABILITY_SCANS_AMI_PATCH"])}), 400,
                                     "VULNERABILITY_SCANS_AMI_PATCH is enabled but the earlier SMOKE_TESTS_AMI_PATCH"),
        "patch fields": (put({"lifecycle_id": patched, "stack_tag": "main", "semver_bump_type": "PATCH"}), 400,
                         "semver_bump_type", "Extra inputs"),
        "qa key": (lambda: call_api("PUT", PATCH, role="qa", body={"lifecycle_id": patched, "stack_tag": "main"}),
                   403, "operator API key"),
    })


def test_a_patch_inherits_the_lineage_owner_and_targets_unless_given(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    body = {key: value for key, value in flow.patch_body(lifecycle_id).items() if key not in ("owner", "notifications")}
    assert call_api("POST", PATCH, body=body).status == 201
    record = flow.status(lifecycle_id, "patch")
    assert record["owner"] == "ownername"
    assert record["notifications"] == [{"method": "EMAIL", "target": "user@domain.com", "in_progress": False}]


def test_a_dry_run_answers_like_the_real_request_and_changes_nothing(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    # Asked before the component is uploaded: its absence is the one thing a dry run does not check.
    body = flow.patch_body(lifecycle_id, "PATCH", patch_component_url=f"s3://{deployment.patch_bucket}/later.yml")

    def dry(changes):
        return lambda: call_api("POST", PATCH, body={**body, **changes}, query={"dry_run": "true"})

    before = snapshot(deployment)
    answer = dry({})()
    assert answer.status == 200, answer.text
    assert answer.json() == {"lifecycle_id": lifecycle_id, "semver": "1.0.1",
                             "parent_ami_id": flow.status(lifecycle_id)["ami"]["ami_id"], "parent_semver": "1.0.0"}
    assert_unchanged(deployment, before)
    assert_refused(deployment, {
        "unknown lifecycle": (dry({"lifecycle_id": UNKNOWN_ID}), 404, UNKNOWN_ID),
        "another bucket": (dry({"patch_component_url": "s3://someone-elses-bucket/fix.yml"}), 400,
                           "patch_component_url", f"s3://{deployment.patch_bucket}/"),
        "stack tag of another lifecycle": (dry({"stack_tag": "dev"}), 400, "stack_tag", "'dev'"),
    })
    unproduced = flow.built()
    refused = call_api("POST", PATCH, body={**body, "lifecycle_id": unproduced}, query={"dry_run": "true"})
    assert refused.status == 409 and "no production-approved AMI to patch" in refused.json()["message"]
