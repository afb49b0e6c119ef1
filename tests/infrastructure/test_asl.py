"""Every state machine of the synthesized workflows template is valid Amazon States Language, and
every message it sends names its execution and reaches a queue that admits its role.

The definition checked is the one CloudFormation would create: the statemachines/*.asl.json asset
with its DefinitionSubstitutions applied (intrinsics replaced by values of the right form, e.g. a
Lambda function ARN for a Task's Resource). The validator is the npm package asl-validator
(package.json), which checks the ASL schema, transitions, terminal states and JSONPath expressions.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lambdas.domain.events import WORKFLOWS
from stacks import naming
from tests.infrastructure.conftest import render, resources

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
VALIDATOR = REPO / "node_modules" / ".bin" / "asl-validator"
REGION, ACCOUNT = "us-east-1", "123456789012"
# ARN forms of the resource types a substitution may point at (what Fn::GetAtt Arn resolves to).
_ARN_FORMS = {
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::ImageBuilder::ImagePipeline": "arn:aws:imagebuilder:{region}:{account}:image-pipeline/{name}",
    "AWS::ImageBuilder::InfrastructureConfiguration": "arn:aws:imagebuilder:{region}:{account}:infrastructure-configuration/{name}",
    "AWS::ImageBuilder::DistributionConfiguration": "arn:aws:imagebuilder:{region}:{account}:distribution-configuration/{name}",
}


def _value(value: Any, template: dict[str, Any]) -> str:
    """A stand-in of the right form for what CloudFormation would substitute."""
    if isinstance(value, str):
        return value
    (function, argument), = value.items()
    if function == "Fn::GetAtt":
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        kind = template["Resources"][logical_id]["Type"]
        form = _ARN_FORMS.get(kind, "arn:aws:{service}:{region}:{account}:{name}") if attribute == "Arn" else "{name}"
        return form.format(region=REGION, account=ACCOUNT, name=logical_id.lower(), service=kind.split("::")[1].lower())
    if function == "Ref":
        return REGION if argument == "AWS::Region" else argument.lower()
    if function == "Fn::GetStackOutput":
        name = argument["OutputName"]
        if "Queue" in name or "Results" in name:
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name.lower()}"
        return f"arn:aws:local:{REGION}:{ACCOUNT}:{name.lower()}"
    return f"{function}-stand-in"


def definition(outdir: Path, template: dict[str, Any], machine_name: str) -> str:
    machines = [r["Properties"] for r in template["Resources"].values()
                if r["Type"] == "AWS::StepFunctions::StateMachine" and r["Properties"].get("StateMachineName") == machine_name]
    assert len(machines) == 1, f"no state machine {machine_name}"
    props = machines[0]
    text = (outdir / f"asset.{props['DefinitionS3Location']['Key']}").read_text()
    for name, value in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${%s}" % name, _value(value, template))
    return text


def validate(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "definition.asl.json"
    path.write_text(text)
    return subprocess.run([str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def workflows(synth) -> tuple[Path, dict[str, Any]]:
    if not VALIDATOR.exists():
        pytest.fail("node_modules/.bin/asl-validator is missing: run `npm ci` (local/setup-env.sh does)")
    return synth.outdir, synth.templates[naming.workflows_stack_name("main")]


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_state_machine_definition_is_valid_asl(workflows: tuple[Path, dict[str, Any]], workflow: str, tmp_path: Path) -> None:
    outdir, template = workflows
    text = definition(outdir, template, naming.state_machine_name("main", workflow))
    assert "${" not in text.replace("$${", ""), "a substitution was left unresolved"

    done = validate(text, tmp_path)

    assert done.returncode == 0 and "is valid" in done.stdout, done.stdout + done.stderr


def test_the_validator_rejects_a_next_to_a_missing_state(workflows: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """Guard against a vacuous pass: a real definition with one transition broken must fail."""
    outdir, template = workflows
    asl = json.loads(definition(outdir, template, naming.state_machine_name("main", "smoke-tests")))
    state = next(s for s in asl["States"].values() if "Next" in s)
    state["Next"] = "No such state"

    done = validate(json.dumps(asl), tmp_path)

    assert done.returncode != 0
    assert "MISSING_TRANSITION_TARGET" in done.stdout + done.stderr and "No such state" in done.stdout + done.stderr


def _senders_by_queue(outdir: Path, workflows_template: dict[str, Any], core: dict[str, Any]) -> dict[str, set[str]]:
    """Queue logical id -> ARNs of the roles whose machines have a state sending to it; asserts on the way
    that every message names the execution that sends it."""
    senders: dict[str, set[str]] = {}
    roles = {name: render(r["Properties"]["RoleName"])
             for name, r in resources(workflows_template, "AWS::IAM::Role").items() if "RoleName" in r["Properties"]}
    for machine in resources(workflows_template, "AWS::StepFunctions::StateMachine").values():
        props = machine["Properties"]
        role_arn = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{roles[props['RoleArn']['Fn::GetAtt'][0]]}"
        asl = json.loads((outdir / f"asset.{props['DefinitionS3Location']['Key']}").read_text())
        for state_name, state in asl["States"].items():
            if state.get("Resource") != "arn:aws:states:::sqs:sendMessage":
                continue
            assert state["Parameters"]["MessageBody"]["execution_arn.$"] == "$$.Execution.Id", state_name
            substitution = state["Parameters"]["QueueUrl"].removeprefix("${").removesuffix("}")
            output = props["DefinitionSubstitutions"][substitution]["Fn::GetStackOutput"]["OutputName"]
            senders.setdefault(core["Outputs"][output]["Value"]["Ref"], set()).add(role_arn)
    return senders


def test_every_message_names_its_execution_and_its_queue_admits_exactly_the_machines_that_send_to_it(synth) -> None:
    """The receiver queues deny SendMessage to every principal but these roles: a workflow left out could
    no longer report, a role let in could forge results."""
    outdir, core = synth.outdir, synth.templates[naming.core_stack_name("main")]
    senders = _senders_by_queue(outdir, synth.templates[naming.workflows_stack_name("main")], core)
    assert len(senders) == 3 and len(senders[max(senders, key=lambda q: len(senders[q]))]) == len(WORKFLOWS)
    for queue, roles in senders.items():
        (policy,) = [p["Properties"]["PolicyDocument"] for p in resources(core, "AWS::SQS::QueuePolicy").values()
                     if p["Properties"]["Queues"] == [{"Ref": queue}]]
        (deny,) = [s for s in policy["Statement"] if s["Action"] == "sqs:SendMessage"]
        assert (deny["Effect"], deny["Principal"]) == ("Deny", {"AWS": "*"})
        assert deny["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert set(deny["Condition"]) == {"ArnNotEquals"}
        assert set(render(deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"])) == roles, queue
