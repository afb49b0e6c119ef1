"""What a notification says. Pure text and attributes; the SNS adapter only delivers it.

Messages say what happened and how to look; they never carry a key or a signed URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from lambdas.domain.events import EventName, EventStatus
from lambdas.domain.models import LifecycleRecord


class Severity(str, Enum):
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class Audience(str, Enum):
    OPERATORS = "operators"
    QA = "qa"


_SEVERITY_OF_STATUS = {
    EventStatus.COMPLETED: Severity.INFO,
    EventStatus.IN_PROGRESS: Severity.INFO,
    EventStatus.FAILED: Severity.WARNING,
    EventStatus.ERROR: Severity.ERROR,
}
_SUBJECT_LIMIT = 100  # SNS rejects longer subjects


@dataclass(frozen=True)
class Notification:
    subject: str
    message: str
    lifecycle_id: str
    stack_tag: str
    event: str
    status: str
    severity: Severity
    audience: Audience = Audience.OPERATORS
    recipients: tuple[str, ...] = field(default_factory=tuple)


def _status_command(record: LifecycleRecord) -> str:
    operation = "AMI_GET_STATUS_BY_LIFECYCLE_ID"
    return (
        f"api-cli --mode BATCH --operation {operation} --stackTag {record.stack_tag} "
        f"--lifecycleId {record.lifecycle_id}"
    )


def event_notification(record: LifecycleRecord, name: EventName, status: EventStatus, detail: str = "") -> Notification:
    state = record.event(name)
    kind = "patch" if record.patch_number else "creation"
    lines = [
        f"AMI {kind} lifecycle {record.lifecycle_id} (stack tag {record.stack_tag}): {name.value} is {status.value}.",
        "",
        f"Product:   {record.product_name} {record.product_ver}",
        f"Semver:    {record.semver}",
        f"AMI:       {record.ami.ami_id if record.ami else 'not built yet'}",
        f"Attempt:   {state.attempt}",
        f"When:      {state.status_date or record.updated_at}",
    ]
    if record.patch_number:
        lines.insert(3, f"Patch run: {record.patch_number}")
    if state.reason:
        lines.append(f"Reason:    {state.reason}")
    if detail:
        lines += ["", detail]
    lines += ["", "To look at the lifecycle:", f"  {_status_command(record)}"]
    subject = f"[AMI lifecycle] {name.value} {status.value} - {record.product_name} {record.semver}"
    return Notification(
        subject=subject[:_SUBJECT_LIMIT],
        message="\n".join(lines),
        lifecycle_id=record.lifecycle_id,
        stack_tag=record.stack_tag,
        event=name.value,
        status=status.value,
        severity=_SEVERITY_OF_STATUS[status],
        recipients=tuple(target.target_id for target in record.notifications),
    )


def lifecycle_done_notification(record: LifecycleRecord) -> Notification:
    """Sent when the chain has nothing left to start automatically."""
    last = [state for state in record.events if state.enabled][-1]
    waiting_for = next(
        (state.name for state in record.events if state.status is not EventStatus.COMPLETED), None
    )
    nxt = {
        EventName.QA_CERTIFICATION_RESPONSE: "the QA team's certification (certify)",
        EventName.MARK_FOR_PRODUCTION_CREATE: "an approver's decision (approve)",
        EventName.MARK_FOR_PRODUCTION_PATCH: "an approver's decision (approve)",
    }
    detail = f"Every requested event has run. Next step: {nxt.get(waiting_for, 'none')}." if waiting_for else (
        "The lifecycle is complete."
    )
    return event_notification(record, last.name, last.status, detail)
