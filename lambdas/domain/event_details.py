"""An event's outputs and properties as a person reads them: labelled lines of text.

The state machines' outputs (contracts.py) are nested JSON; the timeline page, the dashboard and the
CLI show "AMI: ami-0abc (us-east-1)", "Findings: 2 high, 5 medium" instead of dotted keys and Python
literals. Outputs a newer state machine adds are still shown, generically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdas.domain.contracts import SEVERITIES
from lambdas.domain.events import EventName
from lambdas.domain.models import EventState

Detail = tuple[str, str]
_BUILDS = (EventName.BUILD_AMI, EventName.PATCH_AMI)
_SMOKE = (EventName.SMOKE_TESTS_AMI_CREATE, EventName.SMOKE_TESTS_AMI_PATCH)
_SCANS = (EventName.VULNERABILITY_SCANS_AMI_CREATE, EventName.VULNERABILITY_SCANS_AMI_PATCH)
_WORDS = {"ami": "AMI", "id": "id", "arn": "ARN", "uri": "location", "s3": "S3", "qa": "QA"}


_LABELS = {  # outputs whose generic label would read poorly
    "export_s3_uri": "Exported image", "export_task_id": "Export task", "disk_image_format": "Disk format",
    "exported_ami_id": "Temporary export copy", "backup_s3_uri": "Backup", "store_task_id": "Backup task",
}


def label(key: str) -> str:
    """`export_task_id` -> `Export task`; an unknown `new_output_id` -> `New output id`."""
    if key in _LABELS:
        return _LABELS[key]
    words = [_WORDS.get(word, word) for word in key.replace(".", "_").split("_") if word]
    text = " ".join(words) or key
    return text[0].upper() + text[1:]


def text(value: Any) -> str:
    """Any JSON value in words: yes/no, comma lists, `key: value` pairs, `-` for nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{label(str(key)).lower()}: {text(item)}" for key, item in value.items())
    return str(value)


def findings_text(findings: Mapping[str, Any]) -> str:
    counted = [(severity, int(findings.get(severity) or 0)) for severity in SEVERITIES]
    shown = [f"{count} {severity.lower()}" for severity, count in counted if count]
    return ", ".join(shown) or "none"


def _build(outputs: Mapping[str, Any]) -> list[Detail]:
    ami, builder = outputs.get("ami") or {}, outputs.get("image_builder") or {}
    details = [("AMI", f"{ami.get('ami_id')} ({ami.get('region')})")] if ami.get("ami_id") else []
    if ami.get("name"):
        details.append(("AMI name", str(ami["name"])))
    if builder.get("image_arn"):
        details.append(("Image Builder image", _resource(builder["image_arn"])))
    if builder.get("recipe_name"):
        details.append(("Recipe", str(builder["recipe_name"])))
    if builder.get("components"):
        details.append(("Components", ", ".join(_resource(item).split("/")[0] for item in builder["components"])))
    return details


def _resource(arn: Any) -> str:
    """`arn:aws:imagebuilder:…:image/ami-lc-main/1.0.0/1` -> `ami-lc-main/1.0.0/1` (names read better)."""
    resource = str(arn).split(":", 5)[-1]
    return resource.split("/", 1)[1] if "/" in resource else resource


def _smoke(outputs: Mapping[str, Any]) -> list[Detail]:
    checks = outputs.get("checks") or []
    failed = [str(check.get("name")) for check in checks if not check.get("passed")]
    summary = f"{len(checks) - len(failed)} of {len(checks)} passed" if checks else "none reported"
    details = [("Checks", summary + (f"; failed: {', '.join(failed)}" if failed else ""))]
    if outputs.get("instance_id"):
        details.append(("Test instance", str(outputs["instance_id"])))
    return details


def _scan(outputs: Mapping[str, Any]) -> list[Detail]:
    details = [("Findings", findings_text(outputs.get("findings") or {}))]
    if outputs.get("gate"):
        verdict = "passed" if outputs.get("gate_passed", True) else "failed"
        details.append(("Gate", f"{verdict} (fails on {outputs['gate']})"))
    if outputs.get("report_s3_uri"):
        details.append(("Findings report", str(outputs["report_s3_uri"])))
    return details


_SUMMARY = {
    **{name: _build for name in _BUILDS}, **{name: _smoke for name in _SMOKE}, **{name: _scan for name in _SCANS},
}
_KNOWN = {"ami", "image_builder", "checks", "instance_id", "findings", "gate", "gate_passed", "report_s3_uri"}


def event_details(state: EventState) -> list[Detail]:
    """What the event produced and what people recorded on it, in reading order."""
    outputs = state.outputs
    details: list[Detail] = []
    summary = _SUMMARY.get(state.name)
    if outputs and summary is not None:  # no outputs: not run yet, or it ended without a verdict
        details += summary(outputs)
    details += [(label(key), text(value)) for key, value in outputs.items() if key not in _KNOWN]
    properties = dict(state.properties)
    if "approval_status" in properties:
        decision = properties.pop("approval_status")
        approver = properties.pop("approver", None)
        details.append(("Decision", f"{decision} by {approver}" if approver else decision))
    if "certification_status" in properties:
        details.append(("Verdict", properties.pop("certification_status")))
    details += [(key, value) for key, value in properties.items()]
    return details
