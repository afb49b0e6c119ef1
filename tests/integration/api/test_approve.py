"""POST /ami-creation/lifecycles/{id}/approve and POST /ami-patch/lifecycles/{id}/approve (approver key)."""

from tests.support.aws import ami_tags, drain_notifications, execution_input, executions
from tests.support.calls import call_api
from tests.support.flow import (
    APPROVER,
    AUTOMATIC_PATCH,
    CREATION,
    PATCH,
    UNKNOWN_ID,
    Flow,
    assert_error,
    assert_refused,
    assert_unchanged,
    selectable,
    snapshot,
)

PRODUCTION = "main#us-east-1#production"
PRODUCT_PRODUCTION = f"{PRODUCTION}#P#My Product Name"


def approve(lifecycle_id, kind=CREATION, role="approver", path_id=None, **fields):
    body = {"lifecycle_id": lifecycle_id, "stack_tag": "main", "approval_status": "APPROVED", "approver": APPROVER,
            **fields}
    return call_api("POST", f"{kind}/{path_id or lifecycle_id}/approve", role=role, body=body)


# ----- creation -----------------------------------------------------------------------------------


def test_approved_starts_mark_for_production_and_its_success_makes_the_ami_production(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.certified()
    ami = flow.status(lifecycle_id)["ami"]["ami_id"]
    response = approve(lifecycle_id, properties={"change": "CHG-7"})
    assert response.status == 200, response.text
    assert (response.json()["event"], response.json()["status"]) == ("MARK_FOR_PRODUCTION_CREATE", "IN_PROGRESS")
    name = f"{lifecycle_id}-production-1"
    assert [e["name"] for e in executions(deployment, "mark-for-production")] == [name]
    started = execution_input(deployment, "mark-for-production", name)
    assert (started["approver"], started["ami"]["ami_id"], started["semver"]) == (APPROVER, ami, "1.0.0")
    assert selectable(deployment, PRODUCTION) == []  # not before the workflow succeeded

    assert_refused(deployment, {  # one decision at a time: the workflow is running
        "second APPROVED": (lambda: approve(lifecycle_id), 409, "MARK_FOR_PRODUCTION_CREATE is IN_PROGRESS"),
        "NOT_APPROVED": (lambda: approve(lifecycle_id, approval_status="NOT_APPROVED"), 409, "IN_PROGRESS"),
    })

    flow.finish(lifecycle_id)
    state = flow.event(lifecycle_id, "MARK_FOR_PRODUCTION_CREATE")
    assert state["status"] == "COMPLETED"
    assert state["properties"] == {"change": "CHG-7", "approval_status": "APPROVED", "approver": APPROVER}
    record = flow.status(lifecycle_id)
    assert (record["stage"], record["approved_ami"]["ami_id"]) == (6, ami)
    assert selectable(deployment, PRODUCTION) == [ami]
    assert selectable(deployment, PRODUCT_PRODUCTION) == [ami]
    tags = ami_tags(ami)
    assert (tags["AMI_LC_APPROVAL_STATUS"], tags["AMI_LC_AMI_BACKUP"]) == ("APPROVED", "s3://backups/ami.bin")

    assert_refused(deployment, {
        "NOT_APPROVED after approval": (lambda: approve(lifecycle_id, approval_status="NOT_APPROVED"), 409,
                                        "MARK_FOR_PRODUCTION_CREATE is COMPLETED and immutable"),
    })


def test_not_approved_is_recorded_with_the_approver_and_never_selectable_as_production(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.certified()
    ami = flow.status(lifecycle_id)["ami"]["ami_id"]
    drain_notifications(deployment)
    response = approve(lifecycle_id, approval_status="NOT_APPROVED", approver="bob@example.com")
    assert response.status == 200, response.text
    assert response.json()["status"] == "FAILED"
    state = flow.event(lifecycle_id, "MARK_FOR_PRODUCTION_CREATE")
    assert state["status"] == "FAILED"
    assert state["reason"] == "NOT_APPROVED by bob@example.com"
    assert state["properties"] == {"approval_status": "NOT_APPROVED", "approver": "bob@example.com"}
    assert executions(deployment, "mark-for-production") == []
    assert selectable(deployment, PRODUCTION) == []
    assert selectable(deployment, PRODUCT_PRODUCTION) == []
    assert selectable(deployment, "main#us-east-1#qa-certified") == [ami]
    record = flow.status(lifecycle_id)
    assert (record["stage"], record["approved_ami"]) == (5, None)
    assert ami_tags(ami)["AMI_LC_APPROVAL_STATUS"] == "NOT_APPROVED"
    notes = drain_notifications(deployment)
    assert any("MARK_FOR_PRODUCTION_CREATE is FAILED" in note["Message"] for note in notes)


def test_a_failed_mark_for_production_leaves_the_ami_not_selectable(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.certified()
    flow.approve(lifecycle_id)
    flow.finish(lifecycle_id, status="ERROR", reason="backup failed")
    assert flow.event(lifecycle_id, "MARK_FOR_PRODUCTION_CREATE")["status"] == "ERROR"
    assert selectable(deployment, PRODUCTION) == []
    assert flow.status(lifecycle_id)["approved_ami"] is None


def test_invalid_approve_requests_are_refused_and_change_nothing(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.certified()
    other_id = flow.create()["lifecycle_id"]
    assert_refused(deployment, {
        "the original CLI's FAILED": (lambda: approve(lifecycle_id, approval_status="FAILED"), 400, "approval_status"),
        "missing approver": (lambda: call_api("POST", f"{CREATION}/{lifecycle_id}/approve", role="approver", body={
            "lifecycle_id": lifecycle_id, "stack_tag": "main", "approval_status": "APPROVED"}), 400, "approver",
            "Field required"),
        "empty approver": (lambda: approve(lifecycle_id, approver=""), 400, "approver"),
        "path is not a uuid": (lambda: approve(lifecycle_id, path_id="1234"), 400, "lifecycle_id"),
        "path id != body id": (lambda: approve(lifecycle_id, path_id=other_id), 400, "lifecycle_id", other_id),
        "stack tag of another lifecycle": (lambda: approve(lifecycle_id, stack_tag="dev"), 400, "stack_tag", "'dev'"),
        "unknown lifecycle": (lambda: approve(UNKNOWN_ID), 404, UNKNOWN_ID),
        "operator key": (lambda: approve(lifecycle_id, role="operator"), 403, "approver API key"),
        "qa key": (lambda: approve(lifecycle_id, role="qa"), 403, "approver API key"),
        "no key": (lambda: approve(lifecycle_id, role=None), 401, "x-api-key"),
    })
    assert flow.event(lifecycle_id, "MARK_FOR_PRODUCTION_CREATE")["status"] == "NOT_STARTED"


def test_approve_before_qa_certification_is_409(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.qa_requested()
    assert_refused(deployment, {
        "APPROVED": (lambda: approve(lifecycle_id), 409,
                     "MARK_FOR_PRODUCTION_CREATE needs QA_CERTIFICATION_RESPONSE COMPLETED first (it is NOT_STARTED)"),
        "NOT_APPROVED": (lambda: approve(lifecycle_id, approval_status="NOT_APPROVED"), 409,
                         "needs QA_CERTIFICATION_RESPONSE COMPLETED first"),
    })
    flow.certify(lifecycle_id, "FAILED")
    assert_refused(deployment, {
        "after a failed certification": (lambda: approve(lifecycle_id), 409, "(it is FAILED)"),
    })


# ----- patch ----------------------------------------------------------------------------------------


def patch_ready_for_approval(flow):
    """A production lifecycle whose patch run 1 passed its smoke tests and scans."""
    lifecycle_id = flow.in_production()
    flow.patch(lifecycle_id, "MINOR", AUTOMATIC_PATCH)
    flow.run_chain(lifecycle_id, "patch")
    return lifecycle_id


def test_an_approved_patch_becomes_the_production_ami(deployment):
    flow = Flow(deployment)
    lifecycle_id = patch_ready_for_approval(flow)
    original = flow.status(lifecycle_id)["ami"]["ami_id"]
    patched = flow.status(lifecycle_id, "patch")["ami"]["ami_id"]
    response = approve(lifecycle_id, PATCH)
    assert response.status == 200, response.text
    assert (response.json()["event"], response.json()["status"]) == ("MARK_FOR_PRODUCTION_PATCH", "IN_PROGRESS")
    name = f"{lifecycle_id}-p0001-production-1"
    assert execution_input(deployment, "mark-for-production", name)["approver"] == APPROVER

    flow.finish(lifecycle_id, kind="patch")
    assert flow.event(lifecycle_id, "MARK_FOR_PRODUCTION_PATCH", "patch")["status"] == "COMPLETED"
    assert selectable(deployment, PRODUCTION) == [patched, original]  # 1.1.0 ranks above 1.0.0
    assert flow.status(lifecycle_id)["approved_ami"] == {"ami_id": patched, "region": "us-east-1", "name": None,
                                                         "semver": "1.1.0"}
    assert ami_tags(patched)["AMI_LC_APPROVAL_STATUS"] == "APPROVED"


def test_a_rejected_patch_leaves_production_as_it_was(deployment):
    flow = Flow(deployment)
    lifecycle_id = patch_ready_for_approval(flow)
    original = flow.status(lifecycle_id)["ami"]["ami_id"]
    response = approve(lifecycle_id, PATCH, approval_status="NOT_APPROVED")
    assert response.json()["status"] == "FAILED"
    state = flow.event(lifecycle_id, "MARK_FOR_PRODUCTION_PATCH", "patch")
    assert (state["status"], state["properties"]["approver"]) == ("FAILED", APPROVER)
    assert selectable(deployment, PRODUCTION) == [original]
    assert flow.status(lifecycle_id)["approved_ami"]["ami_id"] == original


def test_patch_approve_errors(deployment):
    flow = Flow(deployment)
    unpatched = flow.in_production()
    assert_refused(deployment, {
        "no patch run": (lambda: approve(unpatched, PATCH), 409, f"lifecycle {unpatched} has no patch run"),
        "unknown lifecycle": (lambda: approve(UNKNOWN_ID, PATCH), 404, UNKNOWN_ID),
        "qa key": (lambda: approve(unpatched, PATCH, role="qa"), 403, "approver API key"),
        "operator key": (lambda: approve(unpatched, PATCH, role="operator"), 403, "approver API key"),
        "no key": (lambda: approve(unpatched, PATCH, role=None), 401, "x-api-key"),
        "FAILED": (lambda: approve(unpatched, PATCH, approval_status="FAILED"), 400, "approval_status"),
        "path id != body id": (lambda: approve(unpatched, PATCH, path_id=UNKNOWN_ID), 400, "lifecycle_id"),
    })
    flow.patch(unpatched)  # only PATCH_AMI requested: smoke tests and scans never ran
    flow.finish(unpatched, kind="patch")
    assert_refused(deployment, {
        "patch not tested": (lambda: approve(unpatched, PATCH), 409,
                             "MARK_FOR_PRODUCTION_PATCH needs SMOKE_TESTS_AMI_PATCH COMPLETED first"),
        "stack tag of another lifecycle": (lambda: approve(unpatched, PATCH, stack_tag="dev"), 400, "stack_tag"),
    })


def test_patch_approve_while_the_patch_builds_is_409(deployment):
    flow = Flow(deployment)
    lifecycle_id = flow.in_production()
    flow.patch(lifecycle_id, "MINOR", AUTOMATIC_PATCH)
    before = snapshot(deployment)
    assert_error(approve(lifecycle_id, PATCH), 409, "PATCH_AMI is IN_PROGRESS")
    assert_unchanged(deployment, before)
