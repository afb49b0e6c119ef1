"""Every operation becomes one request (method, path, role, body) checked with the API's models."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli.ami_cli.errors import UsageError
from cli.ami_cli.plan import plan, with_defaults
from cli.ami_cli.options import parse_args

LC = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"
COMMON = ["--stackTag", "main", "--owner", "ownername", "--notifications", "EMAIL::user@domain.com"]
COMPONENT = "name: p\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: S\n        action: ExecuteBash\n"


def _plan(argv: list[str], tmp_path: Path, env: dict[str, str] | None = None):
    return plan(parse_args(argv), env=env or {"USER": "env-user"}, cwd=tmp_path)


def test_create(tmp_path: Path) -> None:
    p = _plan(["--operation", "AMI_CREATE", *COMMON, "--events", "SMOKE_TESTS", "--productVer", "1.0.0",
               "--productName", "My Product Name", "--properties", "ticket::OPS-1"], tmp_path)
    assert (p.method, p.path, p.role) == ("POST", "/ami-creation/lifecycles", "operator")
    assert p.body == {
        "stack_tag": "main", "owner": "ownername", "product_name": "My Product Name", "product_ver": "1.0.0",
        "notifications": [{"method": "EMAIL", "target": "user@domain.com", "in_progress": False}],
        "events": [{"name": "BUILD_AMI", "enabled": True}, {"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True},
                   {"name": "VULNERABILITY_SCANS_AMI_CREATE", "enabled": False},
                   {"name": "QA_CERTIFICATION_REQUEST", "enabled": False}],
        "properties": {"ticket": "OPS-1"},
    }  # no commit_ref outside git


def test_create_takes_the_commit_of_the_current_directory(tmp_path: Path) -> None:
    run = lambda *args: subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True, text=True)  # noqa: E731
    run("init", "-q", "-b", "main")
    run("-c", "user.email=a@b.co", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x")
    head = run("rev-parse", "HEAD").stdout.strip()
    argv = ["--operation", "AMI_CREATE", *COMMON, "--events", "AMI_BUILD_ONLY", "--productVer", "1.0.0",
            "--productName", "p"]
    assert _plan(argv, tmp_path).body["commit_ref"] == head
    assert _plan([*argv, "--commitRef", "v1.2"], tmp_path).body["commit_ref"] == "v1.2"


@pytest.mark.parametrize(("argv", "method", "path", "role"), [
    (["--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", LC], "GET",
     f"/ami-creation/lifecycles/{LC}/status", "operator"),
    (["--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", LC.upper(), "--lifecycleType", "ami-patch"],
     "GET", f"/ami-patch/lifecycles/{LC}/status", "operator"),
    (["--operation", "AMI_GET_STATUSES", "--stackTag", "main"], "GET", "/ami-creation/lifecycles/status", "operator"),
    (["--operation", "AMI_TIMELINE_CREATE", "--lifecycleId", LC], "GET",
     f"/ami-creation/lifecycles/{LC}/timeline-link", "operator"),
    (["--operation", "AMI_TIMELINE_PATCH", "--lifecycleId", LC], "GET",
     f"/ami-patch/lifecycles/{LC}/timeline-link", "operator"),
    (["--operation", "AMI_QA_EXPORT_LINK", "--lifecycleId", LC], "GET", f"/ami-creation/lifecycles/{LC}/export-link", "qa"),
    (["--operation", "AMI_DASHBOARD", "--stackTag", "main"], "GET", "/ami-fleet/main/dashboard-link", "operator"),
    (["--operation", "AMI_QA_CERTIFICATION", "--lifecycleId", LC, "--stackTag", "main", "--certificationStatus",
      "CERTIFIED"], "POST", f"/ami-creation/lifecycles/{LC}/certify", "qa"),
    (["--operation", "AMI_APPROVAL_CREATE", "--lifecycleId", LC, "--stackTag", "main", "--approvalStatusAmiCreation",
      "APPROVED"], "POST", f"/ami-creation/lifecycles/{LC}/approve", "approver"),
    (["--operation", "AMI_APPROVAL_PATCH", "--lifecycleId", LC, "--stackTag", "main", "--approvalStatusAmiPatch",
      "NOT_APPROVED"], "POST", f"/ami-patch/lifecycles/{LC}/approve", "approver"),
    (["--operation", "AMI_CREATE_UPDATE", "--lifecycleId", LC, "--stackTag", "main"], "PUT", "/ami-creation/lifecycles",
     "operator"),
    (["--operation", "AMI_PATCH_UPDATE", "--lifecycleId", LC, "--stackTag", "main", "--events", "SMOKE_TESTS"], "PUT",
     "/ami-patch/lifecycles", "operator"),
])
def test_routes_and_roles(argv: list[str], method: str, path: str, role: str, tmp_path: Path) -> None:
    p = _plan(argv, tmp_path)
    assert (p.method, p.path, p.role) == (method, path, role)


def test_statuses_query_and_update_bodies(tmp_path: Path) -> None:
    assert _plan(["--operation", "AMI_GET_STATUSES", "--stackTag", "main"], tmp_path).query == {
        "stack_tag": "main", "limit": "100"}
    body = _plan(["--operation", "AMI_CREATE_UPDATE", "--lifecycleId", LC, "--stackTag", "main", "--events",
                  "SMOKE_TESTS"], tmp_path).body
    assert body == {"lifecycle_id": LC, "stack_tag": "main", "properties": {},
                    "events": [{"name": "SMOKE_TESTS_AMI_CREATE", "enabled": True}]}


def test_approval_defaults_and_the_failed_alias(tmp_path: Path) -> None:
    argv = ["--operation", "AMI_APPROVAL_CREATE", "--lifecycleId", LC, "--stackTag", "main",
            "--approvalStatusAmiCreation", "FAILED"]
    p = _plan(argv, tmp_path)
    assert p.body["approval_status"] == "NOT_APPROVED" and p.body["approver"] == "env-user"
    assert "FAILED is the original CLI's word for NOT_APPROVED" in p.notes[0]
    (tmp_path / "cli-config.json").write_text(json.dumps({"owner": "Ana Owner"}))
    assert _plan(argv, tmp_path).body["approver"] == "Ana Owner"
    assert _plan([*argv, "--approver", "bob@example.com"], tmp_path).body["approver"] == "bob@example.com"


def test_a_patch_inherits_owner_and_notifications_unless_given(tmp_path: Path) -> None:
    (tmp_path / "patch.yml").write_text(COMPONENT)
    argv = ["--operation", "AMI_PATCH", "--stackTag", "main", "--lifecycleId", LC, "--events", "AMI_PATCH_ONLY",
            "--patchComponent", str(tmp_path / "patch.yml"), "--patchChangeDescription", "openssl",
            "--semverBumpType", "PATCH"]
    body = _plan(argv, tmp_path).body
    assert "owner" not in body and "notifications" not in body  # the API keeps the lifecycle's
    given = _plan([*argv, "--owner", "patcher", "--notifications", "EMAIL::p@example.com::IN_PROGRESS"], tmp_path).body
    assert given["owner"] == "patcher"
    assert given["notifications"] == [{"method": "EMAIL", "target": "p@example.com", "in_progress": True}]


def test_defaults_come_from_the_config_then_the_deployment(tmp_path: Path) -> None:
    options = parse_args(["--operation", "AMI_CREATE", "--events", "AMI_BUILD_ONLY", "--productVer", "1.0.0",
                          "--productName", "p"])
    config = {"owner": "cfg-owner", "notifications": [{"method": "EMAIL", "target": "t@example.com"}]}
    filled = with_defaults(options, config, lambda: "main")
    assert (filled.stack_tag, filled.owner, filled.notifications) == ("main", "cfg-owner", ["EMAIL::t@example.com"])
    assert with_defaults(options, {**config, "stackTag": "release"}, lambda: "main").stack_tag == "release"
    patch = parse_args(["--operation", "AMI_PATCH", "--stackTag", "main"])
    assert with_defaults(patch, config, lambda: "main").owner is None  # a patch keeps the lifecycle's owner


def test_patch_plan_carries_the_checked_component(tmp_path: Path) -> None:
    (tmp_path / "patch.yml").write_text(COMPONENT)
    p = _plan(["--operation", "AMI_PATCH", *COMMON, "--lifecycleId", LC, "--events", "AMI_PATCH_ONLY",
               "--patchComponent", str(tmp_path / "patch.yml"), "--patchChangeDescription", "openssl",
               "--semverBumpType", "MINOR"], tmp_path)
    assert (p.method, p.path, p.kind) == ("POST", "/ami-patch/lifecycles", "ami-patch")
    assert p.component is not None and p.component.data == COMPONENT.encode()
    assert p.body["patch_component_url"].endswith(p.component.s3_key(LC))
    assert [e["name"] for e in p.body["events"] if e["enabled"]] == ["PATCH_AMI"]


@pytest.mark.parametrize(("argv", "message"), [
    ([], "BATCH mode needs --operation"),
    (["--operation", "AMI_CREATE", "--stackTag", "main", "--events", "AMI_BUILD_ONLY"],
     "AMI_CREATE needs --owner, --productName, --productVer, --notifications"),
    (["--operation", "AMI_CREATE", *COMMON, "--events", "AMI_BUILD_ONLY", "--productVer", "1.0", "--productName", "p"],
     "--productVer: must be a semantic version"),
    (["--operation", "AMI_CREATE", "--stackTag", "Feature/X", "--owner", "o", "--notifications", "EMAIL::a@b.co",
       "--events", "AMI_BUILD_ONLY", "--productVer", "1.0.0", "--productName", "p"],
     "--stackTag: 'Feature/X' is not a stack tag: lower-case letters and digits, words joined by single dashes"),
    (["--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", "42"],
     "--lifecycleId: '42' is not a lifecycle id: a lower-case UUID such as 2b4c443f-44fe-442f-a233-32fb5dac5e2c"),
    (["--operation", "AMI_DASHBOARD"], "AMI_DASHBOARD needs --stackTag"),
    (["--operation", "AMI_GET_STATUSES", "--stackTag", "main", "--wait"], "--wait does not apply to AMI_GET_STATUSES"),
    (["--operation", "AMI_QA_CERTIFICATION", "--lifecycleId", LC, "--stackTag", "main"],
     "AMI_QA_CERTIFICATION needs --certificationStatus"),
    (["--operation", "AMI_APPROVAL_PATCH", "--lifecycleId", LC, "--stackTag", "main", "--approvalStatusAmiCreation",
      "APPROVED"], "AMI_APPROVAL_PATCH needs --approvalStatusAmiPatch"),
    (["--operation", "AMI_PATCH", *COMMON, "--lifecycleId", LC, "--events", "AMI_PATCH_ONLY",
      "--patchChangeDescription", "x", "--semverBumpType", "PATCH"], "AMI_PATCH needs --patchComponent"),
    (["--operation", "AMI_CREATE_UPDATE", "--lifecycleId", LC, "--stackTag", "main", "--owner", "x" * 300],
     "--owner: String should have at most 256 characters"),
])
def test_usage_errors_name_the_flag(argv: list[str], message: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as raised:
        _plan(argv, tmp_path)
    assert message in raised.value.message
