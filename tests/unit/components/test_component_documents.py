"""components/*.yml are AWSTOE documents Image Builder accepts, and the check script they embed is
the repository's copy (rendered at synth time by stacks/image_builder.py)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacks.image_builder import (
    CHECK_SCRIPT,
    CHECK_SCRIPT_PAYLOAD,
    CHECK_SCRIPT_SHA256,
    COMPONENTS,
    MAX_COMPONENT_DATA,
    render_component,
)

COMPONENTS_DIR = Path(__file__).resolve().parents[3] / "components"
SCRIPT = COMPONENTS_DIR / CHECK_SCRIPT
DOCUMENTS = sorted(COMPONENTS_DIR.glob("*.yml"))
# AWSTOE action modules available on Linux.
LINUX_ACTIONS = {
    "Assert",
    "ExecuteBash",
    "ExecuteBinary",
    "ExecuteDocument",
    "Reboot",
    "S3Download",
    "S3Upload",
    "WebDownload",
    "AppendFile",
    "CopyFile",
    "CopyFolder",
    "CreateFile",
    "CreateFolder",
    "CreateSymlink",
    "DeleteFile",
    "DeleteFolder",
    "ListFiles",
    "MoveFile",
    "MoveFolder",
    "ReadFile",
    "SetFileEncoding",
    "SetFileOwner",
    "SetFolderOwner",
    "SetFilePermissions",
    "SetFolderPermissions",
    "UpdateOS",
}
PHASES = ("build", "validate", "test")


def rendered(document: Path) -> str:
    return render_component(document, check_script=SCRIPT)


def bash_commands(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(phase, step, script) of every ExecuteBash step."""
    return [
        (phase["name"], step["name"], command)
        for phase in document["phases"]
        for step in phase["steps"]
        if step["action"] == "ExecuteBash"
        for command in step["inputs"]["commands"]
    ]


def test_every_document_is_in_the_recipe() -> None:
    assert sorted(path.stem for path in DOCUMENTS) == sorted(COMPONENTS)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_document_structure(path: Path) -> None:
    text = rendered(path)
    document = yaml.safe_load(text)
    assert set(document) == {"name", "description", "schemaVersion", "phases"}
    assert document["name"] == f"ami-lc-{path.stem}"
    assert document["schemaVersion"] == 1.0
    assert len(text) <= MAX_COMPONENT_DATA, "CreateComponent accepts 16,000 characters of inline data"
    names = [phase["name"] for phase in document["phases"]]
    assert names and len(set(names)) == len(names) and set(names) <= set(PHASES)
    assert names == sorted(names, key=PHASES.index)
    for phase in document["phases"]:
        steps = [step["name"] for step in phase["steps"]]
        assert steps and len(set(steps)) == len(steps), f"step names must be unique within {phase['name']}"
        for step in phase["steps"]:
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", step["name"])
            assert step["action"] in LINUX_ACTIONS
            assert "inputs" in step


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_bash_steps_are_valid_strict_bash(path: Path) -> None:
    for phase, step, command in bash_commands(yaml.safe_load(rendered(path))):
        assert command.startswith(("set -euo pipefail\n", "set -uo pipefail\n")), f"{phase}/{step}"
        check = subprocess.run(["bash", "-n"], input=command, capture_output=True, text=True)
        assert check.returncode == 0, f"{phase}/{step}: {check.stderr}"
        # AWSTOE substitutes {{ ... }} in inputs: none of our scripts may contain it by accident.
        assert "{{" not in command, f"{phase}/{step}"


def test_hardening_documents_its_controls_and_verifies_them() -> None:
    text = (COMPONENTS_DIR / "hardening.yml").read_text()
    header = text.split("\nname:", 1)[0]
    for control in (
        "cramfs",
        "udf",
        "PermitRootLogin no",
        "PasswordAuthentication no",
        "MaxAuthTries 4",
        "X11Forwarding no",
        "ClientAliveInterval",
        "PASS_MAX_DAYS",
        "core dumps",
        "send_redirects=0",
        "auditd",
        "chrony",
        "/etc/passwd",
        "shadow",
        "telnet",
        "rsh",
    ):
        assert control in header, control
    document = yaml.safe_load(text)
    assert [phase["name"] for phase in document["phases"]] == ["build", "validate", "test"]


def test_marketplace_checks_run_in_validate_and_test() -> None:
    document = yaml.safe_load(rendered(COMPONENTS_DIR / "marketplace-checks.yml"))
    assert [phase["name"] for phase in document["phases"]] == ["validate", "test"]


def test_marketplace_checks_embed_the_repository_script() -> None:
    raw = (COMPONENTS_DIR / "marketplace-checks.yml").read_text()
    assert CHECK_SCRIPT_PAYLOAD in raw and CHECK_SCRIPT_SHA256 in raw
    text = rendered(COMPONENTS_DIR / "marketplace-checks.yml")
    assert "__AMI_CHECKS_" not in text
    script = SCRIPT.read_bytes()
    for _, _, command in bash_commands(yaml.safe_load(text)):
        payload = re.search(r"echo '([A-Za-z0-9+/=]+)'", command).group(1)
        assert gzip.decompress(base64.b64decode(payload)) == script
        assert hashlib.sha256(script).hexdigest() in command


def test_rendering_is_deterministic() -> None:
    """An unchanged script gives the same component data, hence the same component version."""
    document = COMPONENTS_DIR / "marketplace-checks.yml"
    assert rendered(document) == rendered(document)


def test_the_embedded_step_decodes_verifies_and_runs_the_script(tmp_path: Path) -> None:
    """The validate step exactly as deployed, pointed at an empty root instead of '/'."""
    (tmp_path / "etc/ssh").mkdir(parents=True)
    (tmp_path / "etc/ssh/sshd_config").write_text("PermitRootLogin no\nPasswordAuthentication no\n")
    (_, _, command), _ = bash_commands(yaml.safe_load(rendered(COMPONENTS_DIR / "marketplace-checks.yml")))
    assert command.rstrip().endswith('"$workdir/ami_checks.py" /')
    command = command.rstrip()[:-1] + shlex.quote(str(tmp_path))
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout.splitlines()[-1].removeprefix("AMI_CHECKS_JSON "))
    assert all(check["passed"] for check in summary["checks"])


def test_a_tampered_payload_fails_the_step(tmp_path: Path) -> None:
    (_, _, command), _ = bash_commands(yaml.safe_load(rendered(COMPONENTS_DIR / "marketplace-checks.yml")))
    tampered = re.sub(
        r"echo '[^']+'",
        lambda m: "echo '" + base64.b64encode(gzip.compress(b"print(1)\n")).decode() + "'",
        command,
        count=1,
    )
    result = subprocess.run(["bash", "-c", tampered], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
