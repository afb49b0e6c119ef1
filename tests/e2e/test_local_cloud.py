"""The local cloud end to end, exactly as a user drives it: `bash deploy.sh --local --background`,
then only the real tools over HTTP as subprocesses (api-cli, get_ami.sh, the timeline page, the
failure-injection command), then `--stop`.

One test (the steps share one cloud, and pytest-xdist would otherwise split them over workers). The
measured wall time, Step Functions state transitions and Lambda invocations of a full creation
lifecycle are printed (`pytest -s` or the -rA summary shows them).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.components import OPENSSL_PATCH as PATCH_COMPONENT

REPO = Path(__file__).resolve().parents[2]
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable
STEP_TIMEOUT = 120  # seconds, any one command
TAG = "main"

pytestmark = pytest.mark.slow



class Cloud:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.profile = state_dir / "profile.json"
        # No AWS_* from the test process (the suite's fake credentials): the tools must find the
        # local cloud through the profile alone.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AMI_LC_"))}
        self.env.update(AMI_LC_PROFILE=str(self.profile), AMI_LC_STATE_DIR=str(state_dir))
        self.pid: int | None = None

    def run(self, *args: str, timeout: float = STEP_TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(list(args), cwd=REPO, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args[:6])}... exited {result.returncode}\n"
                                 f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}")
        return result

    def deploy(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return self.run("bash", "deploy.sh", "--local", *args, timeout=timeout)

    def cli(self, operation: str, *args: str, timeout: float = STEP_TIMEOUT, check: bool = True) -> dict[str, Any]:
        result = self.run(PYTHON, "cli/api-cli.py", "--mode", "BATCH", "--operation", operation, "--stackTag", TAG,
                          "--output", "json", *args, timeout=timeout, check=check)
        return json.loads(result.stdout) if result.stdout.strip() else {"returncode": result.returncode}

    def get_ami(self, *args: str) -> str:
        return self.run("bash", "client/get_ami.sh", "--stackTag", TAG, "--quiet", *args).stdout.strip()

    def stats(self, prefix: str = "") -> dict[str, Any]:
        return json.loads(self.run(PYTHON, "-m", "local", "stats", "--prefix", prefix).stdout)

    def notifications(self) -> list[dict[str, Any]]:
        path = self.state_dir / "notifications.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    cloud = Cloud(tmp_path / "local-cloud")
    try:
        yield cloud
    finally:
        # Whatever happened, leave no server behind (only the process this test started).
        pid_file = cloud.state_dir / "server.pid"
        if pid_file.exists():
            subprocess.run(["bash", "deploy.sh", "--local", "--stop"], cwd=REPO, env=cloud.env,
                           capture_output=True, timeout=60)


def _statuses(record: dict[str, Any]) -> dict[str, str]:
    return {event["name"]: event["status"] for event in record["events"]}


def _events(*names: str) -> list[str]:
    return [arg for name in names for arg in ("--events", name)]


def _get_page(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a loopback URL of this test
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")  # exited; only its parent's reaping is left


def _port_closed(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, int(port))) != 0


def _assert_strict_endpoint(profile: dict[str, Any], released_ami: str) -> None:
    """With the profile's administrator credentials, as an operator would call the endpoint."""
    import boto3
    from botocore.exceptions import ClientError

    url = profile["aws_endpoint_url"]
    admin = boto3.session.Session(**profile["aws_credentials"], region_name=profile["region"])

    def error_of(call: Any) -> dict[str, str]:
        try:
            call()
        except ClientError as exc:
            return exc.response["Error"]
        raise AssertionError("the local endpoint accepted a call AWS refuses")

    exported = error_of(lambda: admin.client("ec2", endpoint_url=url).export_image(
        ImageId=released_ami, DiskImageFormat="VMDK", S3ExportLocation={"S3Bucket": profile["patch_bucket"]}))
    assert exported["Code"] == "NotExportable" and "encrypted" in exported["Message"], exported
    functions = admin.client("lambda", endpoint_url=url).list_functions()["Functions"]
    role = next(f["Role"] for f in functions if f["Handler"] == "lambdas.api.handlers.read.lambda_handler")
    issued = admin.client("sts", endpoint_url=url).assume_role(RoleArn=role, RoleSessionName="e2e")["Credentials"]
    reader = boto3.session.Session(aws_access_key_id=issued["AccessKeyId"], aws_secret_access_key=issued["SecretAccessKey"],
                                   aws_session_token=issued["SessionToken"], region_name=profile["region"])
    dropped = error_of(lambda: reader.client("dynamodb", endpoint_url=url).delete_table(TableName=profile["lifecycle_table"]))
    assert dropped["Code"] == "AccessDeniedException" and "dynamodb:DeleteTable" in dropped["Message"], dropped
    terminated = error_of(lambda: reader.client("ec2", endpoint_url=url).terminate_instances(InstanceIds=["i-0123456789abcdef0"]))
    assert terminated["Code"] == "UnauthorizedOperation", terminated
    stranger = boto3.session.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x", region_name="us-east-1")
    assert error_of(lambda: stranger.client("s3", endpoint_url=url).list_buckets())["Code"] == "InvalidAccessKeyId"


def test_local_cloud_runs_whole_lifecycles_through_the_real_tools(cloud: Cloud, tmp_path: Path) -> None:
    started = time.monotonic()
    cloud.deploy("--background", "--port", "0")
    profile = json.loads(cloud.profile.read_text())
    assert cloud.profile.stat().st_mode & 0o777 == 0o600
    assert set(profile["keys"]) == {"operator", "qa", "approver"}
    endpoint = profile["endpoint"]
    assert endpoint.startswith("http://127.0.0.1:") and profile["aws_endpoint_url"].startswith("http://127.0.0.1:")
    startup = time.monotonic() - started
    log = (cloud.state_dir / "server.log").read_text()
    assert not any(value in log for value in profile["keys"].values()), "an API key reached the log"

    # ---- creation lifecycle: build, smoke tests, scans, QA request; certify; approve -> production
    before = cloud.stats()
    t0 = time.monotonic()
    created = cloud.cli("AMI_CREATE", "--owner", "platform", "--productName", "e2e", "--productVer", "1.0.0",
                        "--notifications", "EMAIL::ops@example.com",
                        *_events("SMOKE_TESTS", "VULNERABILITY_SCANS", "QA_CERTIFICATION_REQUEST"), "--wait",
                        "--timeout", "100")
    lifecycle_id = created["lifecycle_id"]
    assert list(_statuses(created).values())[:4] == ["COMPLETED"] * 4, _statuses(created)
    ami = created["ami"]["ami_id"]
    t_qa = time.monotonic() - t0
    cloud.cli("AMI_QA_CERTIFICATION", "--lifecycleId", lifecycle_id, "--certificationStatus", "CERTIFIED")
    approved = cloud.cli("AMI_APPROVAL_CREATE", "--lifecycleId", lifecycle_id, "--approvalStatusAmiCreation",
                         "APPROVED", "--approver", "ana", "--wait", "--timeout", "100")
    wall = time.monotonic() - t0
    assert set(_statuses(approved).values()) == {"COMPLETED"}, _statuses(approved)
    assert cloud.get_ami("--minStage", "production") == ami
    after = cloud.stats(prefix=lifecycle_id)
    invocations = {
        name: after["by_function"].get(name, 0) - before["by_function"].get(name, 0)
        for name in after["by_function"] if not name.startswith("lambdas.jobs.")
    }

    # ---- patch lifecycle: MINOR bump with a component file, approved -> the new production AMI
    component = tmp_path / "openssl.yml"
    component.write_text(PATCH_COMPONENT)
    patched = cloud.cli("AMI_PATCH", "--lifecycleId", lifecycle_id, "--owner", "platform",
                        "--notifications", "EMAIL::ops@example.com", "--patchComponent", str(component),
                        "--patchChangeDescription", "openssl update", "--semverBumpType", "MINOR",
                        *_events("SMOKE_TESTS", "VULNERABILITY_SCANS"), "--wait", "--timeout", "100")
    patch = patched
    assert list(_statuses(patch).values())[:3] == ["COMPLETED"] * 3, _statuses(patch)
    new_ami = patch["ami"]["ami_id"]
    assert new_ami != ami
    cloud.cli("AMI_APPROVAL_PATCH", "--lifecycleId", lifecycle_id, "--approvalStatusAmiPatch", "APPROVED",
              "--approver", "ana", "--wait", "--timeout", "100")
    assert cloud.get_ami("--minStage", "production") == new_ami
    record = json.loads(cloud.get_ami("--minStage", "production", "--json"))
    assert record["ami_id"] == new_ami and record["semver"] == "1.1.0", record

    # ---- the local AWS endpoint refuses what AWS refuses, to any client
    _assert_strict_endpoint(profile, ami)

    # ---- timeline pages of both lifecycles, served without a key by their signed links
    for operation in ("AMI_TIMELINE_CREATE", "AMI_TIMELINE_PATCH"):
        link = cloud.cli(operation, "--lifecycleId", lifecycle_id)
        assert link["url"].startswith(endpoint + "/"), link
        status, content_type, page = _get_page(link["url"])
        assert status == 200 and content_type.startswith("text/html") and lifecycle_id in page, (operation, status)

    # ---- an injected build failure, from another process while the cloud runs
    cloud.run(PYTHON, "-m", "local", "inject", "build-failure")
    failed = cloud.cli("AMI_CREATE", "--owner", "platform", "--productName", "e2e-fail", "--productVer", "1.0.0",
                       "--notifications", "EMAIL::ops@example.com", *_events("SMOKE_TESTS"), "--wait",
                       "--timeout", "100", check=False)
    assert failed.get("events"), failed
    assert _statuses(failed)["BUILD_AMI"] == "FAILED", _statuses(failed)
    assert _statuses(failed)["SMOKE_TESTS_AMI_CREATE"] == "NOT_STARTED"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        notified = [n for n in cloud.notifications()
                    if n["attributes"].get("lifecycle_id") == failed["lifecycle_id"]
                    and n["attributes"].get("status") == "FAILED"]
        if notified:
            break
        time.sleep(0.5)
    assert notified and "BUILD_AMI is FAILED" in notified[0]["message"], cloud.notifications()[-3:]

    time_factor = json.loads((cloud.state_dir / "status.json").read_text())["time_factor"]

    # ---- stop: the process ends, the ports close, the profile (with the keys) is gone
    pid = int((cloud.state_dir / "server.pid").read_text())
    t_stop = time.monotonic()
    cloud.deploy("--stop", timeout=60)
    t_stop = time.monotonic() - t_stop
    assert _gone(pid)
    assert _port_closed(endpoint) and _port_closed(profile["aws_endpoint_url"])
    assert not cloud.profile.exists()
    assert json.loads((cloud.state_dir / "status.json").read_text())["state"] == "stopped"
    assert "no local cloud is running" in cloud.deploy("--stop").stdout

    print(
        f"\nlocal cloud measurements (time factor {time_factor}):"
        f"\n  start (--background until ready): {startup:.1f} s; --stop: {t_stop:.1f} s"
        f"\n  creation lifecycle, create -> QA request complete: {t_qa:.1f} s (CLI --wait polling included)"
        f"\n  creation lifecycle, create -> production (all events, certify, approve): {wall:.1f} s"
        f"\n  its Step Functions executions: {after['executions']}, state transitions (StateEntered): "
        f"{after['state_transitions']}"
        f"\n  its Lambda invocations: {sum(invocations.values())} {json.dumps(invocations, sort_keys=True)}"
    )
