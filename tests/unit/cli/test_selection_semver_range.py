"""Semver criteria of AMI selection and their key conditions on the lookup rank."""

from __future__ import annotations

import pytest

from client.semver_range import KeyCondition, parse_range
from lambdas.domain.lookup import rank
from lambdas.domain.semver import Version

VERSIONS = ["0.0.3", "0.0.4", "0.2.3", "0.2.9", "0.3.0", "1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0", "2.0.0",
            "2.1.0", "2.1.3", "2.1.9", "2.2.0", "2.9.9", "3.0.0", "10.0.0"]


@pytest.mark.parametrize(("text", "expected"), [
    ("latest", VERSIONS),
    ("1.2.3", ["1.2.3"]),
    ("1.x", ["1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0"]),
    ("1", ["1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0"]),
    ("1.*", ["1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0"]),
    ("1.2.x", ["1.2.0", "1.2.3", "1.2.9"]),
    ("1.2", ["1.2.0", "1.2.3", "1.2.9"]),
    ("^2.1", ["2.1.0", "2.1.3", "2.1.9", "2.2.0", "2.9.9"]),
    ("^2.1.3", ["2.1.3", "2.1.9", "2.2.0", "2.9.9"]),
    ("^2", ["2.0.0", "2.1.0", "2.1.3", "2.1.9", "2.2.0", "2.9.9"]),
    ("^0.2.3", ["0.2.3", "0.2.9"]),
    ("^0.0.3", ["0.0.3"]),
    ("^0", ["0.0.3", "0.0.4", "0.2.3", "0.2.9", "0.3.0"]),
    ("~2.1.3", ["2.1.3", "2.1.9"]),
    ("~2.1", ["2.1.0", "2.1.3", "2.1.9"]),
    ("~2", ["2.0.0", "2.1.0", "2.1.3", "2.1.9", "2.2.0", "2.9.9"]),
    ("10.x", ["10.0.0"]),
])
def test_ranges_match_like_npm(text: str, expected: list[str]) -> None:
    criterion = parse_range(text)
    assert [v for v in VERSIONS if criterion.matches(Version.parse(v))] == expected


@pytest.mark.parametrize("text", ["latest", "1.2.3", "1.x", "1.2.x", "^2.1", "^0.2.3", "^0.0.3", "~2.1.3", "~2", "10.x"])
def test_key_condition_selects_exactly_the_matching_ranks(text: str) -> None:
    """The rank condition DynamoDB applies agrees with `matches` for every version (no client-side fixing)."""
    criterion = parse_range(text)
    condition = criterion.key_condition()
    for version in VERSIONS:
        key = rank(version, "ami-0123456789abcdef0")
        if condition is None:
            in_key = True
        elif condition.operator == "begins_with":
            in_key = key.startswith(condition.values[0])
        elif condition.operator == "between":
            in_key = condition.values[0] <= key <= condition.values[1]
        else:
            in_key = key >= condition.values[0]
        assert in_key == criterion.matches(Version.parse(version)), (text, version)


def test_key_condition_shapes() -> None:
    assert parse_range("latest").key_condition() is None
    assert parse_range("1.x").key_condition() == KeyCondition("begins_with", ("000001.",))
    assert parse_range("1.2.3").key_condition() == KeyCondition("begins_with", ("000001.000002.000003#",))
    assert parse_range("^2.1").key_condition() == KeyCondition("between", ("000002.000001.000000", "000003.000000.000000"))
    # No upper bound beyond the largest component: an open range.
    assert parse_range("^999999.1").key_condition() == KeyCondition("gte", ("999999.000001.000000",))


@pytest.mark.parametrize("text", ["", "v1.2.3", "1.2.3.4", "01.2.3", "^", "~1.x", ">=1.0.0", "1.2.3-rc1", "x", "1.x.3"])
def test_invalid_criteria(text: str) -> None:
    with pytest.raises(ValueError, match="expected latest, X.Y.Z, X.x, X.Y.x, \\^X.Y.Z or ~X.Y.Z"):
        parse_range(text)
