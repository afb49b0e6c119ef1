"""IAM identity-policy evaluation: is this principal allowed `action` on `resource` in this context?

Follows the AWS policy evaluation logic for identity-based policies of one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an
explicit Deny wins, otherwise an Allow is needed, otherwise the request is implicitly denied. A
statement applies when its Action/NotAction, Resource/NotResource and every Condition match.
Conditions follow the condition-operator reference
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
keys are case-insensitive, several values of one key are OR-ed, several keys and operators AND-ed;
a key missing from the request fails a positive operator and satisfies a negated one; `...IfExists`
is satisfied by a missing key; `ForAnyValue:` / `ForAllValues:` compare multivalued keys.

Not modelled (documented in docs/LOCAL_CLOUD.md): resource-based policies, permission boundaries,
session policies, service control policies, policy variables, Date and IpAddress operators.
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


def evaluate(policy_statements: list[dict[str, Any]], action: str, resource: str, context: Context) -> Decision:
    allowed = False
    for statement in policy_statements:
        if not (_matches_action(statement, action) and _matches_resource(statement, resource)):
            continue
        if not _conditions_hold(statement, context):
            continue
        if statement.get("Effect") == "Deny":
            return Decision(False, explicit_deny=True)
        allowed = allowed or statement.get("Effect") == "Allow"
    return Decision(allowed)
