"""POST /ami-creation/lifecycles/{id}/certify (QA key)."""

import pytest

from tests.support.aws import ami_tags, drain_notifications
from tests.support.calls import call_api
from tests.support.flow import (
    CREATION,
    UNKNOWN_ID,
    Flow,
    assert_error,
    assert_refused,
    assert_unchanged,
    selectable,
    snapshot,
)

QA_CERTIFIED = "main#us-east-1#qa-certified"
QA_REQUESTED = "main#us-east-1#qa-requested"


def certify(lifecycle_id, role="qa", path_id=None, **fields):
    body = {"lifecycle_id": lifecycle_id, "stack_tag": "main", "certification_status": "CERTIFIED", **fields}
    return call_api("POST", f"{CREATION}/{path_id or lifecycle_id}/certify", role=role, body=body)


def test_certified_makes_the_ami_selectable_as_qa_certified(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    ami = flow.status(lifecycle_id)["ami"]["ami_id"]
    drain_notifications(deployment)
    response = certify(lifecycle_id, properties={"ticket": "QA-42"})
    assert response.status == 200, response.text
    assert response.json() == {"lifecycle_id": lifecycle_id, "event": "QA_CERTIFICATION_RESPONSE",
                               "status": "COMPLETED", "status_date": response.json()["status_date"]}
    state = flow.event(lifecycle_id, "QA_CERTIFICATION_RESPONSE")
    assert state["properties"] == {"ticket": "QA-42", "certification_status": "CERTIFIED"}
    assert flow.status(lifecycle_id)["stage"] == 5
    assert selectable(deployment, QA_CERTIFIED) == [ami]
    assert selectable(deployment, f"{QA_CERTIFIED}#P#My Product Name") == [ami]
    assert ami_tags(ami)["AMI_LC_QA_CERTIFICATION_STATUS"] == "CERTIFIED"
    assert any("QA_CERTIFICATION_RESPONSE is COMPLETED" in note["Message"] for note in drain_notifications(deployment))


def test_failed_certification_never_makes_the_ami_qa_certified(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    ami = flow.status(lifecycle_id)["ami"]["ami_id"]
    response = certify(lifecycle_id, certification_status="FAILED")
    assert response.status == 200, response.text
    assert response.json()["status"] == "FAILED"
    state = flow.event(lifecycle_id, "QA_CERTIFICATION_RESPONSE")
    assert (state["status"], state["reason"]) == ("FAILED", "QA certification FAILED")
    assert selectable(deployment, QA_CERTIFIED) == []
    assert selectable(deployment, f"{QA_CERTIFIED}#P#My Product Name") == []
    assert selectable(deployment, QA_REQUESTED) == [ami]  # what it did reach stays selectable
    assert ami_tags(ami)["AMI_LC_QA_CERTIFICATION_STATUS"] == "FAILED"


def test_qa_can_certify_after_a_failed_certification(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    flow.certify(lifecycle_id, "FAILED")
    assert certify(lifecycle_id).json()["status"] == "COMPLETED"
    assert flow.event(lifecycle_id, "QA_CERTIFICATION_RESPONSE")["attempt"] == 2
    assert selectable(deployment, QA_CERTIFIED) == [flow.status(lifecycle_id)["ami"]["ami_id"]]


def test_certifying_twice_is_409_and_keeps_the_first_verdict(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.certified()
    before = snapshot(deployment)
    assert_error(certify(lifecycle_id, certification_status="FAILED"), 409,
                 "QA_CERTIFICATION_RESPONSE is COMPLETED and immutable")
    assert_unchanged(deployment, before)


def test_invalid_certify_requests_are_refused_and_change_nothing(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    other_id = flow.create()["lifecycle_id"]
    cases = {
        "MAYBE": (lambda: certify(lifecycle_id, certification_status="MAYBE"), 400, "certification_status"),
        "lower case": (lambda: certify(lifecycle_id, certification_status="certified"), 400, "certification_status"),
        "missing status": (lambda: call_api("POST", f"{CREATION}/{lifecycle_id}/certify", role="qa",
                                            body={"lifecycle_id": lifecycle_id, "stack_tag": "main"}), 400,
                           "certification_status", "Field required"),
        "path is not a uuid": (lambda: certify(lifecycle_id, path_id="not-a-uuid"), 400, "lifecycle_id"),
        "path id != body id": (lambda: certify(lifecycle_id, path_id=other_id), 400, "lifecycle_id", lifecycle_id,
                               other_id),
        "stack tag of another lifecycle": (lambda: certify(lifecycle_id, stack_tag="release"), 400, "stack_tag",
                                           "'release'"),
        "api_key in the body": (lambda: certify(lifecycle_id, api_key="x"), 400, "api_key"),
        "unknown lifecycle": (lambda: certify(UNKNOWN_ID), 404, UNKNOWN_ID),
        "operator key": (lambda: certify(lifecycle_id, role="operator"), 403, "qa API key"),
        "approver key": (lambda: certify(lifecycle_id, role="approver"), 403, "qa API key"),
        "no key": (lambda: certify(lifecycle_id, role=None), 401, "x-api-key"),
    }
    assert_refused(deployment, cases)
    assert flow.event(lifecycle_id, "QA_CERTIFICATION_RESPONSE")["status"] == "NOT_STARTED"
    assert selectable(deployment, QA_CERTIFIED) == []


@pytest.mark.parametrize(("point", "message"), [
    ("built", "QA_CERTIFICATION_RESPONSE needs SMOKE_TESTS_AMI_CREATE COMPLETED first"),
    ("scanned", "QA_CERTIFICATION_RESPONSE needs QA_CERTIFICATION_REQUEST COMPLETED first"),
])
def test_certify_before_the_qa_request_completed_is_409(deployment, point, message):
    flow = Flow(deployment)
    lifecycle_id = getattr(flow, point)()
    before = snapshot(deployment)
    assert_error(certify(lifecycle_id), 409, message)
    assert_unchanged(deployment, before)


def test_certify_while_the_qa_request_runs_is_409(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.create(("BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                                "QA_CERTIFICATION_REQUEST"))["lifecycle_id"]
    for _ in range(3):
        flow.finish(lifecycle_id)
    before = snapshot(deployment)
    assert_error(certify(lifecycle_id), 409, "QA_CERTIFICATION_REQUEST is IN_PROGRESS")
    assert_unchanged(deployment, before)


# ----- GET .../export-link (QA key): where QA downloads the exported disk image ---------------------


def test_qa_gets_a_short_lived_link_to_the_exported_image(deployment):
    from urllib.parse import parse_qs, urlparse

    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    response = call_api("GET", f"{CREATION}/{lifecycle_id}/export-link", role="qa")
    assert response.status == 200, response.text
    link = response.json()
    bucket = deployment.environ["EXPORT_BUCKET"]
    assert link["export_s3_uri"] == f"s3://{bucket}/exports/x.vmdk"
    url = urlparse(link["url"])
    assert url.scheme == "https" and "exports/x.vmdk" in url.path
    assert parse_qs(url.query)["X-Amz-Expires"] == [str(30 * 60)]  # QA_DOWNLOAD_LINK_MINUTES
    assert "api_key" not in link["url"]


def test_export_link_errors(deployment):
    flow = Flow(deployment)
    scanned = flow.scanned()

    def get(lifecycle_id, role="qa"):
        return lambda: call_api("GET", f"{CREATION}/{lifecycle_id}/export-link", role=role)

    assert_refused(deployment, {
        "before the QA request": (get(scanned), 409, "QA_CERTIFICATION_REQUEST is NOT_STARTED", "no exported image"),
        "unknown lifecycle": (get(UNKNOWN_ID), 404, UNKNOWN_ID),
        "not a uuid": (get("export"), 400, "lifecycle_id"),
        "operator key": (get(scanned, "operator"), 403, "qa API key"),
        "approver key": (get(scanned, "approver"), 403, "qa API key"),
        "no key": (get(scanned, None), 401, "x-api-key"),
    })
