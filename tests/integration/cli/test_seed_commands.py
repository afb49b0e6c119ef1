"""The README's commands (seed lines 280-420), verbatim, against the local gateway and the moto deployment."""

from __future__ import annotations

import json
import re
import shlex
import urllib.request

from tests.support.aws import API_KEY_IDS, executions
from tests.support.flow import status

SEED_ID = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"
CREATE = """python api-cli.py \\
    --mode "BATCH" \\
    --operation "AMI_CREATE" \\
    --stackTag "main"  \\
    --events "AMI_BUILD_ONLY" \\
    --owner "ownername" \\
    --productVer "1.0.0" \\
    --productName "My Product Name" \\
    --notifications "EMAIL::user@domain.com"
"""
GET_STATUS = """python api-cli.py \\
    --mode "BATCH" \\
    --operation "AMI_GET_STATUS_BY_LIFECYCLE_ID" \\
    --stackTag "main" \\
    --lifecycleId "2b4c443f-44fe-442f-a233-32fb5dac5e2c" \\
    --owner "ownername" \\
    --notifications "EMAIL::user@domain.com"
"""
TIMELINE = """python api-cli.py \\
    --mode "BATCH" \\
    --operation "AMI_TIMELINE_CREATE" \\
    --stackTag "main" \\
    --lifecycleId "2b4c443f-44fe-442f-a233-32fb5dac5e2c" \\
    --owner "ownername" \\
    --notifications "EMAIL::user@domain.com"
"""
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def seed_argv(command: str, lifecycle_id: str | None = None) -> list[str]:
    """The shell's reading of the README command (line continuations joined), minus `python api-cli.py`."""
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[:2] == ["python", "api-cli.py"]
    return [lifecycle_id if lifecycle_id and arg == SEED_ID else arg for arg in argv[2:]]


def _create(cli) -> str:
    run = cli(*seed_argv(CREATE))
    assert run.code == 0, run.err
    [lifecycle_id] = set(UUID.findall(run.out))
    return lifecycle_id


def test_seed_create_starts_the_build(cli, deployment):
    run = cli(*seed_argv(CREATE))
    assert run.code == 0, run.err
    [lifecycle_id] = set(UUID.findall(run.out))
    assert run.out.startswith(f"Lifecycle {lifecycle_id} (ami-creation, semver 1.0.0): BUILD_AMI started.")
    assert [(r.method, r.path, r.status, r.function) for r in run.requests] == [
        ("POST", "/api/ami-creation/lifecycles", 201, "lifecycles")]

    record = status(lifecycle_id)
    assert (record["stack_tag"], record["owner"], record["product_name"], record["product_ver"]) == (
        "main", "ownername", "My Product Name", "1.0.0")
    assert record["notifications"] == [{"method": "EMAIL", "target": "user@domain.com", "in_progress": False}]
    assert record["commit_ref"] == "unspecified"  # the working directory is not a git checkout
    assert [(e["name"], e["enabled"], e["status"]) for e in record["events"][:4]] == [
        ("BUILD_AMI", True, "IN_PROGRESS"),
        ("SMOKE_TESTS_AMI_CREATE", False, "NOT_STARTED"),
        ("VULNERABILITY_SCANS_AMI_CREATE", False, "NOT_STARTED"),
        ("QA_CERTIFICATION_REQUEST", False, "NOT_STARTED"),
    ]
    [build] = executions(deployment, "build")
    assert build["name"] == f"{lifecycle_id}-build-1"


def test_seed_get_status_prints_the_lifecycle(cli):
    lifecycle_id = _create(cli)
    run = cli(*seed_argv(GET_STATUS, lifecycle_id))
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[:4] == [
        f"Lifecycle {lifecycle_id} (stack tag main)",
        "  Product: My Product Name 1.0.0 (product version 1.0.0), owner ownername",
        "  Stage:   not built yet; AMI not built yet",
        "Events:",
    ]
    assert lines[4].startswith("  BUILD_AMI                       IN_PROGRESS    since ") and lines[4].endswith(" UTC")
    assert lines[5:10] == [f"  {name:<30}  not requested" for name in (
        "SMOKE_TESTS_AMI_CREATE", "VULNERABILITY_SCANS_AMI_CREATE", "QA_CERTIFICATION_REQUEST")] + [
        f"  {name:<30}  NOT_STARTED" for name in ("QA_CERTIFICATION_RESPONSE", "MARK_FOR_PRODUCTION_CREATE")]
    assert lines[10:] == ["Build (BUILD_AMI) is running. Follow it:",
                          f"  python3 cli/api-cli.py --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --stackTag main "
                          f"--lifecycleId {lifecycle_id} --wait"]
    assert cli(*seed_argv(GET_STATUS, lifecycle_id), "--output", "json").json() == status(lifecycle_id)
    assert [(r.method, r.path, r.status) for r in run.requests] == [
        ("GET", f"/api/ami-creation/lifecycles/{lifecycle_id}/status", 200)]
    assert "http" not in run.out and "api_key" not in run.out  # a result, not a URL with a key


def test_seed_timeline_prints_the_signed_link(cli, gateway):
    lifecycle_id = _create(cli)
    seen = []
    real_invoke = gateway.invoke

    def invoke(function, event):
        if event["resource"].endswith("/timeline-link"):  # the lead's route, answered as specified
            seen.append((function, event["requestContext"]["identity"]["apiKeyId"], event["path"]))
            body = {"path": f"/ami-creation/lifecycles/{lifecycle_id}/timeline?token=signed.token-value",
                    "expires_at": "2026-11-23T11:00:00Z"}
            return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
        return real_invoke(function, event)

    gateway.invoke = invoke
    run = cli(*seed_argv(TIMELINE, lifecycle_id))
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        f"Timeline: {gateway.url}/ami-creation/lifecycles/{lifecycle_id}/timeline?token=signed.token-value",
        "Expires: 2026-11-23 11:00:00 UTC",
    ]
    assert seen == [("read", API_KEY_IDS["operator"], f"/ami-creation/lifecycles/{lifecycle_id}/timeline-link")]

    run = cli(*seed_argv(TIMELINE, lifecycle_id), "--output", "json")
    assert run.json() == {
        "url": f"{gateway.url}/ami-creation/lifecycles/{lifecycle_id}/timeline?token=signed.token-value",
        "expires_at": "2026-11-23T11:00:00Z",
    }


def test_seed_timeline_link_opens_the_page_without_a_key(cli, gateway):
    """Against the real read function: the printed link carries a signed token, no API key, and opens the page."""
    lifecycle_id = _create(cli)
    run = cli(*seed_argv(TIMELINE, lifecycle_id))
    assert run.code == 0, run.err
    assert [(r.method, r.path, r.status) for r in run.requests] == [
        ("GET", f"/api/ami-creation/lifecycles/{lifecycle_id}/timeline-link", 200)]
    url = run.out.splitlines()[0].removeprefix("Timeline: ")
    assert url.startswith(f"{gateway.url}/ami-creation/lifecycles/{lifecycle_id}/timeline?token=")
    assert run.out.splitlines()[1].startswith("Expires: 20") and run.out.endswith(" UTC\n")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as page:  # a browser: no x-api-key header
        assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
        assert lifecycle_id in page.read().decode()
