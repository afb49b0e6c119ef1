"""Every other operation, driving lifecycles forward with the workflows' results (tests/support/flow.py)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from cli.ami_cli import plan
from tests.support.aws import API_KEY_IDS, executions
from tests.support.components import OPENSSL_PATCH as COMPONENT
from tests.support.flow import complete_current as advance
from tests.support.flow import production_lifecycle as production
from tests.support.flow import status

CREATE = ["--mode", "BATCH", "--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "ownername",
          "--productVer", "1.0.0", "--productName", "My Product Name", "--notifications", "EMAIL::user@domain.com"]


def _enabled(record: dict) -> list[str]:
    return [event["name"] for event in record["events"] if event["enabled"]]


def test_creation_lifecycle_through_every_creation_operation(cli, deployment, gateway):
    created = cli(*CREATE, "--events", "SMOKE_TESTS", "--properties", "ticket::OPS-42", "--commitRef", "abc123",
                  "--output", "json")
    assert created.code == 0, created.err
    body = created.json()
    lifecycle_id = body["lifecycle_id"]
    assert (body["event_started"], body["semver"]) == ("BUILD_AMI", "1.0.0")
    record = status(lifecycle_id)
    assert record["properties"] == {"ticket": "OPS-42"} and record["commit_ref"] == "abc123"
    assert advance(deployment, lifecycle_id) == "BUILD_AMI"

    # Enable the later events while the smoke tests run: nothing new starts now.
    update = cli("--operation", "AMI_CREATE_UPDATE", "--stackTag", "main", "--lifecycleId", lifecycle_id,
                 "--events", "VULNERABILITY_SCANS", "--events", "QA_CERTIFICATION_REQUEST", "--owner", "new-owner")
    assert update.code == 0, update.err
    assert update.out.startswith(f"Lifecycle {lifecycle_id} (ami-creation, semver 1.0.0): no event started.")
    record = status(lifecycle_id)
    assert record["owner"] == "new-owner"
    assert _enabled(record)[:4] == ["BUILD_AMI", "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE",
                                    "QA_CERTIFICATION_REQUEST"]
    assert [advance(deployment, lifecycle_id) for _ in range(3)] == [
        "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST"]

    export = cli("--operation", "AMI_QA_EXPORT_LINK", "--lifecycleId", lifecycle_id, "--output", "json")
    assert export.code == 0, export.err
    assert export.json()["url"].startswith("https://") and "exports/x.vmdk" in export.json()["url"]
    assert [(r.path, r.status, r.function) for r in export.requests] == [
        (f"/api/ami-creation/lifecycles/{lifecycle_id}/export-link", 200, "certify")]

    certified = cli("--operation", "AMI_QA_CERTIFICATION", "--stackTag", "main", "--lifecycleId", lifecycle_id,
                    "--certificationStatus", "CERTIFIED", "--properties", "report::https://qa.example.com/r/1")
    assert certified.code == 0, certified.err
    assert certified.out.startswith(f"Lifecycle {lifecycle_id}: QA_CERTIFICATION_RESPONSE COMPLETED (")
    assert [(r.path, r.function) for r in certified.requests] == [
        (f"/api/ami-creation/lifecycles/{lifecycle_id}/certify", "certify")]

    approved = cli("--operation", "AMI_APPROVAL_CREATE", "--stackTag", "main", "--lifecycleId", lifecycle_id,
                   "--approvalStatusAmiCreation", "APPROVED", "--output", "json")
    assert approved.code == 0, approved.err
    assert approved.json()["event"] == "MARK_FOR_PRODUCTION_CREATE" and approved.json()["status"] == "IN_PROGRESS"
    mark = status(lifecycle_id)["events"][5]
    assert mark["properties"] == {"approval_status": "APPROVED", "approver": "ci-user"}  # $USER by default
    assert advance(deployment, lifecycle_id) == "MARK_FOR_PRODUCTION_CREATE"
    assert status(lifecycle_id)["stage"] == 6

    listed = cli("--operation", "AMI_GET_STATUSES", "--stackTag", "main", "--output", "json")
    assert listed.code == 0, listed.err
    assert [item["lifecycle_id"] for item in listed.json()["items"]] == [lifecycle_id]
    assert listed.json()["next_token"] is None


def test_statuses_follow_every_page(cli, deployment, monkeypatch):
    monkeypatch.setattr(plan, "STATUS_PAGE_LIMIT", 2)  # 3 lifecycles: two pages, whatever the server's default
    ids = [cli(*CREATE, "--events", "AMI_BUILD_ONLY", "--output", "json").json()["lifecycle_id"] for _ in range(3)]
    listed = cli("--operation", "AMI_GET_STATUSES", "--stackTag", "main", "--output", "json")
    assert listed.code == 0, listed.err
    assert [r.path for r in listed.requests] == ["/api/ami-creation/lifecycles/status"] * 2
    assert sorted(item["lifecycle_id"] for item in listed.json()["items"]) == sorted(ids)
    text = cli("--operation", "AMI_GET_STATUSES")  # the deployment's stack tag, in words
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0] == "3 ami-creation lifecycles on stack tag main, newest first:"
    assert sorted(line.split()[0] for line in lines[1:]) == sorted(ids)
    assert sorted(line.split("  ")[2] for line in lines[1:]) == [f"My Product Name {major}.0.0" for major in (1, 2, 3)]
    assert all(" no AMI yet  BUILD_AMI IN_PROGRESS  (created 20" in line and line.endswith(" UTC)") for line in lines[1:])


def test_patch_operations(cli, deployment, workdir: Path):
    lifecycle_id = production(deployment)
    (workdir / "openssl.yml").write_text(COMPONENT)
    patched = cli("--operation", "AMI_PATCH", "--stackTag", "main", "--lifecycleId", lifecycle_id,
                  "--owner", "patcher", "--notifications", "EMAIL::user@domain.com", "--events", "AMI_PATCH_ONLY",
                  "--patchComponent", "openssl.yml", "--patchChangeDescription", "openssl security update",
                  "--semverBumpType", "MINOR", "--output", "json")
    assert patched.code == 0, patched.err
    assert (patched.json()["semver"], patched.json()["patch_number"], patched.json()["event_started"]) == (
        "1.1.0", 1, "PATCH_AMI")
    patch = status(lifecycle_id, "ami-patch")
    url = patch["patch"]["component_s3_uri"]
    bucket, _, key = url.removeprefix("s3://").partition("/")
    assert bucket == deployment.patch_bucket and key.startswith(f"{lifecycle_id}/") and key.endswith("-openssl.yml")
    stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert stored == COMPONENT.encode()
    assert f"uploaded openssl.yml to {url}" in patched.err
    assert _enabled(patch) == ["PATCH_AMI", "MARK_FOR_PRODUCTION_PATCH"]
    assert advance(deployment, lifecycle_id, "ami-patch") == "PATCH_AMI"

    resumed = cli("--operation", "AMI_PATCH_UPDATE", "--stackTag", "main", "--lifecycleId", lifecycle_id,
                  "--events", "SMOKE_TESTS", "--events", "VULNERABILITY_SCANS")
    assert resumed.code == 0, resumed.err
    assert resumed.out.startswith(f"Lifecycle {lifecycle_id} patch run 1 (ami-patch, semver 1.1.0): "
                                  "SMOKE_TESTS_AMI_PATCH started.")
    assert [advance(deployment, lifecycle_id, "ami-patch") for _ in range(2)] == [
        "SMOKE_TESTS_AMI_PATCH", "VULNERABILITY_SCANS_AMI_PATCH"]

    shown = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", lifecycle_id,
                "--lifecycleType", "ami-patch")
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0] == f"Patch run 1 of lifecycle {lifecycle_id} (stack tag main)"
    assert lines[1] == "  Product: My Product Name 1.1.0 (product version 1.0.0), owner patcher"
    assert lines[3].startswith("  Patch:   MINOR of ami-") and lines[3].endswith(" (1.0.0): openssl security update")
    assert lines[-2:] == ["Next: MARK_FOR_PRODUCTION_PATCH waits for an approver's decision. To approve:",
                          f"  python3 cli/api-cli.py --operation AMI_APPROVAL_PATCH --stackTag main --lifecycleId "
                          f"{lifecycle_id} --approvalStatusAmiPatch APPROVED"]

    rejected = cli("--operation", "AMI_APPROVAL_PATCH", "--stackTag", "main", "--lifecycleId", lifecycle_id,
                   "--approvalStatusAmiPatch", "FAILED", "--approver", "ana@example.com")
    assert rejected.code == 0, rejected.err
    assert "FAILED is the original CLI's word for NOT_APPROVED: sending NOT_APPROVED" in rejected.err
    assert rejected.out.startswith(f"Lifecycle {lifecycle_id}: MARK_FOR_PRODUCTION_PATCH FAILED")
    assert [(r.path, r.function) for r in rejected.requests] == [
        (f"/api/ami-patch/lifecycles/{lifecycle_id}/approve", "approve")]
    mark = status(lifecycle_id, "ami-patch")["events"][3]
    assert (mark["status"], mark["reason"]) == ("FAILED", "NOT_APPROVED by ana@example.com")
    assert len(executions(deployment, "mark-for-production")) == 1  # only the creation's


def test_timeline_patch_and_qa_export_link_use_their_keys(cli, gateway):
    lifecycle_id = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"  # the functions are stood in for: any id will do
    seen = []

    def invoke(function, event):
        seen.append((function, event["resource"], event["requestContext"]["identity"]["apiKeyId"]))
        if event["resource"].endswith("/export-link"):
            body = {"url": "https://exports.s3.amazonaws.com/x.vmdk?X-Amz-Signature=abc", "expires_at": "2026-11-23T12:00:00Z"}
        else:
            body = {"path": f"/ami-patch/lifecycles/{lifecycle_id}/timeline?token=t0k", "expires_at": "2026-11-23T11:00:00Z"}
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}

    gateway.invoke = invoke
    timeline = cli("--operation", "AMI_TIMELINE_PATCH", "--lifecycleId", lifecycle_id)
    assert timeline.out.splitlines()[0] == f"Timeline: {gateway.url}/ami-patch/lifecycles/{lifecycle_id}/timeline?token=t0k"
    export = cli("--operation", "AMI_QA_EXPORT_LINK", "--lifecycleId", lifecycle_id)
    assert export.code == 0, export.err
    assert export.out.splitlines() == ["Download: https://exports.s3.amazonaws.com/x.vmdk?X-Amz-Signature=abc",
                                       "Expires: 2026-11-23 12:00:00 UTC"]
    assert seen == [
        ("read", "/ami-patch/lifecycles/{lifecycle-id}/timeline-link", API_KEY_IDS["operator"]),
        ("certify", "/ami-creation/lifecycles/{lifecycle-id}/export-link", API_KEY_IDS["qa"]),
    ]


def test_api_refusals_are_shown_with_exit_code_1(cli, deployment):
    lifecycle_id = cli(*CREATE, "--events", "AMI_BUILD_ONLY", "--output", "json").json()["lifecycle_id"]
    # Certifying before the QA request is a lifecycle rule the API enforces.
    run = cli("--operation", "AMI_QA_CERTIFICATION", "--stackTag", "main", "--lifecycleId", lifecycle_id,
              "--certificationStatus", "CERTIFIED")
    assert run.code == 1 and run.out == ""
    assert run.error_lines == ["api-cli: error: API error 409 Conflict: BUILD_AMI is IN_PROGRESS; wait for its "
                               "result before starting QA_CERTIFICATION_RESPONSE"]
    # A stack tag no deployment serves is refused before anything is sent, with the deployed one.
    run = cli("--operation", "AMI_CREATE_UPDATE", "--stackTag", "other", "--lifecycleId", lifecycle_id)
    assert run.code == 2 and run.requests == []
    assert run.error_lines[0].startswith("api-cli: error: --stackTag 'other': no deployment here serves this stack "
                                         "tag; deployed: main (local cloud profile ")
