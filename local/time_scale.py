"""Compressed time for moto's Step Functions interpreter and for the fakes.

A factor of 0.001 makes a 60 s Wait take 60 ms and a simulated 45-minute build take 2.7 s. The fakes
read simulated time through `TimeScale.elapsed` so that every clock in a run agrees.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

_Callback = state_task_service_callback.StateTaskServiceCallback


class TimeScale:
    def __init__(self, factor: float = 0.001) -> None:
        if factor <= 0:
            raise ValueError("the time factor must be positive")
        self.factor = factor
        self._saved: list[tuple[Any, str, Any]] = []

    def seconds(self, simulated: float) -> float:
        """Wall-clock seconds for a simulated duration."""
        return simulated * self.factor

    def now(self) -> float:
        return time.monotonic()

    def elapsed(self, since: float) -> float:
        """Simulated seconds since the wall-clock instant `since` (from `now()`)."""
        return (time.monotonic() - since) / self.factor

    @staticmethod
    def epoch(instant: float) -> float:
        """The time.time() of an instant taken with `now()` (history timestamps are epoch times)."""
        return time.time() - (time.monotonic() - instant)

    def install(self) -> TimeScale:
        factor = self.factor

        def wait_interval(function: WaitFunction, env: Any, wait_seconds: float) -> None:
            # Interruptible like the original: an aborted execution stops waiting at once.
            if wait_seconds > 0:
                env.program_state_event.wait(wait_seconds * factor)

        def callback_timeout(task: Any, timeout_seconds: float, callback_endpoint: Any) -> Any:
            return callback_endpoint.wait(timeout=timeout_seconds * factor)

        scaled_time = SimpleNamespace(**{name: getattr(time, name) for name in dir(time) if not name.startswith("_")})
        scaled_time.sleep = lambda seconds: time.sleep(seconds * factor)

        self._patch(WaitFunction, "_wait_interval", wait_interval)
        self._patch(_Callback, "_wait_for_task_token_timeout", callback_timeout)
        self._patch(retrier_decl, "time", scaled_time)
        return self

    def uninstall(self) -> None:
        while self._saved:
            owner, name, original = self._saved.pop()
            setattr(owner, name, original)

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self._saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)
