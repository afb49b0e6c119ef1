"""The local endpoint's IAM evaluation, statement by statement, as the IAM User Guide describes it:
identity-based policies alone, and together with a resource-based policy."""

from __future__ import annotations

import pytest

from local.endpoint.policy import Caller, evaluate, evaluate_request, glob_match

TAG = "aws:requesttag/ami_lc_deployment"


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_an_action_needs_an_allow_and_is_matched_without_case() -> None:
    assert evaluate([allow("dynamodb:GetItem")], "dynamodb:getitem", "arn:t", {}).allowed
    assert not evaluate([allow("dynamodb:GetItem")], "dynamodb:DeleteTable", "arn:t", {}).allowed
    assert not evaluate([], "dynamodb:GetItem", "arn:t", {}).allowed


def test_wildcards_match_actions_and_resources_but_resources_keep_their_case() -> None:
    statements = [allow("ec2:Describe*", "arn:aws:ec2:*:123:instance/i-?bc")]
    assert evaluate(statements, "ec2:DescribeInstances", "arn:aws:ec2:us-east-1:123:instance/i-abc", {}).allowed
    assert not evaluate(statements, "ec2:DescribeInstances", "arn:aws:ec2:us-east-1:123:instance/i-ABC", {}).allowed
    assert glob_match("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c")
    assert not glob_match("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket")
    assert glob_match("a.b[c]", "a.b[c]")  # regular-expression characters are literal


def test_an_explicit_deny_wins_over_any_allow() -> None:
    statements = [allow("s3:*"), {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]
    decision = evaluate(statements, "s3:DeleteObject", "arn:aws:s3:::b/k", {})
    assert not decision.allowed and decision.explicit_deny
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::b/k", {}).allowed


def test_not_action_and_not_resource() -> None:
    statements = [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}]
    assert evaluate(statements, "s3:GetObject", "arn:aws:s3:::public/k", {}).allowed
    assert not evaluate(statements, "s3:GetObject", "arn:aws:s3:::secret/k", {}).allowed
    assert not evaluate(statements, "iam:PassRole", "arn:aws:iam::1:role/r", {}).allowed


def test_a_condition_key_missing_from_the_request_fails_a_positive_operator() -> None:
    statements = [allow("ec2:RunInstances", Condition={"StringEquals": {"aws:RequestTag/AMI_LC_DEPLOYMENT": "main"}})]
    assert evaluate(statements, "ec2:RunInstances", "*", {TAG: ["main"]}).allowed
    assert not evaluate(statements, "ec2:RunInstances", "*", {TAG: ["other"]}).allowed
    assert not evaluate(statements, "ec2:RunInstances", "*", {}).allowed


def test_negated_operators_and_if_exists_are_satisfied_by_a_missing_key() -> None:
    negated = [allow("a:B", Condition={"StringNotEquals": {"ec2:ResourceTag/env": "prod"}})]
    assert evaluate(negated, "a:B", "*", {}).allowed
    assert not evaluate(negated, "a:B", "*", {"ec2:resourcetag/env": ["prod"]}).allowed
    if_exists = [allow("a:B", Condition={"StringEqualsIfExists": {"ec2:ResourceTag/env": "dev"}})]
    assert evaluate(if_exists, "a:B", "*", {}).allowed
    assert not evaluate(if_exists, "a:B", "*", {"ec2:resourcetag/env": ["prod"]}).allowed


def test_values_of_one_key_are_or_ed_and_keys_are_and_ed() -> None:
    statements = [allow("iam:PassRole", Condition={
        "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "imagebuilder.amazonaws.com"]},
        "StringLike": {"aws:PrincipalArn": "arn:aws:sts::1:assumed-role/steps-*"},
    })]
    context = {"iam:passedtoservice": ["imagebuilder.amazonaws.com"], "aws:principalarn": ["arn:aws:sts::1:assumed-role/steps-x/s"]}
    assert evaluate(statements, "iam:PassRole", "arn:r", context).allowed
    assert not evaluate(statements, "iam:PassRole", "arn:r", {**context, "iam:passedtoservice": ["lambda.amazonaws.com"]}).allowed
    assert not evaluate(statements, "iam:PassRole", "arn:r", {"iam:passedtoservice": ["ec2.amazonaws.com"]}).allowed


def test_set_operators_and_null() -> None:
    any_value = [allow("a:B", Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}})]
    all_values = [allow("a:B", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}})]
    assert evaluate(any_value, "a:B", "*", {"aws:tagkeys": ["team", "x"]}).allowed
    assert not evaluate(all_values, "a:B", "*", {"aws:tagkeys": ["team", "x"]}).allowed
    assert evaluate(all_values, "a:B", "*", {"aws:tagkeys": ["env"]}).allowed
    null = [allow("a:B", Condition={"Null": {"aws:RequestTag/owner": "false"}})]
    assert evaluate(null, "a:B", "*", {"aws:requesttag/owner": ["me"]}).allowed
    assert not evaluate(null, "a:B", "*", {}).allowed


@pytest.mark.parametrize("operator", ["DateGreaterThan", "IpAddress"])
def test_an_operator_that_is_not_modelled_never_allows(operator: str) -> None:
    statements = [allow("a:B", Condition={operator: {"aws:CurrentTime": "2020-01-01T00:00:00Z"}})]
    assert not evaluate(statements, "a:B", "*", {"aws:currenttime": ["2030-01-01T00:00:00Z"]}).allowed


QUEUE = "arn:aws:sqs:us-east-1:111111111111:q"
ROLE = "arn:aws:iam::111111111111:role/sender"
SESSION = Caller(names=("arn:aws:sts::111111111111:assumed-role/sender/s", ROLE), account="111111111111")
SEND = allow("sqs:SendMessage", QUEUE)


def on_queue(identity: list, resource: list | None, caller: Caller = SESSION, account: str = "111111111111"):
    context = {"aws:principalarn": [caller.names[-1]]}
    return evaluate_request(identity, resource, caller, "sqs:SendMessage", QUEUE, context, resource_account=account)


def test_an_explicit_deny_in_the_resource_policy_wins_over_the_callers_allow() -> None:
    deny_others = {"Effect": "Deny", "Principal": "*", "Action": "sqs:SendMessage", "Resource": QUEUE,
                   "Condition": {"ArnNotEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/workflow"}}}
    decision = on_queue([SEND], [deny_others])
    assert (decision.allowed, decision.explicit_deny, decision.policy_type) == (False, True, "resource-based")
    admitted = {**deny_others, "Condition": {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}}
    assert on_queue([SEND], [admitted]).allowed  # aws:PrincipalArn of a session is its role's ARN
    assert on_queue([SEND], None).allowed  # no resource policy: the identity policy decides alone


def test_within_the_account_naming_the_caller_grants_and_naming_the_account_delegates() -> None:
    assert on_queue([], [{**SEND, "Principal": {"AWS": ROLE}}]).allowed
    assert on_queue([], [{**SEND, "Principal": {"AWS": SESSION.names[0]}}]).allowed
    assert on_queue([], [{**SEND, "Principal": "*"}]).allowed
    assert not on_queue([], [{**SEND, "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}]).allowed
    assert not on_queue([], [{**SEND, "Principal": {"AWS": "111111111111"}}]).allowed
    assert not on_queue([], [{**SEND, "Principal": {"Service": "sns.amazonaws.com"}}]).allowed


def test_across_accounts_both_the_identity_and_the_resource_policy_must_allow() -> None:
    outsider = Caller(names=("arn:aws:iam::222222222222:role/x",), account="222222222222")
    trusting = [{**SEND, "Principal": {"AWS": "222222222222"}}]
    assert on_queue([SEND], trusting, outsider).allowed
    assert not on_queue([], trusting, outsider).allowed
    refused_by_queue = on_queue([SEND], [], outsider)
    assert not refused_by_queue.allowed and refused_by_queue.policy_type == "resource-based"


def test_not_principal_and_a_statement_without_resource_mean_everyone_else_and_this_resource() -> None:
    deny_all_but = {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE}, "Action": "sqs:SendMessage"}
    other = Caller(names=("arn:aws:iam::111111111111:role/other",), account="111111111111")
    assert on_queue([SEND], [deny_all_but]).allowed
    assert on_queue([SEND], [deny_all_but], other).explicit_deny
