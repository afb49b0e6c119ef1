"""The step dispatcher: the payload is validated into the named step's input model, with the values
substituted into the definition read as the types the step takes; a payload the step cannot use fails
with InvalidStepInput (the error the workflows' Catch reports), naming the step and the field, never a value."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.steps.callbacks import handler as callbacks
from lambdas.steps.errors import InvalidStepInput
from lambdas.steps.smoke_tests import handler as smoke_tests
from tests.support.calls import FakeContext

RUN_CHECKS = {"step": "run_checks", "lifecycle_id": "lc-1", "instance_id": "i-0123456789abcdef0",
              "script_b64": "cHJpbnQoKQ==", "timeout_seconds": "600"}


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    sent: list[tuple[Any, ...]] = []
    monkeypatch.setattr(smoke_tests.commands, "run_shell", lambda *args: sent.append(args) or "command-1")
    return sent


def test_a_substituted_number_reaches_the_step_as_a_number(commands: list[tuple[Any, ...]]) -> None:
    assert smoke_tests.lambda_handler(RUN_CHECKS, FakeContext()) == {"command_id": "command-1"}

    ((instance_id, _, _, timeout),) = commands
    assert (instance_id, timeout) == ("i-0123456789abcdef0", 600)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"instance_typo": "i-1"}, "instance_typo: Extra inputs are not permitted"),
        ({"instance_id": None}, "instance_id: Input should be a valid string"),
        ({"instance_id": ""}, "instance_id: String should have at least 1 character"),
        ({"timeout_seconds": "ten minutes"}, "timeout_seconds: Input should be a valid integer"),
        ({"script_b64": "x'; reboot; echo '"}, "script_b64: String should match pattern"),
    ],
    ids=["unknown-key", "null", "empty", "not-a-number", "not-base64"],
)
def test_a_payload_the_step_cannot_use_fails_naming_the_step_and_the_field(
        commands: list[tuple[Any, ...]], change: dict[str, Any], expected: str) -> None:
    with pytest.raises(InvalidStepInput, match=r"^step 'run_checks' got an invalid payload: ") as raised:
        smoke_tests.lambda_handler({**RUN_CHECKS, **change}, FakeContext())

    assert expected in str(raised.value)
    assert commands == []  # the step never ran


def test_a_missing_key_is_named() -> None:
    payload = {key: value for key, value in RUN_CHECKS.items() if key != "script_b64"}

    with pytest.raises(InvalidStepInput, match="script_b64: Field required"):
        smoke_tests.lambda_handler(payload, FakeContext())


def test_an_unknown_step_names_the_steps_of_the_function() -> None:
    with pytest.raises(InvalidStepInput, match=r"unknown step 'run_check'; expected one of \['check_registration', "):
        smoke_tests.lambda_handler({**RUN_CHECKS, "step": "run_check"}, FakeContext())


def test_the_error_never_carries_the_task_token() -> None:
    payload = {"step": "await", "kind": "image", "lifecycle_id": "lc-1", "image_arn": "arn:aws:imagebuilder:image/x",
               "task_token": "secret-task-token", "execution_name": ""}

    with pytest.raises(InvalidStepInput) as raised:
        callbacks.lambda_handler(payload, FakeContext())

    assert "image.execution_name: String should have at least 1 character" in str(raised.value)
    assert "secret-task-token" not in str(raised.value) and raised.value.__cause__ is None
    assert raised.value.__suppress_context__
