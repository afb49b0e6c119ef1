"""The default (text) output: a short summary a person reads, with the command to run next.

Each function returns lines; `--output json` prints the API's document instead (operations.py).
Times are UTC in one format, stages and statuses in the words the rest of the tool uses, and every
printed command runs when pasted (it names the program as the CLI was run, see main.py).
"""

from __future__ import annotations

from typing import Any

from lambdas.domain.cli_commands import LifecycleCommands
from lambdas.domain.display import EVENT_TITLES, STAGE_WORDS, brief, duration_between, format_time
from lambdas.domain.event_details import event_details
from lambdas.domain.events import EventStatus, LifecycleType
from lambdas.domain.models import EventState, LifecycleRecord
from lambdas.domain.notifications import commands_for, next_step_lines

# The details worth a line in a terminal; the timeline page shows them all.
_SHOWN_DETAILS = ("AMI", "Checks", "Findings", "Gate", "Exported image", "Verdict", "Decision")
_NAME_WIDTH = len("VULNERABILITY_SCANS_AMI_CREATE")


def record_of(document: dict[str, Any]) -> LifecycleRecord:
    return LifecycleRecord.model_validate(document)


def _event_line(state: EventState) -> list[str]:
    status = state.status.value if state.enabled or state.status is not EventStatus.NOT_STARTED else "not requested"
    line = f"  {state.name.value:<{_NAME_WIDTH}}  {status:<13}"
    if state.status is not EventStatus.NOT_STARTED:
        took = duration_between(state.started_at, state.status_date)
        running = state.status is EventStatus.IN_PROGRESS
        line += f"  {'since' if running else 'at'} {format_time(state.started_at if running else state.status_date)}"
        line += f" ({took})" if took and not running else ""
    lines = [line.rstrip()]
    details = [f"{label}: {text}" for label, text in event_details(state) if label in _SHOWN_DETAILS]
    if state.reason:
        details.append(f"Reason: {brief(state.reason)}")
    if state.earlier_attempts:
        details.append(f"attempt {state.attempt}; earlier: " + ", ".join(
            f"{earlier.attempt} {earlier.status.value}" for earlier in state.earlier_attempts))
    lines += [f"  {'':<{_NAME_WIDTH}}  {detail}" for detail in details]
    return lines


def lifecycle_lines(record: LifecycleRecord, program: str) -> list[str]:
    """A lifecycle (or patch run) in about 15 lines: what it is, each event, the AMI, the next step."""
    patch = record.lifecycle_type is LifecycleType.PATCH
    what = f"patch run {record.patch_number} of lifecycle" if patch else "Lifecycle"
    lines = [
        f"{what[0].upper()}{what[1:]} {record.lifecycle_id} (stack tag {record.stack_tag})",
        f"  Product: {record.product_name} {record.semver} (product version {record.product_ver}), "
        f"owner {record.owner}",
        f"  Stage:   {STAGE_WORDS[record.stage]}; AMI "
        + (f"{record.ami.ami_id} ({record.ami.region})" if record.ami else "not built yet"),
    ]
    if patch and record.patch and record.parent_ami:
        lines.append(f"  Patch:   {record.patch.semver_bump_type} of {record.parent_ami.ami_id} "
                     f"({record.parent_ami.semver}): {record.patch.change_description}")
    lines.append("Events:")
    for state in record.events:
        lines += _event_line(state)
    commands = commands_for(record, program)
    next_step = next_step_lines(record, commands)
    running = record.event_in_progress
    if running is not None:
        next_step = [f"{EVENT_TITLES[running.name]} ({running.name.value}) is running. Follow it:",
                     f"  {commands.status()} --wait"]
    return lines + next_step


def status_lines(document: dict[str, Any], kind: str, program: str) -> list[str]:
    if kind == LifecycleType.CREATION.value:
        return lifecycle_lines(record_of(document), program)
    if not document.get("patch"):
        return [f"Lifecycle {document.get('lifecycle_id')} has no patch run yet."]
    return lifecycle_lines(record_of(document["patch"]), program)


def list_lines(items: list[dict[str, Any]], stack_tag: str, kind: str) -> list[str]:
    """One line per lifecycle, newest first."""
    if not items:
        return [f"No {kind} lifecycle on stack tag {stack_tag}."]
    lines = [f"{len(items)} {kind} lifecycle{'s' if len(items) != 1 else ''} on stack tag {stack_tag}, newest first:"]
    for item in items:
        record = record_of(item)
        running = record.event_in_progress
        failed = next((s for s in record.events if s.status in (EventStatus.FAILED, EventStatus.ERROR)), None)
        now = (f"{running.name.value} IN_PROGRESS" if running
               else f"{failed.name.value} {failed.status.value}" if failed else STAGE_WORDS[record.stage])
        run = f" patch {record.patch_number}" if record.patch_number else ""
        lines.append(f"  {record.lifecycle_id}{run}  {record.product_name} {record.semver}  "
                     f"{record.ami.ami_id if record.ami else 'no AMI yet'}  {now}  (created "
                     f"{format_time(record.created_at)})")
    return lines


def accepted_lines(result: dict[str, Any], stack_tag: str, program: str) -> list[str]:
    """After AMI_CREATE / AMI_PATCH / an update: what started, and how to follow it."""
    patch = result.get("lifecycle_type") == LifecycleType.PATCH.value
    run = f" patch run {result['patch_number']}" if result.get("patch_number") else ""
    started = f"{result['event_started']} started" if result.get("event_started") else "no event started"
    commands = LifecycleCommands(stack_tag, str(result.get("lifecycle_id")), patch, program)
    return [
        f"Lifecycle {result.get('lifecycle_id')}{run} ({result.get('lifecycle_type')}, semver {result.get('semver')}): "
        f"{started}.",
        f"Follow it:     {commands.status()} --wait",
        f"Timeline page: {commands.timeline()}",
    ]


def verdict_lines(result: dict[str, Any], stack_tag: str, kind: str, program: str) -> list[str]:
    """After a certification or an approval: what was recorded, and what comes next."""
    date = f" ({format_time(result['status_date'])})" if result.get("status_date") else ""
    lines = [f"Lifecycle {result.get('lifecycle_id')}: {result.get('event')} {result.get('status')}{date}."]
    commands = LifecycleCommands(stack_tag, str(result.get("lifecycle_id")), kind == LifecycleType.PATCH.value, program)
    if result.get("status") == EventStatus.IN_PROGRESS.value:
        return [*lines, f"Follow it:     {commands.status()} --wait"]
    if result.get("event") == "QA_CERTIFICATION_RESPONSE" and result.get("status") == EventStatus.COMPLETED.value:
        return [*lines, "Next: an approver decides. To approve:", f"  {commands.approve()}"]
    return [*lines, f"See it:        {commands.status()}"]


def link_lines(label: str, url: str, expires_at: str | None) -> list[str]:
    return [f"{label}: {url}", f"Expires: {format_time(expires_at)}"]
