"""The workflows stack template: linters clean, least privilege, every machine reports its errors."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambdas.domain.events import WORKFLOWS
from stacks import naming
from tests.infrastructure.conftest import as_list, checkov_bin, resources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workflows(synth) -> tuple[Path, str, dict[str, Any]]:
    name = naming.workflows_stack_name("main")
    return synth.outdir, name, synth.templates[name]


def _machines(outdir: Path, template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """state machine name -> parsed ASL (from the definition asset)."""
    machines = {}
    for props in (r["Properties"] for r in resources(template, "AWS::StepFunctions::StateMachine").values()):
        definition = (outdir / f"asset.{props['DefinitionS3Location']['Key']}").read_text()
        machines[props["StateMachineName"]] = {"asl": json.loads(definition), "props": props}
    return machines


def test_cfn_lint_is_clean(workflows: tuple[Path, str, dict[str, Any]]) -> None:
    outdir, name, _ = workflows
    lint = shutil.which("cfn-lint", path=str(Path(__file__).resolve().parents[2] / ".venv" / "bin")) or "cfn-lint"
    done = subprocess.run([lint, "-i", "W3005", "--", str(outdir / f"{name}.template.json")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_checkov_reports_no_failed_check(workflows: tuple[Path, str, dict[str, Any]]) -> None:
    outdir, name, _ = workflows
    done = subprocess.run(
        [checkov_bin(), "-f", str(outdir / f"{name}.template.json"), "--framework", "cloudformation",
         "--quiet", "--compact", "--skip-download"],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_policy_grants_a_wildcard_action(workflows: tuple[Path, str, dict[str, Any]]) -> None:
    _, _, template = workflows
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in as_list(statement["Action"]):
                assert action != "*" and not action.endswith(":*"), f"{logical_id} allows {action}"


def test_six_machines_with_fixed_names_and_error_logging_without_data(workflows: tuple[Path, str, dict[str, Any]]) -> None:
    outdir, name, template = workflows
    tag = name.removeprefix("AmiLifecycleWorkflows-")
    machines = _machines(outdir, template)
    assert set(machines) == {naming.state_machine_name(tag, w) for w in WORKFLOWS}
    for machine in machines.values():
        logging = machine["props"]["LoggingConfiguration"]
        assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False
        assert machine["asl"]["TimeoutSeconds"] > 0


def test_every_task_is_caught_and_errors_reach_the_error_queue(workflows: tuple[Path, str, dict[str, Any]]) -> None:
    outdir, _, template = workflows
    for name, machine in _machines(outdir, template).items():
        states = machine["asl"]["States"]
        report = states["Report error"]
        assert report["Parameters"]["QueueUrl"] == "${ErrorQueueUrl}", name
        assert report["Parameters"]["MessageBody"]["status"] == "ERROR"
        assert "ErrorQueueUrl" in machine["props"]["DefinitionSubstitutions"]
        assert states[report["Next"]]["Type"] == "Fail"
        for state_name, state in states.items():
            if state["Type"] == "Task" and state_name != "Report error":
                assert any("States.ALL" in c["ErrorEquals"] for c in state.get("Catch", [])), f"{name}: {state_name}"
                assert state.get("Retry"), f"{name}: {state_name} has no Retry"
            for retrier in state.get("Retry", []):
                assert retrier["IntervalSeconds"] >= 1


def test_every_wait_is_bounded_and_a_lost_event_ends_in_one_check(workflows: tuple[Path, str, dict[str, Any]]) -> None:
    outdir, _, template = workflows
    for name, machine in _machines(outdir, template).items():
        states = machine["asl"]["States"]
        for state_name, state in states.items():
            params = state.get("Parameters", {})
            if "poll.$" in params:  # a backoff check: bounded by simulated time waited
                assert params["max_seconds"].startswith("${") or int(params["max_seconds"]) > 0, f"{name}: {state_name}"
            if state.get("Resource", "").endswith(".waitForTaskToken"):  # a callback wait
                assert "TimeoutSecondsPath" in state or "TimeoutSeconds" in state, f"{name}: {state_name} waits forever"
                (timeout,) = [c for c in state["Catch"] if c["ErrorEquals"] == ["States.Timeout"]]
                check = states[timeout["Next"]]
                assert check["Parameters"]["step"] == "check" and check["Parameters"]["kind"] == params["Payload"]["kind"]
                assert check["Next"] == state["Next"], f"{name}: the check after {state_name} must rejoin the wait's path"


def test_callback_rules_match_only_the_final_states_a_wait_ends_on(workflows: tuple[Path, str, dict[str, Any]]) -> None:
    _, _, template = workflows
    patterns = {json.dumps(r["Properties"]["EventPattern"]["detail-type"]): r["Properties"]["EventPattern"]
                for r in resources(template, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"]}
    assert patterns['["EC2 AMI State Change"]']["detail"] == {"State": ["available", "failed"]}
    assert patterns['["EC2 Command Invocation Status-change Notification"]']["detail"] == {
        "status": ["Success", "Failed", "Cancelled", "TimedOut"]}
    assert patterns['["Inspector2 Scan"]']["detail"] == {"scan-status": ["INITIAL_SCAN_COMPLETE"]}
    assert patterns['["Inspector2 Coverage"]']["detail"]["scanStatus"]["statusCodeValue"] == ["INACTIVE"]
    assert "PENDING" not in json.dumps(patterns['["EC2 Image Builder Image State Change"]'])
    assert "EC2 Instance State-change Notification" not in json.dumps(patterns)  # no wait awaits an instance state
