"""The paths users take: `cdk synth` through the real CLI, and deploy.sh / destroy.sh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.infrastructure.conftest import REPO, Synth


def _offline_env(**extra: str) -> dict[str, str]:
    """No AWS credentials, profile, region or metadata service: nothing can reach an account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_")) and k != "STACK_TAG"}
    env.update(
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        CDK_DISABLE_VERSION_CHECK="1",
        **extra,
    )
    return env


def _run(args: list[str], cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_offline_env(**env), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=240)


@pytest.mark.slow
def test_cdk_cli_synth_works_offline_with_a_stack_tag(tmp_path: Path, synth: Synth) -> None:
    result = _run([str(REPO / "node_modules/.bin/cdk"), "synth", "--no-notices", "-q", "-o", str(tmp_path),
                   "-c", "stackTag=CI Synth"])
    assert result.returncode == 0, result.stdout + result.stderr
    template = json.loads((tmp_path / "AmiLifecycle-ci-synth.template.json").read_text())

    def types(stack: dict) -> list[str]:  # the CLI adds CDK's version-reporting AWS::CDK::Metadata
        return sorted(r["Type"] for r in stack["Resources"].values() if r["Type"] != "AWS::CDK::Metadata")

    assert types(template) == types(synth.templates["AmiLifecycle-main"])


@pytest.mark.parametrize("region", [None, "eu-west-1"])
def test_deploy_without_credentials_points_to_local(region: str | None) -> None:
    result = _run(["bash", "deploy.sh"], **({"AWS_REGION": region} if region else {}))
    assert result.returncode != 0
    assert "bash deploy.sh --local" in result.stderr
    assert ("no AWS region" if region is None else "no usable AWS credentials") in result.stderr


def test_deploy_local_without_the_local_cloud_says_so(tmp_path: Path) -> None:
    shutil.copy(REPO / "deploy.sh", tmp_path)
    result = _run(["bash", "deploy.sh", "--local"], cwd=tmp_path)
    assert result.returncode == 3
    assert "the local cloud is not built yet (see issue 'Local cloud')" in result.stderr


def test_deploy_local_execs_the_local_cloud_with_the_other_arguments(tmp_path: Path) -> None:
    shutil.copy(REPO / "deploy.sh", tmp_path)
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "run.sh").write_text('printf "%s|" "$@"; exit 7\n')
    result = _run(["bash", "deploy.sh", "--stack-tag", "dev", "--local", "--port", "8080"], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (7, "--stack-tag|dev|--port|8080|")


@pytest.mark.parametrize("script", ["deploy.sh", "destroy.sh"])
def test_scripts_explain_themselves(script: str) -> None:
    result = _run(["bash", script, "--help"])
    assert result.returncode == 0
    assert "--stack-tag" in result.stdout and "Usage:" in result.stdout
    wrong = _run(["bash", script, "--no-such-flag"])
    assert wrong.returncode != 0 and "unknown argument: --no-such-flag" in wrong.stderr


def test_destroy_without_credentials_fails_clearly() -> None:
    result = _run(["bash", "destroy.sh", "--yes"], AWS_REGION="eu-west-1")
    assert result.returncode != 0
    assert "no usable AWS credentials" in result.stderr
