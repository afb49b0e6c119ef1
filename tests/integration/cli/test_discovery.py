"""Where the endpoint and keys come from: env, the local cloud profile, or the deployed stack + Secrets Manager."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient

from tests.support.aws import API_KEY_VALUES

REPO = Path(__file__).resolve().parents[3]
LC = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"


@pytest.fixture
def aws_calls(monkeypatch) -> list[tuple[str, str, dict[str, Any]]]:
    calls: list[tuple[str, str, dict[str, Any]]] = []
    real = BaseClient._make_api_call

    def record(self, operation_name, api_params):
        calls.append((self.meta.service_model.service_name, operation_name, dict(api_params)))
        return real(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return calls


@pytest.fixture
def deployed_stack(deployment, gateway, monkeypatch) -> dict[str, str]:
    """The core stack's outputs in moto's CloudFormation, with the three keys in Secrets Manager."""
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arns = {role: secrets.create_secret(Name=f"ami-lc-main-{role}-key", SecretString=value)["ARN"]
            for role, value in API_KEY_VALUES.items()}
    outputs = {
        "ApiEndpoint": gateway.url + "/",  # the deployed output ends with a slash
        "OperatorKeySecretArn": arns["operator"],
        "QaKeySecretArn": arns["qa"],
        "ApproverKeySecretArn": arns["approver"],
        "PatchComponentBucketName": deployment.patch_bucket,
        "LookupTableName": deployment.lookup_table,
    }
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {name: {"Value": value} for name, value in outputs.items()}}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="AmiLifecycle-main", TemplateBody=json.dumps(template))
    monkeypatch.delenv("AMI_LC_PROFILE")
    monkeypatch.setattr("client.deployment.DEFAULT_PROFILE", Path("/nonexistent/profile.json"))
    return arns


def test_deployed_stack_and_only_the_needed_secret(cli, deployed_stack, aws_calls):
    created = cli("--operation", "AMI_CREATE", "--stackTag", "main", "--owner", "o", "--productVer", "1.0.0",
                  "--productName", "p", "--notifications", "EMAIL::a@example.com", "--events", "AMI_BUILD_ONLY",
                  "--output", "json")
    assert created.code == 0, created.err
    mine = [(service, operation, params) for service, operation, params in aws_calls
            if service in ("cloudformation", "secretsmanager")]
    assert mine == [("cloudformation", "DescribeStacks", {"StackName": "AmiLifecycle-main"}),
                    ("secretsmanager", "GetSecretValue", {"SecretId": deployed_stack["operator"]})]

    aws_calls.clear()
    lifecycle_id = created.json()["lifecycle_id"]
    approved = cli("--operation", "AMI_APPROVAL_CREATE", "--stackTag", "main", "--lifecycleId", lifecycle_id,
                   "--approvalStatusAmiCreation", "APPROVED", "--deploymentTag", "main")
    assert approved.code == 1 and "409 Conflict" in approved.err  # reached the API with the approver key
    reads = [params["SecretId"] for service, operation, params in aws_calls if operation == "GetSecretValue"]
    assert reads == [deployed_stack["approver"]]


def test_environment_overrides_need_no_aws_call(cli, gateway, monkeypatch, aws_calls):
    monkeypatch.delenv("AMI_LC_PROFILE")
    monkeypatch.setattr("client.deployment.DEFAULT_PROFILE", Path("/nonexistent/profile.json"))
    monkeypatch.setenv("AMI_LC_ENDPOINT", gateway.url)
    monkeypatch.setenv("AMI_LC_OPERATOR_KEY", API_KEY_VALUES["operator"])
    run = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", LC)
    assert run.code == 1 and f"lifecycle {LC} does not exist" in run.err
    assert [r.status for r in run.requests] == [404]
    assert [call for call in aws_calls if call[0] in ("cloudformation", "secretsmanager")] == []


def test_missing_deployment_is_a_clear_error(cli, deployment):
    run = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", LC, "--deploymentTag", "nope")
    assert run.code == 1 and run.requests == []
    assert run.error_lines == ["api-cli: error: deployment 'nope' not found: the stack AmiLifecycle-nope does not "
                               "exist in us-east-1; deployed stack tags there: none"]


def test_profile_without_the_role_key(cli, profile: Path):
    data = json.loads(profile.read_text())
    del data["keys"]["qa"]
    profile.write_text(json.dumps(data))
    run = cli("--operation", "AMI_QA_EXPORT_LINK", "--lifecycleId", LC)
    assert run.code == 1 and run.requests == []
    assert run.error_lines == [f"api-cli: error: no qa API key: the local cloud profile {profile} has none; "
                               "set AMI_LC_QA_KEY"]


def test_redirects_are_not_followed(cli, gateway):
    """urllib would resend the x-api-key header to wherever a redirect points."""
    gateway.invoke = lambda function, event: {"statusCode": 302, "headers": {"Location": "http://127.0.0.1:9/steal"},
                                              "body": ""}
    run = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", LC)
    assert run.code == 1
    assert run.error_lines == [f"api-cli: error: GET /ami-creation/lifecycles/{LC}/status: unexpected redirect (302); "
                               "check the endpoint"]


def test_the_scripts_run_as_the_readme_shows(tmp_path: Path):
    """`python api-cli.py` from cli/ (the seed's form) and `python cli/api-cli.py` from the repository root."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    seed = subprocess.run([sys.executable, "api-cli.py", "--mode", "BATCH", "--operation", "AMI_CREATE", "--stackTag",
                           "main", "--events", "AMI_BUILD_ONLY"], cwd=REPO / "cli", env=env, capture_output=True,
                          text=True, timeout=60)
    assert (seed.returncode, seed.stdout) == (2, "")
    assert seed.stderr == ("api-cli: error: AMI_CREATE needs --owner, --productName, --productVer, --notifications\n")
    helped = subprocess.run([sys.executable, "cli/api-cli.py", "--help"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60)
    assert helped.returncode == 0 and "AMI_QA_EXPORT_LINK" in helped.stdout
    # The no-install wrapper, through a symbolic link on the PATH.
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "api-cli").symlink_to(REPO / "cli" / "api-cli")
    wrapped = subprocess.run(["api-cli", "--operation", "AMI_NOPE"], cwd=tmp_path,
                             env={**env, "PATH": f"{tmp_path / 'bin'}:{env['PATH']}"}, capture_output=True, text=True,
                             timeout=60)
    assert wrapped.returncode == 2 and wrapped.stderr.startswith("api-cli: error: unknown operation 'AMI_NOPE'")


def test_a_stopped_local_cloud_is_named_as_such(cli, tmp_path: Path, monkeypatch):
    """--stop removes the profile: the CLI says the local cloud is not running, not "no AWS region"."""
    monkeypatch.setenv("AMI_LC_PROFILE", str(tmp_path / "gone" / "profile.json"))
    run = cli("--operation", "AMI_GET_STATUSES")
    assert run.code == 1 and run.requests == []
    assert run.error_lines == [f"api-cli: error: the local cloud is not running (no profile {tmp_path}/gone/"
                               "profile.json); start it with: bash deploy.sh --local --background"]

    state = tmp_path / ".local-cloud"
    state.mkdir()
    (state / "status.json").write_text('{"state": "stopped"}')
    monkeypatch.delenv("AMI_LC_PROFILE")
    monkeypatch.setattr("client.deployment.DEFAULT_PROFILE", state / "profile.json")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    run = cli("--operation", "AMI_GET_STATUS_BY_LIFECYCLE_ID", "--lifecycleId", LC)
    assert run.code == 1 and run.requests == []
    assert run.error_lines == ["api-cli: error: the local cloud is not running; start it with: bash deploy.sh "
                               "--local --background (or, for the stack AmiLifecycle-main in AWS, set AWS_REGION "
                               "and credentials)"]
