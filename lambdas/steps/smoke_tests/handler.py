"""Smoke-test workflow steps: run the AMI check script on an instance launched from the AMI.

The instance's SSM registration is a backoff wait (no EventBridge event says an instance's agent came
online); the command's end is an event wait (callbacks function); `read_results` then turns the
command's output into the verdict.
"""

from __future__ import annotations

import json
from typing import Any

from lambdas.adapters import instance_gateway
from lambdas.adapters import ssm_command_gateway as commands
from lambdas.domain.contracts import SmokeCheck, SmokeTestOutputs
from lambdas.domain.quality_gates import smoke_verdict
from lambdas.steps import backoff, instances
from lambdas.steps.common import Step, step_handler, verdict
from lambdas.steps.errors import ChecksOutputMissing, CommandFailed, InstanceLost
from lambdas.steps.smoke_tests.inputs import ReadResultsInput, RegistrationCheckInput, RunChecksInput

# The check script's contract: its last line is this marker followed by {"checks": [...]}.
RESULT_MARKER = "AMI_CHECKS_JSON "


def check_registration(event: RegistrationCheckInput) -> dict[str, Any]:
    instance_id = event.instance_id
    state = instance_gateway.instance_state(instance_id)
    if state not in ("pending", "running"):
        raise InstanceLost(f"test instance {instance_id} is {state}: it will never register with SSM")
    return backoff.poll(event, instance_gateway.is_ssm_managed(instance_id), f"SSM registration of {instance_id}")


def run_checks(event: RunChecksInput) -> dict[str, Any]:
    # The script (components/checks/ami_checks.py, stdlib only) travels base64-encoded in the
    # definition, so no bucket or instance permission is needed to fetch it; `/` is the root it checks.
    command = (
        f"echo '{event.script_b64}' | base64 -d > /tmp/ami_checks.py && python3 /tmp/ami_checks.py /; "
        "status=$?; rm -f /tmp/ami_checks.py; exit $status"
    )
    command_id = commands.run_shell(event.instance_id, [command], "AMI lifecycle smoke tests", event.timeout_seconds)
    return {"command_id": command_id}


def parse_checks(stdout: str) -> list[SmokeCheck]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            payload = json.loads(line[len(RESULT_MARKER) :])
            return [SmokeCheck.model_validate(check) for check in payload["checks"]]
    raise ChecksOutputMissing("the check script printed no AMI_CHECKS_JSON line")


def read_results(event: ReadResultsInput) -> dict[str, Any]:
    """The verdict of a finished command (the wait before it ends only when the command finished)."""
    invocation = commands.invocation(event.command_id, event.instance_id)
    if invocation["status"] not in commands.FINISHED:
        raise CommandFailed(f"check command {invocation['status']}: {invocation['stderr'][-500:]}")
    # A failing check makes the script exit non-zero (status Failed); its output still holds the verdict.
    checks = parse_checks(invocation["stdout"])
    outputs = SmokeTestOutputs(instance_id=event.instance_id, checks=checks).model_dump(mode="json")
    gate = smoke_verdict(checks)
    return verdict(gate.status, outputs, gate.reason)


STEPS: dict[str, Step] = {
    "launch": instances.launch,
    "check_registration": check_registration,
    "run_checks": run_checks,
    "read_results": read_results,
    "terminate": instances.terminate,
}
lambda_handler = step_handler(STEPS)
