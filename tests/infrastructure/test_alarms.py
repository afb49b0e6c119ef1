"""Operators hear of every failure that needs them: dead-lettered messages, function errors, failed
executions, API server errors and refused forged messages each raise an alarm that notifies the alarm
topic, which CloudWatch is allowed to publish to (topic and key policies) and operators receive."""

from __future__ import annotations

import json
from typing import Any

from local.endpoint.policy import glob_match
from tests.infrastructure.conftest import Synth, as_list, functions_by_handler, render, resources
from tests.infrastructure.test_core_stack import OTHER_CORE, WORKFLOWS

ALARM_ARN = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"


def _alarms(core: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in resources(core, "AWS::CloudWatch::Alarm").values()}


def _alarm_topic(core: dict[str, Any]) -> str:
    (topic,) = [name for name, r in resources(core, "AWS::SNS::Topic").items()
                if r["Properties"]["DisplayName"].endswith(" alarms")]
    return topic


def _fires_on_any(alarm: dict[str, Any]) -> bool:
    settings = ("ComparisonOperator", "Threshold", "EvaluationPeriods", "TreatMissingData")
    return tuple(alarm[name] for name in settings) == ("GreaterThanThreshold", 0, 1, "notBreaching")


def _watched(alarms: dict[str, dict[str, Any]], namespace: str, metric: str) -> list[dict[str, Any]]:
    """The dimensions of the alarms on one metric (dimension name -> rendered value)."""
    return [{d["Name"]: render(d["Value"]) for d in a["Dimensions"]} for a in alarms.values()
            if a.get("Namespace") == namespace and a.get("MetricName") == metric]


def test_every_alarm_notifies_the_alarm_topic_as_soon_as_one_thing_goes_wrong(core: dict[str, Any]) -> None:
    alarms = _alarms(core)
    assert len(alarms) == 3 + 9 + 6 + 1 + 1  # dead-letter queues, functions, state machines, API, refused messages
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == [{"Ref": _alarm_topic(core)}], name
        assert _fires_on_any(alarm), name
        assert name.startswith("ami-lc-main-alarm-")


def test_each_dead_letter_queue_alarms_on_a_visible_message(core: dict[str, Any]) -> None:
    queues = resources(core, "AWS::SQS::Queue")
    dead_letters = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                    for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    watched = _watched(_alarms(core), "AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert sorted(w["QueueName"] for w in watched) == sorted(f"${{{q}.QueueName}}" for q in dead_letters)
    assert len(dead_letters) == 3


def test_each_function_alarms_on_its_errors(core: dict[str, Any]) -> None:
    functions = {name for name, _ in functions_by_handler(core).values()}
    watched = _watched(_alarms(core), "AWS/Lambda", "Errors")
    assert sorted(w["FunctionName"] for w in watched) == sorted(f"${{{f}}}" for f in functions)


def test_each_state_machine_alarms_on_failed_timed_out_and_aborted_executions(
    core: dict[str, Any], synth: Synth
) -> None:
    workflows_template = synth.templates["AmiLifecycleWorkflows-main"]
    machine_names = {r["Properties"]["StateMachineName"]
                     for r in resources(workflows_template, "AWS::StepFunctions::StateMachine").values()}
    watched: dict[str, set[str]] = {}
    for alarm in _alarms(core).values():
        if "Metrics" not in alarm:
            continue
        (expression,) = [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData")]
        inputs = {m["Id"]: m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m}
        assert expression == " + ".join(f"FILL({i}, 0)" for i in inputs)  # any one of them, none hidden by a gap
        for metric in inputs.values():
            assert metric["Namespace"] == "AWS/States"
            (dimension,) = metric["Dimensions"]
            arn = render(dimension["Value"])
            watched.setdefault(arn, set()).add(metric["MetricName"])
    prefix = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"
    assert watched == {prefix + f"ami-lc-main-{w}": {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
                       for w in WORKFLOWS}
    assert {arn.removeprefix(prefix) for arn in watched} == machine_names  # the machines that exist


def test_the_api_alarms_on_server_errors_of_its_stage(core: dict[str, Any]) -> None:
    (stage_id,) = resources(core, "AWS::ApiGateway::Stage")
    (api,) = resources(core, "AWS::ApiGateway::RestApi").values()
    assert _watched(_alarms(core), "AWS/ApiGateway", "5XXError") == [
        {"ApiName": api["Properties"]["Name"], "Stage": f"${{{stage_id}}}"}]


def test_a_refused_forged_message_raises_the_deployments_own_alarm(core: dict[str, Any]) -> None:
    # The receivers emit this metric (tests/integration/orchestrator/test_forged_results.py reads it).
    assert _watched(_alarms(core), "AmiLifecycle", "UntrustedMessageRefused") == [{"deployment": "main"}]


def test_cloudwatch_may_publish_to_the_encrypted_alarm_topic_for_this_deployments_alarms_only(
    core: dict[str, Any]
) -> None:
    topic = _alarm_topic(core)
    (key_id,) = resources(core, "AWS::KMS::Key")
    assert resources(core, "AWS::SNS::Topic")[topic]["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    (topic_policy,) = [p["Properties"]["PolicyDocument"] for p in resources(core, "AWS::SNS::TopicPolicy").values()
                       if p["Properties"]["Topics"] == [{"Ref": topic}]]
    key_policy = resources(core, "AWS::KMS::Key")[key_id]["Properties"]["KeyPolicy"]
    grants = {}
    for document, actions in ((topic_policy, ["sns:Publish"]), (key_policy, ["kms:Decrypt", "kms:GenerateDataKey*"])):
        (statement,) = [s for s in document["Statement"]
                        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}]
        assert statement["Effect"] == "Allow" and as_list(statement["Action"]) == actions
        grants[actions[0]] = render(statement["Condition"])
    (condition,) = {json.dumps(c, sort_keys=True) for c in grants.values()}  # the same narrowing on both
    pattern = json.loads(condition)["ArnLike"]["aws:SourceArn"]
    assert json.loads(condition)["StringEquals"] == {"aws:SourceAccount": "${AWS::AccountId}"}
    for name in _alarms(core):
        assert glob_match(pattern, ALARM_ARN + name), name
    assert not glob_match(pattern, ALARM_ARN + "ami-lc-other-alarm-x")


def test_operators_receive_every_alarm_unfiltered(other_synth: Synth) -> None:
    template = other_synth.templates[OTHER_CORE]
    topic = _alarm_topic(template)
    subscriptions = [s["Properties"] for s in resources(template, "AWS::SNS::Subscription").values()
                     if s["Properties"]["TopicArn"] == {"Ref": topic}]
    assert [(s["Protocol"], s["Endpoint"], "FilterPolicy" in s) for s in subscriptions] == [
        ("email", "ops@example.com", False)]
