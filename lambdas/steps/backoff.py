"""Capped exponential backoff for the waits AWS sends no event for (SSM registration, store tasks, VM
export): the state machine loops Wait (SecondsPath) -> check -> Choice, and each check says when to
look next.

The loop state (`poll`, a PollState) is `{"waited", "delay", "checks"}`: simulated seconds waited so far,
the delay of the Wait just taken and the checks made. Waited time is summed from the Waits rather than
read from a clock, so the bound means the same on AWS and on the local cloud's compressed time.

The next delay:
- with no progress figure, it grows by GROWTH up to BACKOFF_CAP_SECONDS: checks grow with the
  logarithm of the duration, and once a few checks are made the work is seen done within about a
  quarter of the time waited ((GROWTH - 1) / GROWTH);
- with AWS's own progress figure (store tasks' ProgressPercentage, exports' Progress), it is the
  estimated remaining time plus a margin, so one Wait usually reaches the end whatever the duration
  (ESTIMATE_CAP_SECONDS keeps a stalled figure from postponing the next look for hours);
- never below FLOOR_SECONDS, never past the wait's bound: the last check is at the bound itself.
"""

from __future__ import annotations

from typing import Any

from pydantic import NonNegativeInt, PositiveInt

from lambdas.steps.common import StepInput, StrictModel
from lambdas.steps.errors import NotReadyInTime

FLOOR_SECONDS = 30
GROWTH = 4 / 3
BACKOFF_CAP_SECONDS = 15 * 60
ESTIMATE_CAP_SECONDS = 60 * 60
ESTIMATE_MARGIN = 1.05
ESTIMATE_SLACK_SECONDS = 10


class PollState(StrictModel):
    """The loop state the definition keeps between checks: its first value is set by the definition,
    the later ones are the previous check's answer."""

    waited: NonNegativeInt
    delay: NonNegativeInt
    checks: NonNegativeInt
    done: bool = False  # absent from the first value; a done poll is never checked again


class BackoffCheck(StepInput):
    """The input of a step that is one check of a bounded wait."""

    poll: PollState
    max_seconds: PositiveInt  # "${...MaxSeconds}" arrives as a string: lax mode reads "600" as 600


def next_delay(waited: float, previous: float, progress: float | None, remaining: float) -> int:
    if progress is not None and 0 < progress < 100 and waited > 0:
        estimate = waited * (100 - progress) / progress
        delay = min(ESTIMATE_CAP_SECONDS, estimate * ESTIMATE_MARGIN + ESTIMATE_SLACK_SECONDS)
    else:
        delay = min(BACKOFF_CAP_SECONDS, previous * GROWTH)
    return int(max(1, min(remaining, max(FLOOR_SECONDS, delay))))


def _span(seconds: int) -> str:
    return f"{seconds // 3600} h {seconds % 3600 // 60} min" if seconds >= 3600 else f"{seconds // 60} min {seconds % 60} s"


def poll(event: BackoffCheck, done: bool, what: str, *, progress: float | None = None,
         **details: Any) -> dict[str, Any]:
    """One check of a bounded wait; `details` join the poll's fields when done (a verdict's status,
    outputs and reason, read by the state machine where the poll is kept). Call it after detecting
    terminal failures (raise those first)."""
    state, bound = event.poll, event.max_seconds
    waited, checks = state.waited + state.delay, state.checks + 1
    if done:
        return {"done": True, "waited": waited, "checks": checks, **details}
    if waited >= bound:
        raise NotReadyInTime(f"{what} not done after {_span(waited)} ({checks} checks)")
    delay = next_delay(waited, state.delay, progress, bound - waited)
    return {"done": False, "waited": waited, "delay": delay, "checks": checks}
