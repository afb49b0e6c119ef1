"""The local endpoint's IAM evaluation, statement by statement, as the IAM User Guide describes it."""

from __future__ import annotations

import pytest

from local.endpoint.policy import evaluate, glob_match

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
