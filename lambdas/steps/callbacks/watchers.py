"""What a callback wait waits for, one kind of AWS resource each (the step input names the resource:
inputs.py): the one status check (when the token is stored, and once more if the wait times out), and
the EventBridge events that end the wait.

A check or an event gives an `Outcome`: AWS finished (`output` resumes the workflow), AWS failed
(`error` fails the waiting task with that step error, so its Catch runs at once), or None while AWS
is still working. The event shapes are AWS's (docs/LOCAL_CLOUD.md cites each page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lambdas.adapters import image_builder_gateway as image_builder
from lambdas.adapters import inspector_gateway as inspector
from lambdas.adapters import ssm_command_gateway as commands
from lambdas.adapters import temporary_images as images
from lambdas.steps.errors import CommandFailed, ImageBuildFailed, RestoreFailed, ScanFailed, StepError


@dataclass(frozen=True)
class Outcome:
    output: dict[str, Any] = field(default_factory=dict)
    error: type[StepError] | None = None
    cause: str = ""


Check = Callable[[str], "Outcome | None"]
EventReader = Callable[[dict[str, Any]], "list[tuple[str, Outcome | None]]"]


@dataclass(frozen=True)
class Watcher:
    check: Check  # of the awaited resource, named by the step input's `resource` (inputs.py)
    events: dict[tuple[str, str], EventReader]  # (source, detail-type) -> (resource, outcome) pairs


# ---- Image Builder images (build, patch)
def _image_outcome(status: str, reason: str | None) -> Outcome | None:
    if status == "AVAILABLE":
        return Outcome({"status": status})
    if status in image_builder.TERMINAL_FAILURES:
        return Outcome(error=ImageBuildFailed, cause=f"image build {status}: {reason or 'no reason given'}")
    return None


def _check_image(image_arn: str) -> Outcome | None:
    image = image_builder.get_image(image_arn)
    return _image_outcome(image["status"], image["reason"])


def _image_events(event: dict[str, Any]) -> list[tuple[str, Outcome | None]]:
    state = event.get("detail", {}).get("state", {})
    return [(arn, _image_outcome(state.get("status", ""), state.get("reason"))) for arn in event.get("resources", [])]


# ---- EC2 AMIs being created (the QA export's restored copy; CreateImage/CopyImage alike)
def _ami_outcome(image_id: str, state: str, reason: str) -> Outcome | None:
    if state == "available":
        return Outcome({"state": state})
    if state == "pending":
        return None
    return Outcome(error=RestoreFailed, cause=f"AMI {image_id} ended {state}: {reason or 'no reason given'}")


def _check_ami(image_id: str) -> Outcome | None:
    image = images.image(image_id)
    if image is None:
        return Outcome(error=RestoreFailed, cause=f"AMI {image_id} no longer exists")
    return _ami_outcome(image_id, image["state"], image["reason"])


def _ami_events(event: dict[str, Any]) -> list[tuple[str, Outcome | None]]:
    detail = event.get("detail", {})
    image_id = detail.get("ImageId", "")
    return [(image_id, _ami_outcome(image_id, detail.get("State", ""), detail.get("ErrorMessage", "")))]


# ---- SSM Run Command invocations (the smoke-test checks)
def _command_outcome(status: str, detail: str) -> Outcome | None:
    # A failing check makes the script exit non-zero (Failed): its output still holds the verdict.
    if status in commands.FINISHED:
        return Outcome({"status": status})
    if status in commands.ABORTED:
        return Outcome(error=CommandFailed, cause=f"check command {status}: {detail}"[:1000])
    return None


def _check_command(resource: str) -> Outcome | None:
    command_id, instance_id = resource.split("/", 1)
    invocation = commands.invocation(command_id, instance_id)
    return _command_outcome(invocation["status"], invocation["stderr"][-500:])


def _command_events(event: dict[str, Any]) -> list[tuple[str, Outcome | None]]:
    detail = event.get("detail", {})
    resource = f"{detail.get('command-id')}/{detail.get('instance-id')}"
    return [(resource, _command_outcome(detail.get("status", ""), "reported by the command status event"))]


# ---- Amazon Inspector's initial scan of a test instance
def _check_scan(instance_id: str) -> Outcome | None:
    blocker = inspector.ec2_scanning_blocker()
    if blocker:
        return Outcome({"blocked": blocker})  # no scan will ever come: the evaluation says FAILED and why
    coverage = inspector.coverage(instance_id)
    if coverage and coverage["reason"] in inspector.UNSCANNABLE:
        return Outcome(error=ScanFailed, cause=f"Inspector cannot scan {instance_id}: {coverage['reason']}")
    if coverage and coverage["status"] == "ACTIVE" and coverage["reason"] == "SUCCESSFUL":
        return Outcome({})
    return None


def _scan_events(event: dict[str, Any]) -> list[tuple[str, Outcome | None]]:
    detail = event.get("detail", {})
    instance_id = detail.get("instance-id")  # only EC2 scans carry one (ECR and Lambda scans do not)
    if not instance_id or detail.get("scan-status") != "INITIAL_SCAN_COMPLETE":
        return []
    return [(instance_id, Outcome({}))]


def _coverage_events(event: dict[str, Any]) -> list[tuple[str, Outcome | None]]:
    status = event.get("detail", {}).get("scanStatus", {})
    reason = status.get("reason", "")
    if status.get("statusCodeValue") != "INACTIVE" or reason not in inspector.UNSCANNABLE:
        return []
    return [(resource, Outcome(error=ScanFailed, cause=f"Inspector cannot scan {resource}: {reason}"))
            for resource in event.get("resources", [])]


WATCHERS: dict[str, Watcher] = {
    "image": Watcher(_check_image, {("aws.imagebuilder", "EC2 Image Builder Image State Change"): _image_events}),
    "ami": Watcher(_check_ami, {("aws.ec2", "EC2 AMI State Change"): _ami_events}),
    "command": Watcher(_check_command,
                       {("aws.ssm", "EC2 Command Invocation Status-change Notification"): _command_events}),
    "scan": Watcher(_check_scan, {
        ("aws.inspector2", "Inspector2 Scan"): _scan_events,
        ("aws.inspector2", "Inspector2 Coverage"): _coverage_events,
    }),
}


def watcher_of_event(event: dict[str, Any]) -> tuple[str, EventReader] | None:
    """The kind and reader for an EventBridge event, or None for an event no wait listens to."""
    key = (event.get("source", ""), event.get("detail-type", ""))
    return next(((kind, w.events[key]) for kind, w in WATCHERS.items() if key in w.events), None)
