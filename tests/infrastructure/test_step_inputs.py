"""Every Task that runs a workflow step sends what the step's input model takes: each key it sends is a
field, each required field is sent, and the step is in its function's step table. A misspelt or missing
key then fails here rather than in the middle of an execution. Reads statemachines/*.asl.json directly
(no synth), so it is fast."""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from lambdas.domain.events import WORKFLOWS
from lambdas.steps.common import describe, input_type

ASL_DIR = Path(__file__).resolve().parents[2] / "statemachines"
_FUNCTION = re.compile(r"^\$\{(StepsFunctionArn|CallbacksFunctionArn)\}$")
# Errors about the keys themselves. Values resolved at run time (JSONPath, substitutions) are unknown
# here, so their type errors are not checked: the workflow tests run them.
_KEY_ERRORS = {"missing", "extra_forbidden", "union_tag_invalid", "union_tag_not_found"}


def _definition(workflow: str) -> dict[str, Any]:
    return json.loads((ASL_DIR / f"{workflow}.asl.json").read_text())


def _handler(workflow: str, function: str) -> ModuleType:
    """The handler behind a Task's function substitution (stacks/workflows/machines.py): each workflow's
    own steps function, lambdas.steps.<workflow>.handler, and the callbacks function."""
    package = workflow.replace("-", "_") if function == "StepsFunctionArn" else "callbacks"
    return importlib.import_module(f"lambdas.steps.{package}.handler")


def _tasks(states: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in states.items():
        if state["Type"] == "Task":
            yield name, state
        inner = [*state.get("Branches", []), *(state[key] for key in ("ItemProcessor", "Iterator") if key in state)]
        for graph in inner:
            yield from _tasks(graph["States"])


def _step_calls(definition: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(state, function substitution, Resource, payload) of each Task invoking a step function, in both
    forms: the function ARN as Resource (payload = Parameters), or the lambda:invoke integration
    (payload = Parameters.Payload)."""
    for name, state in _tasks(definition["States"]):
        resource, parameters = state["Resource"], state.get("Parameters", {})
        invoke = resource.startswith("arn:aws:states:::lambda:invoke")
        function = _FUNCTION.match(parameters.get("FunctionName", "") if invoke else resource)
        if function:
            yield name, function[1], resource, parameters.get("Payload", {}) if invoke else parameters


def _key_problems(step: Callable[..., Any], payload: dict[str, Any]) -> str:
    # Run-time values get a None stand-in; constants (e.g. a wait's `kind`) are sent as they are.
    stand_in = {key.removesuffix(".$"): None if key.endswith(".$") else value
                for key, value in payload.items() if key != "step"}
    try:
        TypeAdapter(input_type(step)).validate_python(stand_in)
    except ValidationError as exc:
        return describe(e for e in exc.errors() if e["type"] in _KEY_ERRORS)
    return ""


def problems(workflow: str, definition: dict[str, Any]) -> list[str]:
    found = []
    for state, function, _, payload in _step_calls(definition):
        steps = _handler(workflow, function).STEPS
        step = payload.get("step")
        if step not in steps:
            found.append(f"{workflow} / {state}: step {step!r} is not one of {sorted(steps)}")
            continue
        keys = _key_problems(steps[step], payload)
        if keys:
            found.append(f"{workflow} / {state} ({step}): {keys}")
    return found


def test_the_workflows_are_the_definitions() -> None:
    assert sorted(path.name.removesuffix(".asl.json") for path in ASL_DIR.glob("*.asl.json")) == sorted(WORKFLOWS)


@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_every_step_task_sends_what_its_step_takes(workflow: str) -> None:
    definition = _definition(workflow)

    assert any(_step_calls(definition)), f"{workflow} runs no step: nothing was checked"
    assert problems(workflow, definition) == []


def test_both_resource_forms_are_checked_and_every_step_of_a_table_is_run_by_a_definition() -> None:
    calls = [(workflow, *call) for workflow in WORKFLOWS for call in _step_calls(_definition(workflow))]
    resources = {resource for _, _, _, resource, _ in calls}
    assert "arn:aws:states:::lambda:invoke.waitForTaskToken" in resources and "${StepsFunctionArn}" in resources

    used: dict[str, set[str]] = {}
    for workflow, _, function, _, payload in calls:
        used.setdefault(_handler(workflow, function).__name__, set()).add(payload["step"])
    for module, steps in used.items():
        assert set(importlib.import_module(module).STEPS) == steps, f"{module} has a step no definition runs"


def _payload(definition: dict[str, Any], state: str) -> dict[str, Any]:
    return next(payload for name, _, _, payload in _step_calls(definition) if name == state)


@pytest.mark.parametrize(
    ("workflow", "state", "mutate", "expected"),
    [
        ("smoke-tests", "Launch instance", lambda p: p.update({"instance_typo": "t3.micro"}), "instance_typo: Extra"),
        ("vulnerability-scans", "Evaluate findings", lambda p: p.pop("max_high"), "max_high: Field required"),
        ("qa-certification-request", "Check export", lambda p: p.update({"export_task.$": p.pop("export_task_id.$")}),
         "export_task_id: Field required"),
        ("build", "Wait for image", lambda p: p.pop("task_token.$"), "image.task_token: Field required"),
        ("smoke-tests", "Check command once", lambda p: p.update(kind="commands"),
         "does not match any of the expected tags"),
        ("mark-for-production", "Check backup", lambda p: p.update(step="store_state"), "'store_state' is not one of"),
    ],
    ids=["unknown-key", "missing-key", "misspelt-jsonpath-key", "missing-key-wait-for-task-token", "unknown-wait-kind",
         "unknown-step"],
)
def test_a_definition_sending_a_wrong_key_fails(workflow: str, state: str, mutate: Callable[[dict[str, Any]], Any],
                                                expected: str) -> None:
    definition = copy.deepcopy(_definition(workflow))
    mutate(_payload(definition, state))

    found = problems(workflow, definition)

    assert any(expected in problem and state in problem for problem in found), found
