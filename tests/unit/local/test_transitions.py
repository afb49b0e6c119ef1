"""State transitions as Step Functions bills them: every state entered, and every attempt a Retry adds."""

from __future__ import annotations

from local.cloud import state_transitions


def _events(*types: str) -> list[dict[str, str]]:
    return [{"type": t} for t in types]


def test_states_entered_and_retried_attempts_are_both_transitions() -> None:
    history = _events(
        "ExecutionStarted", "PassStateEntered", "PassStateExited",
        "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionFailed",  # attempt 1 fails...
        "LambdaFunctionScheduled", "LambdaFunctionFailed", "LambdaFunctionScheduled", "LambdaFunctionSucceeded",  # ...2 retries
        "TaskStateExited", "WaitStateEntered", "WaitStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",  # a callback, once
        "ExecutionSucceeded",
    )

    assert state_transitions(history) == {"entered": 4, "retried": 2, "billed": 6}
