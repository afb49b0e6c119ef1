"""Local checks of a patch component (an AWSTOE document) before it is uploaded or a patch is requested.

Image Builder runs the document as root on the lineage's production AMI: catching a malformed one here
saves a patch run that would fail after minutes of building. The checks are structural (what
Image Builder's CreateComponent and AWSTOE require); they do not run the document.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

# AWSTOE action modules (Linux and Windows):
# https://docs.aws.amazon.com/imagebuilder/latest/userguide/toe-action-modules.html
AWSTOE_ACTIONS: frozenset[str] = frozenset({
    # general execution
    "Assert", "ExecuteBash", "ExecuteBinary", "ExecuteDocument", "ExecutePowerShell",
    # file download and upload
    "S3Download", "S3Upload", "WebDownload",
    # file system
    "AppendFile", "CopyFile", "CopyFolder", "CreateFile", "CreateFolder", "CreateSymlink", "DeleteFile",
    "DeleteFolder", "ListFiles", "MoveFile", "MoveFolder", "ReadFile", "SetFileEncoding", "SetFileOwner",
    "SetFolderOwner", "SetFilePermissions", "SetFolderPermissions",
    # software installation
    "InstallMSI", "UninstallMSI",
    # system
    "Reboot", "SetRegistry", "UpdateOS",
})
PHASES = ("build", "validate", "test")
SUFFIXES = (".yml", ".yaml")
MAX_BYTES = 1024 * 1024  # a component document is a few KB; refuse to upload something else by mistake
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Component:
    path: Path
    data: bytes  # exactly what was validated, and what is uploaded
    name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def s3_key(self, lifecycle_id: str) -> str:
        """<lifecycle id>/<sha256 prefix>-<file name>: a changed document never overwrites an earlier one."""
        safe = _SAFE_NAME.sub("-", self.path.name).strip("-") or "component.yml"
        return f"{lifecycle_id}/{self.sha256[:16]}-{safe}"


def _fail(path: str, problem: str) -> UsageError:
    return UsageError(f"--patchComponent {path}: {problem}")


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as exc:  # cli/requirements.txt pins PyYAML
        raise UsageError(
            "--patchComponent needs PyYAML to check the document (pip install -r cli/requirements.txt)"
        ) from exc
    return yaml


def load_component(path_text: str) -> Component:
    """Read and check the document; UsageError (one line, naming the problem) when it is not valid."""
    path = Path(path_text).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise _fail(path_text, "the file name must end in .yml or .yaml (the API accepts only YAML documents)")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fail(path_text, f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) > MAX_BYTES:
        raise _fail(path_text, f"the file is larger than {MAX_BYTES // 1024} KiB; is it a component document?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path_text, "the file is not UTF-8 text") from exc
    yaml = _yaml()
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _fail(path_text, f"not valid YAML{where}: {problem}") from exc
    problem = document_problem(document)
    if problem:
        raise _fail(path_text, problem)
    return Component(path=path, data=data, name=document["name"])


def document_problem(document: Any) -> str | None:
    """The first structural problem of an AWSTOE document, or None."""
    if not isinstance(document, dict):
        return "the document must be a YAML mapping with name, schemaVersion and phases"
    version = document.get("schemaVersion")
    if version is None:
        return "schemaVersion is missing (expected 1.0)"
    if str(version) != "1.0":
        return f"schemaVersion is {version!r}; AWSTOE documents use 1.0"
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        return "name is missing or empty"
    phases = document.get("phases")
    if not isinstance(phases, list) or not phases:
        return "phases must be a non-empty list"
    seen_phases: set[str] = set()
    for phase_index, phase in enumerate(phases):
        where = f"phases[{phase_index}]"
        if not isinstance(phase, dict):
            return f"{where} must be a mapping with name and steps"
        phase_name = phase.get("name")
        if phase_name not in PHASES:
            return f"{where}: phase name {phase_name!r} is not one of {', '.join(PHASES)}"
        if phase_name in seen_phases:
            return f"{where}: phase {phase_name} appears twice"
        seen_phases.add(phase_name)
        problem = _steps_problem(phase.get("steps"), where, phase_name)
        if problem:
            return problem
    return None


def _steps_problem(steps: Any, where: str, phase_name: str) -> str | None:
    """The first problem of one phase's steps, or None."""
    if not isinstance(steps, list) or not steps:
        return f"{where} ({phase_name}): steps must be a non-empty list"
    seen_steps: set[str] = set()
    for step_index, step in enumerate(steps):
        step_where = f"{where}.steps[{step_index}]"
        if not isinstance(step, dict):
            return f"{step_where} must be a mapping with name and action"
        step_name = step.get("name")
        if not isinstance(step_name, str) or not step_name.strip():
            return f"{step_where}: name is missing"
        if step_name in seen_steps:
            return f"{step_where}: step name {step_name!r} appears twice in phase {phase_name}"
        seen_steps.add(step_name)
        action = step.get("action")
        if action not in AWSTOE_ACTIONS:
            close = difflib.get_close_matches(str(action), sorted(AWSTOE_ACTIONS), n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return f"{step_where} ({step_name}): action {action!r} is not an AWSTOE action module{hint}"
    return None
