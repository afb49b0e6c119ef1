"""Local checks of patch component documents (AWSTOE) before upload."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.ami_cli.component import document_problem, load_component
from cli.ami_cli.errors import UsageError
from tests.support.components import OPENSSL_PATCH as VALID

COMPONENTS = Path(__file__).resolve().parents[3] / "components"


def _write(tmp_path: Path, text: str, name: str = "patch.yml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_valid_document_loads_with_its_bytes_and_a_content_addressed_key(tmp_path: Path) -> None:
    component = load_component(_write(tmp_path, VALID, "my patch (1).yaml"))
    assert component.name == "openssl-update" and component.data == VALID.encode()
    key = component.s3_key("2b4c443f-44fe-442f-a233-32fb5dac5e2c")
    assert key == f"2b4c443f-44fe-442f-a233-32fb5dac5e2c/{component.sha256[:16]}-my-patch-1-.yaml"


@pytest.mark.parametrize("path", sorted(COMPONENTS.glob("*.yml")), ids=lambda p: p.name)
def test_the_repository_components_pass(path: Path) -> None:
    load_component(str(path))


@pytest.mark.parametrize(("text", "problem"), [
    ("- a\n- b\n", "must be a YAML mapping"),
    (VALID.replace("schemaVersion: 1.0\n", ""), "schemaVersion is missing"),
    (VALID.replace("schemaVersion: 1.0", "schemaVersion: 2.0"), "schemaVersion is 2.0"),
    (VALID.replace("name: openssl-update", "name: ''"), "name is missing or empty"),
    ("name: x\nschemaVersion: 1.0\nphases: []\n", "phases must be a non-empty list"),
    (VALID.replace("- name: validate", "- name: deploy"), "phases[1]: phase name 'deploy' is not one of build, validate, test"),
    (VALID.replace("- name: validate", "- name: build"), "phases[1]: phase build appears twice"),
    (VALID.replace("action: ExecuteBash", "action: RunBash", 1),
     "phases[0].steps[0] (UpdateOpenssl): action 'RunBash' is not an AWSTOE action module (did you mean ExecuteBash?)"),
    (VALID.replace("        action: Reboot\n", ""), "phases[0].steps[1] (RebootAfter): action None is not an AWSTOE action"),
    (VALID.replace("name: RebootAfter", "name: UpdateOpenssl"), "step name 'UpdateOpenssl' appears twice"),
    (VALID.replace("      - name: Check\n", "      - nam: Check\n"), "phases[1].steps[0]: name is missing"),
])
def test_structural_problems_are_named(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(UsageError) as raised:
        load_component(_write(tmp_path, text))
    assert problem in raised.value.message and "\n" not in raised.value.message
    assert raised.value.message.startswith("--patchComponent ")


def test_unreadable_non_yaml_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the file: No such file or directory"):
        load_component(str(tmp_path / "missing.yml"))
    with pytest.raises(UsageError, match=r"not valid YAML at line 3, column \d+"):
        load_component(_write(tmp_path, "name: x\nphases: [\n  - {a: b\n"))
    with pytest.raises(UsageError, match="must end in .yml or .yaml"):
        load_component(_write(tmp_path, VALID, "patch.json"))
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="not UTF-8"):
        load_component(str(binary))


def test_document_problem_is_none_for_valid_documents() -> None:
    import yaml

    assert document_problem(yaml.safe_load(VALID)) is None
