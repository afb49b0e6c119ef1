"""IAM policy evaluation: is this principal allowed `action` on `resource` in this context?

Follows the AWS policy evaluation logic
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an
explicit Deny in any policy wins, otherwise an Allow is needed, otherwise the request is implicitly
denied. A statement applies when its Action/NotAction, Resource/NotResource and every Condition
match, and in a resource-based policy its Principal/NotPrincipal names the caller.

With a resource-based policy (`evaluate_request`): within one account an Allow in either the
identity-based or the resource-based policy suffices
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html),
but a resource policy that names only the account delegates to IAM and grants nothing by itself
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html, AWS
account principals); across accounts both must allow
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
Conditions follow the condition-operator reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
keys are case-insensitive, several values of one key are OR-ed, several keys and operators AND-ed;
a key missing from the request fails a positive operator and satisfies a negated one; `...IfExists`
is satisfied by a missing key; `ForAnyValue:` / `ForAllValues:` compare multivalued keys.

Not modelled (documented in docs/LOCAL_CLOUD.md): resource-based policies other than those
local/endpoint/facts.py reads, service principals as callers, permission boundaries, session
policies, service control policies, policy variables, Date and IpAddress operators.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Context = dict[str, list[str]]  # condition key (lower-case) -> values


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool = False
    policy_type: str = "identity-based"  # the kind of policy that decided, as AWS's denial messages say


@dataclass(frozen=True)
class Caller:
    """The signer, as a resource-based policy's Principal element names them."""

    names: tuple[str, ...]  # a role session's ARN and its role's ARN, or a user's ARN
    account: str


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM wildcards: * any run of characters (slashes included), ? one character; nothing else.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return bool(_glob(pattern, ignore_case).fullmatch(value))


def _matches_action(statement: dict[str, Any], action: str) -> bool:
    if "Action" in statement:
        return any(glob_match(p, action, ignore_case=True) for p in _as_list(statement["Action"]))
    return not any(glob_match(p, action, ignore_case=True) for p in _as_list(statement.get("NotAction", [])))


def _matches_resource(statement: dict[str, Any], resource: str) -> bool:
    if "Resource" in statement:
        return any(glob_match(p, resource) for p in _as_list(statement["Resource"]))
    if "NotResource" in statement:
        return not any(glob_match(p, resource) for p in _as_list(statement["NotResource"]))
    return False


def _compare(base: str, expected: str, actual: str) -> bool:
    if base in ("StringEquals", "ArnEquals"):
        return expected == actual if base == "StringEquals" else glob_match(expected, actual)
    if base == "StringEqualsIgnoreCase":
        return expected.lower() == actual.lower()
    if base in ("StringLike", "ArnLike"):
        return glob_match(expected, actual)
    if base == "Bool":
        return expected.lower() == actual.lower()
    if base.startswith("Numeric"):
        try:
            left, right = float(actual), float(expected)
        except ValueError:
            return False
        return {"NumericEquals": left == right, "NumericLessThan": left < right,
                "NumericLessThanEquals": left <= right, "NumericGreaterThan": left > right,
                "NumericGreaterThanEquals": left >= right}.get(base, False)
    raise UnsupportedCondition(base)


class UnsupportedCondition(ValueError):
    """A condition operator the local evaluator does not model: the statement never applies."""


_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
            "NumericNotEquals": "NumericEquals"}


def _condition_holds(operator: str, key: str, expected_values: list[Any], context: Context) -> bool:
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    actual = context.get(key.lower())
    expected = [str(v).lower() if isinstance(v, bool) else str(v) for v in expected_values]
    if operator == "Null":
        return (actual is None) == (expected[0].lower() == "true")
    if actual is None:
        return if_exists or operator in _NEGATED
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)

    def any_expected(value: str) -> bool:
        return any(_compare(base, e, value) for e in expected)

    if qualifier == "ForAllValues":
        result = all(any_expected(v) for v in actual)
    else:  # ForAnyValue, and single-valued keys
        result = any(any_expected(v) for v in actual)
    return not result if negated else result


def _conditions_hold(statement: dict[str, Any], context: Context) -> bool:
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, values in keys.items():
            try:
                if not _condition_holds(operator, key, _as_list(values), context):
                    return False
            except UnsupportedCondition:
                return False
    return True


def statements(documents: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for document in documents:
        parsed = json.loads(document) if isinstance(document, str) else document
        found += _as_list(parsed.get("Statement", []))
    return found


def _applies(statement: dict[str, Any], action: str, resource: str, context: Context) -> bool:
    return (_matches_action(statement, action) and _matches_resource(statement, resource)
            and _conditions_hold(statement, context))


def evaluate(policy_statements: list[dict[str, Any]], action: str, resource: str, context: Context) -> Decision:
    allowed = False
    for statement in policy_statements:
        if not _applies(statement, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return Decision(False, explicit_deny=True)
        allowed = allowed or statement.get("Effect") == "Allow"
    return Decision(allowed)


def _naming(principal: Any, caller: Caller) -> str | None:
    """How a Principal value names the caller: "caller" (itself, or everyone), "account" (its
    account: a delegation to IAM), or None."""
    if principal == "*":
        return "caller"
    named = None
    for value in _as_list(principal.get("AWS", [])) if isinstance(principal, dict) else []:
        if value == "*" or value in caller.names:
            return "caller"
        if value in (caller.account, f"arn:aws:iam::{caller.account}:root"):
            named = "account"
    return named  # Service and Federated principals: the local callers are never services


def _names_caller(statement: dict[str, Any], caller: Caller) -> str | None:
    if "NotPrincipal" in statement:
        return None if _naming(statement["NotPrincipal"], caller) else "caller"
    return _naming(statement.get("Principal"), caller)


def evaluate_request(
    identity: list[dict[str, Any]], resource_policy: list[dict[str, Any]] | None, caller: Caller,
    action: str, resource: str, context: Context, *, resource_account: str,
) -> Decision:
    """The caller's identity policies and the resource's policy (None: it has none) together."""
    own = evaluate(identity, action, resource, context)
    if own.explicit_deny or resource_policy is None:
        return own
    granted = False
    same_account = caller.account == resource_account
    for statement in resource_policy:
        named = _names_caller(statement, caller)
        # A resource policy's statement may leave Resource out: it then means the resource itself.
        scoped = {"Resource": resource, **statement} if "NotResource" not in statement else statement
        if named is None or not _applies(scoped, action, resource, context):
            continue
        if statement.get("Effect") == "Deny":
            return Decision(False, explicit_deny=True, policy_type="resource-based")
        granted = granted or (statement.get("Effect") == "Allow" and (named == "caller" or not same_account))
    allowed = (own.allowed or granted) if same_account else (own.allowed and granted)
    return Decision(allowed, policy_type="identity-based" if same_account or not own.allowed else "resource-based")
