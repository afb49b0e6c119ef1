"""Template helpers and a second deployment for the infrastructure tests (the session's main synth
is the `synth` fixture of tests/conftest.py)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from aws_cdk import assertions

from tests.support.synth import CDK_CONTEXT, REPO, Synth, synthesize

OTHER_TAG = "Feature/Other_Tag"
OTHER_SETTINGS = {
    "retainData": False,
    "notifications": {"operatorEmails": ["ops@example.com"], "qaEmails": ["qa@example.com"]},
}


@pytest.fixture(scope="session")
def other_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """A second deployment next to "main": another stack tag, and the non-default settings."""
    return synthesize(
        tmp_path_factory.mktemp("cdk.out.other"),
        stackTag=OTHER_TAG,
        amiLifecycle={**CDK_CONTEXT["amiLifecycle"], **OTHER_SETTINGS},
    )


@pytest.fixture(scope="session")
def core(synth: Synth) -> dict[str, Any]:
    return synth.templates["AmiLifecycle-main"]


@pytest.fixture(scope="session")
def core_template(synth: Synth) -> assertions.Template:
    return synth.template("AmiLifecycle-main")


def checkov_bin() -> str:
    return os.environ.get("CHECKOV_BIN") or str(REPO / ".venv-checkov" / "bin" / "checkov")


def render(value: Any) -> Any:
    """A template value with intrinsics rendered as text: Fn::Join joined, {"Ref": X} -> "${X}",
    Fn::GetAtt -> "${X.Attr}". Lists and dicts are rendered element-wise."""
    if isinstance(value, dict) and len(value) == 1:
        (function, argument), = value.items()
        if function == "Ref":
            return f"${{{argument}}}"
        if function == "Fn::GetAtt":
            return f"${{{'.'.join(argument)}}}"
        if function == "Fn::Join":
            separator, parts = argument
            return separator.join(str(render(part)) for part in parts)
    if isinstance(value, dict):
        return {key: render(item) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item) for item in value]
    return value


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == resource_type}


def functions_by_handler(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """handler string -> (logical id, properties) of every Lambda function."""
    return {
        r["Properties"]["Handler"]: (name, r["Properties"])
        for name, r in resources(template, "AWS::Lambda::Function").items()
    }


def role_statements(template: dict[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of every inline policy attached to a role (AWS::IAM::Policy and Policies)."""
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    role = template["Resources"][role_logical_id]["Properties"]
    for policy in role.get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
