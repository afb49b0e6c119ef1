"""--wait: follow a lifecycle until the events it started have finished.

Polls the status route with a bounded backoff (2 s, growing to 30 s) within an overall timeout, and
prints each change of an event's status on stderr. The lifecycle is still running while an event is
IN_PROGRESS, or while an enabled automatic event is NOT_STARTED with every earlier event COMPLETED (the
moment between a result and the start of the next event). Then it is done: exit 0 if no event ended
FAILED or ERROR, else exit 1 with the event's reason; either way the lifecycle is printed (render.py),
with the command that moves it on. Manual steps (QA certification, approval) are not waited for: the
summary says the lifecycle waits for them and how to give them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from lambdas.domain.display import brief
from lambdas.domain.events import AUTOMATIC_CREATION_EVENTS, AUTOMATIC_PATCH_EVENTS

from .errors import ApiError, CliError, LifecycleFailed, TransportError
from .render import lifecycle_lines, record_of

FIRST_DELAY, MAX_DELAY, BACKOFF = 2.0, 30.0, 1.5
AUTOMATIC = {
    "ami-creation": {event.value for event in AUTOMATIC_CREATION_EVENTS},
    "ami-patch": {event.value for event in AUTOMATIC_PATCH_EVENTS},
}
def is_running(record: dict[str, Any], kind: str) -> bool:
    events = record.get("events") or []
    if any(event.get("status") == "IN_PROGRESS" for event in events):
        return True
    for index, event in enumerate(events):
        if (
            event.get("name") in AUTOMATIC[kind]
            and event.get("enabled")
            and event.get("status") == "NOT_STARTED"
            and all(earlier.get("status") == "COMPLETED" for earlier in events[:index])
        ):
            return True
    return False


def failure(record: dict[str, Any]) -> str | None:
    for event in record.get("events") or []:
        if event.get("status") in ("FAILED", "ERROR"):
            reason = brief(event.get("reason") or "no reason recorded")
            return f"{event['name']} {event['status']}: {reason}"
    return None


def _status(session: Any, lifecycle_id: str, kind: str, key: str, patch_number: int | None) -> dict[str, Any]:
    body = session.api.call("GET", f"/{kind}/lifecycles/{lifecycle_id}/status", key=key).body
    if kind == "ami-creation":
        return body
    record = body.get("patch")
    if record is None:
        raise CliError(f"lifecycle {lifecycle_id} has no patch run to follow")
    if patch_number is not None and record.get("patch_number") != patch_number:
        raise LifecycleFailed(
            f"patch run {record.get('patch_number')} replaced run {patch_number} while waiting; "
            f"follow it with: {session.program} --operation AMI_GET_STATUS_BY_LIFECYCLE_ID --lifecycleId {lifecycle_id} "
            "--lifecycleType ami-patch --wait"
        )
    return record


def _report_changes(session: Any, record: dict[str, Any], seen: dict[str, tuple[str, int]], elapsed: float) -> bool:
    """One progress line on stderr per change of an event's status or attempt; True if any changed."""
    changed = False
    for event in record.get("events") or []:
        state = (event.get("status", ""), int(event.get("attempt") or 0))
        if (event.get("status") == "NOT_STARTED" and event["name"] not in seen) or seen.get(event["name"]) == state:
            continue
        seen[event["name"]] = state
        changed = True
        failed = event.get("reason") and state[0] in ("FAILED", "ERROR")
        reason = f" - {brief(event['reason'])}" if failed else ""
        attempt = f" (attempt {state[1]})" if state[1] > 1 else ""
        session.note(f"[{elapsed:>5.0f}s] {event['name']} {state[0]}{attempt}{reason}")
    return changed


def follow(
    session: Any,
    lifecycle_id: str | None,
    kind: str,
    *,
    timeout: float,
    patch_number: int | None = None,
    output: str = "text",
    operator_key: str,
) -> int:
    if not lifecycle_id:
        raise CliError("no lifecycle id to follow")
    sleep = session.sleep or time.sleep
    clock = getattr(session, "clock", None) or time.monotonic
    started = clock()
    deadline = started + timeout
    seen: dict[str, tuple[str, int]] = {}
    delay = FIRST_DELAY
    record: dict[str, Any] | None = None
    while True:
        try:
            record = _status(session, lifecycle_id, kind, operator_key, patch_number)
        except (TransportError, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.status < 500 and exc.status != 429:
                raise
            session.note(f"status poll failed, retrying: {exc.message}")
        else:
            changed = _report_changes(session, record, seen, clock() - started)
            if not is_running(record, kind):
                break
            if changed:
                delay = FIRST_DELAY
        remaining = deadline - clock()
        if remaining <= 0:
            running = ", ".join(
                f"{event['name']} {event['status']}" for event in (record or {}).get("events") or []
                if event.get("status") == "IN_PROGRESS"
            )
            if record is not None and output == "json":
                print(json.dumps(record, indent=2), file=session.out)
            raise LifecycleFailed(f"timed out after {timeout:.0f}s waiting for lifecycle {lifecycle_id}"
                                  + (f" ({running})" if running else ""))
        sleep(min(delay, remaining))
        delay = min(delay * BACKOFF, MAX_DELAY)

    if output == "json":
        print(json.dumps(record, indent=2), file=session.out)
    elif output == "text":
        session.show(lifecycle_lines(record_of(record), session.program))
    problem = failure(record)
    if problem:
        raise LifecycleFailed(problem)
    return 0
