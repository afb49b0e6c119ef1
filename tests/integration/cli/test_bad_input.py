"""Bad input: one line on stderr, exit 2, and nothing sent (no request reaches the gateway, nothing uploaded)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from tests.support.aws import module_deployment

LC = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"
CREATE = ["--mode", "BATCH", "--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "ownername",
          "--productVer", "1.0.0", "--productName", "My Product Name"]
EMAIL = ["--notifications", "EMAIL::user@domain.com"]
PATCH = ["--operation", "AMI_PATCH", "--stackTag", "main", "--lifecycleId", LC, "--owner", "o", *EMAIL,
         "--events", "AMI_PATCH_ONLY", "--patchChangeDescription", "fix", "--semverBumpType", "PATCH"]


@pytest.fixture(scope="module")
def deployment():
    """One moto deployment for the module: every test asserts it stays empty."""
    yield from module_deployment()


VALID_COMPONENT = "name: p\nschemaVersion: 1.0\nphases:\n  - name: build\n    steps:\n      - name: S\n        action: ExecuteBash\n"


@pytest.mark.parametrize(("argv", "error"), [
    (["--operation", "AMI_DESTROY"], "unknown operation 'AMI_DESTROY'; expected one of: AMI_CREATE, "),
    ([*CREATE, "--events", "AMI_BUILD_ONLY"], "AMI_CREATE needs --notifications"),
    ([*CREATE, *EMAIL], "AMI_CREATE needs --events"),
    (["--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID"], "AMI_GET_STATUS_BY_LIFECYCLE_ID needs --lifecycleId"),
    ([*CREATE, "--events", "AMI_BUILD_ONLY", "--notifications", "EMAIL:user@domain.com"],
     "--notifications 'EMAIL:user@domain.com': expected METHOD::TARGET, e.g. EMAIL::user@example.com"),
    ([*CREATE, "--events", "AMI_BUILD_ONLY", "--notifications", "PAGER::ops"],
     "--notifications 'PAGER::ops': unknown method 'PAGER'; expected EMAIL or HTTPS"),
    ([*CREATE, *EMAIL, "--events", "AMI_BUILD_ONLY", "--properties", "ticket=OPS-1"],
     "--properties 'ticket=OPS-1': expected KEY::VALUE"),
    ([*CREATE, *EMAIL, "--events", "QA_CERTIFICATION_REQUEST"],
     "--events QA_CERTIFICATION_REQUEST needs --events SMOKE_TESTS too"),
    (["--operation", "AMI_QA_CERTIFICATION", "--stackTag", "main", "--lifecycleId", LC, "--certificationStatus", "PASSED"],
     "argument --certificationStatus: invalid choice: 'PASSED'"),
    (["--operation", "AMI_APPROVAL_CREATE", "--stackTag", "main", "--lifecycleId", LC,
      "--approvalStatusAmiCreation", "YES"], "argument --approvalStatusAmiCreation: invalid choice: 'YES'"),
    (["--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", "not-a-uuid"],
     "--lifecycleId: 'not-a-uuid' is not a lifecycle id: a lower-case UUID such as "),
    ([*CREATE[:4], "--stackTag", "Feature/X", *CREATE[6:], *EMAIL, "--events", "AMI_BUILD_ONLY"],
     "--stackTag: 'Feature/X' is not a stack tag: lower-case letters and digits, words joined by single dashes"),
    ([*CREATE[:4], "--stackTag", "other", *CREATE[6:], *EMAIL, "--events", "AMI_BUILD_ONLY"],
     "--stackTag 'other': no deployment here serves this stack tag; deployed: main (local cloud profile "),
    ([*CREATE, *EMAIL, "--events", "AMI_BUILD_ONLY", "--notifications", "EMAIL::a@b.co::STARTS"],
     "--notifications 'EMAIL::a@b.co::STARTS': unknown option 'STARTS'; the only option is IN_PROGRESS"),
    ([*CREATE[:-2], "--productName", "x" * 257, *EMAIL, "--events", "AMI_BUILD_ONLY"],
     "--productName: String should have at most 256 characters"),
    ([*PATCH, "--patchComponent", "missing.yml"], "--patchComponent missing.yml: cannot read the file: No such file"),
    ([*PATCH, "--patchComponent", "bad-action.yml"],
     "--patchComponent bad-action.yml: phases[0].steps[0] (S): action 'ExecBash' is not an AWSTOE action module"),
    ([*PATCH, "--patchComponent", "broken.yaml"], "--patchComponent broken.yaml: not valid YAML at line"),
    ([*PATCH, "--patchComponent", "notes.txt"], "--patchComponent notes.txt: the file name must end in .yml or .yaml"),
    ([*PATCH, "--patchComponent", "valid.yml", "--semverBumpType", "MAJOR"],
     "argument --semverBumpType: invalid choice: 'MAJOR'"),
    ([*PATCH[:-2], "--patchComponent", "valid.yml"], "AMI_PATCH needs --semverBumpType"),
    (["--operation", "AMI_GET_STATUSES", "--stackTag", "main", "--wait"], "--wait does not apply to AMI_GET_STATUSES"),
    (["--operation", "AMI_CREATE", "--endpoint", "http://api.example.com/api", *CREATE[4:], *EMAIL, "--events",
      "AMI_BUILD_ONLY"], "refusing to send an API key over plain http to api.example.com; use https"),
])
def test_bad_input_sends_nothing(cli, deployment, workdir: Path, argv: list[str], error: str) -> None:
    (workdir / "bad-action.yml").write_text(VALID_COMPONENT.replace("ExecuteBash", "ExecBash"))
    (workdir / "broken.yaml").write_text("name: p\nphases: [\n")
    (workdir / "notes.txt").write_text(VALID_COMPONENT)
    (workdir / "valid.yml").write_text(VALID_COMPONENT)
    run = cli(*argv)
    assert run.code == 2
    assert run.out == ""
    [line] = run.err.splitlines()
    assert line.startswith("api-cli: error: ") and error in line, line
    assert run.requests == []
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=deployment.patch_bucket)
    assert boto3.client("dynamodb").scan(TableName=deployment.lifecycle_table)["Count"] == 0


def test_unknown_lifecycle_shows_the_api_404_and_exits_1(cli):
    run = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", LC)
    assert run.code == 1 and run.out == ""
    assert run.error_lines == [f"api-cli: error: API error 404 NotFound: lifecycle {LC} does not exist"]
    assert [(r.method, r.path, r.status) for r in run.requests] == [
        ("GET", f"/api/ami-creation/lifecycles/{LC}/status", 404)]


def test_a_refused_patch_uploads_nothing(cli, deployment, workdir: Path):
    """The API is asked first (a dry run): the component is uploaded only for a patch it would accept."""
    (workdir / "valid.yml").write_text(VALID_COMPONENT)
    run = cli(*PATCH, "--patchComponent", "valid.yml")
    assert run.code == 1 and run.out == ""
    assert run.error_lines == [f"api-cli: error: API error 404 NotFound: lifecycle {LC} does not exist"]
    assert [(r.method, r.path, r.status) for r in run.requests] == [("POST", "/api/ami-patch/lifecycles", 404)]
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=deployment.patch_bucket)
