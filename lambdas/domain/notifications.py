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


def chain_paused_notification(record: LifecycleRecord, completed: EventName) -> Notification:
    """Sent when a success leaves nothing to start automatically: says what the lifecycle waits for."""
    waiting_for = next((state for state in record.events if state.status is not EventStatus.COMPLETED), None)
    if waiting_for is None:
        detail = "Every event is COMPLETED: the lifecycle is done."
    elif waiting_for.name in (EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH):
        detail = f"Next: {waiting_for.name.value} waits for an approver's decision (approve)."
    elif waiting_for.name is EventName.QA_CERTIFICATION_RESPONSE:
        detail = "Next: QA_CERTIFICATION_RESPONSE waits for the QA team's verdict (certify)."
    else:
        detail = f"Next: {waiting_for.name.value} is not requested; enable it with an update (PUT) to continue."
    return event_notification(record, completed, EventStatus.COMPLETED, detail)
