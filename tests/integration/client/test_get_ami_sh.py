"""`bash client/get_ami.sh` for real, as a subprocess, against moto's server (in-process mocks are not
visible to another process): stdout is exactly the AMI id, or nothing with a message on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from client.deployment import default_stack_tag
from lambdas.domain.events import Stage
from lambdas.domain.lookup import LookupEntry, rank, selector
from tests.support.aws import LOOKUP_TABLE_SCHEMA

CLIENT = Path(__file__).resolve().parents[3] / "client"
TABLE = "lc-lookup-server"


@pytest.fixture(scope="module")
def moto_server_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_server(moto_server_url: str) -> str:
    """The server with empty backends (moto's state is global to the process)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    opener.open(urllib.request.Request(f"{moto_server_url}/moto-api/reset", method="POST"), timeout=10).close()
    return moto_server_url


def _put(ddb, stack_tag: str, semver: str, ami_id: str, stage: Stage, product: str = "My Product Name") -> None:
    for reached in [s for s in Stage if Stage.NONE < s <= stage]:
        for name in (None, product):
            entry = LookupEntry(
                selector=selector(stack_tag, "us-east-1", reached, name), rank=rank(semver, ami_id), ami_id=ami_id,
                region="us-east-1", semver=semver, stage=reached.slug, stack_tag=stack_tag, product_name=product,
                product_ver="1.0.0", commit_ref="0123abc", lifecycle_id="2b4c443f-44fe-442f-a233-32fb5dac5e2c",
                lifecycle_type="ami-creation", reached_at="2026-11-23T10:00:00.000000Z",
            )
            ddb.put_item(TableName=TABLE, Item={key: {"S": value} for key, value in asdict(entry).items()})


@pytest.fixture
def lookup(moto_server: str, tmp_path: Path) -> dict[str, str]:
    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=moto_server)
    ddb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST", **LOOKUP_TABLE_SCHEMA)
    branch_tag = default_stack_tag(CLIENT)[0]  # what get_ami.sh run from client/ defaults to
    _put(ddb, branch_tag, "1.0.0", "ami-0aaaaaaaaaaaaaaa1", Stage.PRODUCTION)
    _put(ddb, branch_tag, "2.0.0", "ami-0bbbbbbbbbbbbbbb2", Stage.HARDENED)
    _put(ddb, "feature-foo-bar", "1.0.0", "ami-0ccccccccccccccc3", Stage.SCANNED)
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"lookup_table": TABLE, "region": "us-east-1"}))
    env = {name: value for name, value in os.environ.items() if not name.startswith("AMI_LC_")}
    env.update(AWS_ENDPOINT_URL=moto_server, AMI_LC_PROFILE=str(profile))
    return env


def _get_ami(env: dict[str, str], *args: str, cwd: Path = CLIENT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(CLIENT / "get_ami.sh"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


def test_get_ami_from_the_client_directory_prints_only_the_id(lookup):
    done = subprocess.run(["bash", "get_ami.sh"], cwd=CLIENT, env=lookup, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "ami-0bbbbbbbbbbbbbbb2\n"), done.stderr
    production = _get_ami(lookup, "--minStage", "production")
    assert (production.returncode, production.stdout) == (0, "ami-0aaaaaaaaaaaaaaa1\n"), production.stderr


def test_no_match_prints_nothing_on_stdout(lookup):
    done = _get_ami(lookup, "--semver", "3.x")
    assert done.returncode == 1 and done.stdout == ""
    assert "ami_selection: no AMI matches: stack tag" in done.stderr and "semver 3.x" in done.stderr


def test_stack_tag_is_the_slug_of_the_callers_git_branch(lookup, tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "Feature/Foo_Bar"], cwd=repo, check=True)
    done = _get_ami(lookup, "--json", "--minStage", "scanned", cwd=repo)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert (record["ami_id"], record["stack_tag"], record["stage"]) == ("ami-0ccccccccccccccc3", "feature-foo-bar", "scanned")
    assert "stack tag 'feature-foo-bar' (git branch 'Feature/Foo_Bar')" in done.stderr


def test_table_from_the_deployed_stack_outputs(lookup, moto_server: str):
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"LookupTableName": {"Value": TABLE}, "ApiEndpoint": {"Value": "https://example.invalid/api/"}},
    }
    boto3.client("cloudformation", region_name="us-east-1", endpoint_url=moto_server).create_stack(
        StackName="AmiLifecycle-main", TemplateBody=json.dumps(template))
    env = {name: value for name, value in lookup.items() if name != "AMI_LC_PROFILE"}
    done = _get_ami(env, "--deploymentTag", "main", "--minStage", "production")
    assert (done.returncode, done.stdout) == (0, "ami-0aaaaaaaaaaaaaaa1\n"), done.stderr
    missing = _get_ami(env, "--deploymentTag", "other")
    assert missing.returncode == 3 and missing.stdout == ""
    assert "deployment 'other' not found: the stack AmiLifecycle-other does not exist in us-east-1" in missing.stderr
