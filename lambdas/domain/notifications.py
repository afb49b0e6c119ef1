"""What a notification says. Pure text and attributes; the SNS adapter only delivers it.

Messages say what happened, what comes next and the commands that show more or act (each runs as
printed from a checkout, see cli_commands.py); they never carry a key or a signed URL.

Who gets what: every target of the lifecycle gets each outcome (COMPLETED, FAILED, ERROR) of each
event once; a start (IN_PROGRESS) goes only to the targets that asked for it (`in_progress`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from lambdas.domain.cli_commands import CLI_PROGRAM, FROM_A_CHECKOUT, LifecycleCommands
from lambdas.domain.display import EVENT_TITLES, STAGE_WORDS, format_time
from lambdas.domain.events import EventName, EventStatus, LifecycleType
from lambdas.domain.models import EventState, LifecycleRecord


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
_APPROVALS = (EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH)


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


def commands_for(record: LifecycleRecord, program: str = CLI_PROGRAM) -> LifecycleCommands:
    return LifecycleCommands(record.stack_tag, record.lifecycle_id, record.lifecycle_type is LifecycleType.PATCH,
                             program)


def retry_lines(record: LifecycleRecord, state: EventState, commands: LifecycleCommands) -> list[str]:
    """What can be done about a FAILED or ERROR event."""
    if state.properties.get("approval_status") == "NOT_APPROVED":
        return ["A rejected AMI stays rejected: patch its parent again or create a new lifecycle."]
    if state.name is EventName.QA_CERTIFICATION_RESPONSE:
        return ["QA can record a new verdict:", f"  {commands.certify()}"]
    return [f"To retry {state.name.value}:", f"  {commands.update()}"]


def next_step_lines(record: LifecycleRecord, commands: LifecycleCommands) -> list[str]:
    """What the lifecycle waits for now, and the command that moves it on (none while it runs)."""
    if record.event_in_progress is not None:
        return []
    failed = next((state for state in record.events if state.status in (EventStatus.FAILED, EventStatus.ERROR)), None)
    if failed is not None:
        return [f"{failed.name.value} is {failed.status.value}.", *retry_lines(record, failed, commands)]
    waiting_for = next((state for state in record.events if state.status is not EventStatus.COMPLETED), None)
    if waiting_for is None:
        return ["Every event is COMPLETED: the AMI is in production. Consumers select it with:",
                f"  bash client/get_ami.sh --stackTag {record.stack_tag} --minStage production"]
    if waiting_for.name in _APPROVALS:
        return [f"Next: {waiting_for.name.value} waits for an approver's decision. To approve:",
                f"  {commands.approve()}"]
    if waiting_for.name is EventName.QA_CERTIFICATION_RESPONSE:
        return ["Next: QA_CERTIFICATION_RESPONSE waits for the QA team's verdict (they were sent the export). "
                "QA records it with:", f"  {commands.certify()}"]
    return [f"Next: {waiting_for.name.value} was not requested. To run it:", f"  {commands.update(waiting_for.name)}"]


def _lines(record: LifecycleRecord, state: EventState, status: EventStatus) -> list[str]:
    kind = "patch" if record.lifecycle_type is LifecycleType.PATCH else "creation"
    lines = [
        f"AMI {kind} lifecycle {record.lifecycle_id} (stack tag {record.stack_tag}): {state.name.value} is "
        f"{status.value}.",
        "",
        f"Product:   {record.product_name} {record.product_ver}",
        f"Semver:    {record.semver}",
        f"AMI:       {record.ami.ami_id if record.ami else 'not built yet'}",
        f"Stage:     {STAGE_WORDS[record.stage]}",
        f"Event:     {EVENT_TITLES[state.name]} ({state.name.value}), attempt {state.attempt}",
        f"When:      {format_time(state.status_date or record.updated_at)}",
    ]
    if record.patch_number:
        lines.insert(3, f"Patch run: {record.patch_number}")
    if state.reason:
        lines.append(f"Reason:    {state.reason}")
    return lines


def _notification(record: LifecycleRecord, state: EventState, status: EventStatus, body: list[str],
                  recipients: tuple[str, ...]) -> Notification:
    subject = f"[AMI lifecycle] {state.name.value} {status.value} - {record.product_name} {record.semver}"
    commands = commands_for(record)
    looks = ["", f"To look at the lifecycle ({FROM_A_CHECKOUT}):", f"  {commands.status()}", f"  {commands.timeline()}"]
    return Notification(
        subject=subject[:_SUBJECT_LIMIT],
        message="\n".join(body + looks),
        lifecycle_id=record.lifecycle_id,
        stack_tag=record.stack_tag,
        event=state.name.value,
        status=status.value,
        severity=_SEVERITY_OF_STATUS[status],
        recipients=recipients,
    )


def event_notification(record: LifecycleRecord, name: EventName, status: EventStatus, detail: str = "") -> Notification:
    """An event's outcome, for every target of the lifecycle."""
    state = record.event(name)
    body = _lines(record, state, status)
    if detail:
        body += ["", detail]
    if status in (EventStatus.FAILED, EventStatus.ERROR):
        body += ["", *retry_lines(record, state, commands_for(record))]
    return _notification(record, state, status, body, tuple(target.target_id for target in record.notifications))


def started_notification(record: LifecycleRecord, name: EventName) -> Notification | None:
    """An event's start, only for the targets that asked for starts; None when none did."""
    recipients = tuple(target.target_id for target in record.notifications if target.in_progress)
    if not recipients:
        return None
    state = record.event(name)
    return _notification(record, state, EventStatus.IN_PROGRESS, _lines(record, state, EventStatus.IN_PROGRESS),
                         recipients)


def qa_request_lines(lifecycle_id: str, stack_tag: str | None) -> list[str]:
    """What the QA team's request says to do (the QA workflow's message): get the image, give the verdict."""
    commands = LifecycleCommands(stack_tag, lifecycle_id)
    return [
        f"To download it, get a fresh short-lived link with the QA key ({FROM_A_CHECKOUT}):",
        f"  {commands.export_link()}",
        f"(or GET /ami-creation/lifecycles/{lifecycle_id}/export-link with the QA key in the x-api-key header)",
        "",
        "To record the outcome, one of:",
        f"  {commands.certify('CERTIFIED')}",
        f"  {commands.certify('FAILED')}",
    ]


def chain_paused_notification(record: LifecycleRecord, completed: EventName) -> Notification:
    """Sent when a success leaves nothing to start automatically: says what the lifecycle waits for."""
    return event_notification(record, completed, EventStatus.COMPLETED,
                              "\n".join(next_step_lines(record, commands_for(record))))
