"""The backoff of waits AWS sends no event for: checks grow with the logarithm of the duration, an AWS
progress figure takes the next check to the estimated end, and the bound is the last check."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.steps import backoff
from lambdas.steps.errors import NotReadyInTime


def _check(poll: dict[str, Any], bound: int) -> backoff.BackoffCheck:
    return backoff.BackoffCheck(lifecycle_id="lc-1", poll=poll, max_seconds=bound)


def _schedule(done_at: float, first: int, bound: int, progress: bool) -> tuple[int, float]:
    """Checks made and the lag (simulated seconds) of a wait whose work ends at `done_at`."""
    poll: dict[str, Any] = {"waited": 0, "delay": first, "checks": 0}
    while True:
        waited = poll["waited"] + poll["delay"]
        figure = min(99.0, 100 * waited // done_at) if progress and waited < done_at else None
        poll = backoff.poll(_check(poll, bound), waited >= done_at, "work", progress=figure)
        if poll["done"]:
            return poll["checks"], waited - done_at


@pytest.mark.parametrize("minutes", [2, 4, 10, 20, 40, 80])
def test_a_progress_figure_ends_the_wait_in_two_checks_a_few_percent_late(minutes: int) -> None:
    checks, lag = _schedule(minutes * 60, first=120, bound=4 * 3600, progress=True)

    assert checks <= 2 + (minutes > 60)  # one estimate, one check at the end (a long task: one more)
    assert lag <= 0.06 * minutes * 60 + backoff.ESTIMATE_SLACK_SECONDS


def test_without_a_figure_checks_grow_with_the_logarithm_of_the_duration_and_lag_a_quarter_at_most() -> None:
    runs = [(minutes * 60, *_schedule(minutes * 60, first=60, bound=6 * 3600, progress=False)) for minutes in (2, 4, 8, 16, 32)]

    counts = [checks for _, checks, _ in runs]
    assert counts == sorted(counts) and all(b - a <= 3 for a, b in zip(counts, counts[1:], strict=False))  # a doubling: 3 more at most
    assert all(lag <= 0.25 * (done + lag) for done, _, lag in runs)
    delays = [backoff.next_delay(0, previous, None, 10**6) for previous in (60, 600, 3600)]
    assert delays == [80, 800, backoff.BACKOFF_CAP_SECONDS]  # x4/3, capped at 15 min


def test_the_last_check_is_at_the_bound_and_past_it_the_wait_fails_with_its_span() -> None:
    assert backoff.next_delay(500, 400, None, remaining=100) == 100  # never beyond the bound
    poll = _check({"waited": 540, "delay": 60, "checks": 7}, 600)

    with pytest.raises(NotReadyInTime, match=r"export x not done after 10 min 0 s \(8 checks\)"):
        backoff.poll(poll, False, "export x")
    assert backoff.poll(poll, True, "export x", status="COMPLETED") == {
        "done": True, "waited": 600, "checks": 8, "status": "COMPLETED"}


def test_a_stalled_figure_cannot_postpone_the_next_check_for_hours() -> None:
    assert backoff.next_delay(120, 120, progress=0.5, remaining=10**6) == backoff.ESTIMATE_CAP_SECONDS
    assert backoff.next_delay(120, 120, progress=99.9, remaining=10**6) == backoff.FLOOR_SECONDS
