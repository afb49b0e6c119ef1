"""AMI selection over a lookup table filled by real lifecycles: criteria, ranges, stages, and how much is read."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest

from client.ami_selection import Criteria, main, select
from client.semver_range import parse_range
from lambdas.domain.events import Stage

from .conftest import OTHER, PRODUCT


class Recording:
    """A DynamoDB client that records every call (to prove: Query only, and how many items are read)."""

    def __init__(self) -> None:
        self._client = boto3.client("dynamodb", region_name="us-east-1")
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return method(**kwargs)

        return call


def pick(seeded, *, stack_tag: str = "main", region: str = "us-east-1", stage: str = "hardened",
         semver: str = "latest", **criteria: Any):
    dynamodb = Recording()
    result = select(Criteria(stack_tag=stack_tag, region=region, min_stage=Stage.from_slug(stage),
                             semver=parse_range(semver), **criteria), seeded.deployment.lookup_table, dynamodb)
    assert {name for name, _ in dynamodb.calls} <= {"query"}, "selection only ever Queries"
    return result, dynamodb


def label(seeded, result) -> str | None:
    return next((name for name, ami in seeded.amis.items() if ami == result.ami_id), None) if result.item else None


def test_latest_reads_two_items(seeded):
    """The highest version, and one more item to know no other AMI has the same version."""
    result, dynamodb = pick(seeded)
    assert label(seeded, result) == "D" and result.item["semver"] == "4.0.0"
    assert (result.items_read, result.queries) == (2, 1)
    [(_, query)] = dynamodb.calls
    assert query["Limit"] == 2 and query["ScanIndexForward"] is False
    assert query["ExpressionAttributeValues"][":selector"] == {"S": "main#us-east-1#hardened"}


@pytest.mark.parametrize(("stage", "expected"), [
    ("hardened", "D"), ("smoke-tested", "D"), ("scanned", "D"), ("qa-requested", "D"),
    ("qa-certified", "C"),  # D's QA said FAILED: never qa-certified
    ("production", "A'"),   # C was NOT_APPROVED: never production; the patch 1.1.0 is above A's 1.0.0
])
def test_min_stage(seeded, stage: str, expected: str):
    result, _ = pick(seeded, stage=stage)
    assert label(seeded, result) == expected and result.items_read <= 2


def test_equal_versions_are_decided_by_age_not_by_ami_id(seeded):
    """A (My Product Name) and E (Other Product) are both 1.0.0: the newest wins, whichever id sorts higher."""
    result, _ = pick(seeded, semver="1.0.0")
    assert label(seeded, result) == "E"
    older, _ = pick(seeded, semver="1.0.0", product_name=PRODUCT)
    assert label(seeded, older) == "A" and older.item["reached_at"] < result.item["reached_at"]
    assert pick(seeded, semver="1.0.0")[0].item == result.item  # the same answer every time


def test_rejected_amis_are_never_production(seeded):
    for semver in ("3.x", "4.x", "^3", "~4.0"):
        result, _ = pick(seeded, stage="production", semver=semver)
        assert result.item is None, semver
    for lifecycle_type in (None, "ami-creation", "ami-patch"):
        result, _ = pick(seeded, stage="production", lifecycle_type=lifecycle_type)
        assert label(seeded, result) in {"A", "A'"}


@pytest.mark.parametrize(("semver", "stage", "product", "expected", "version"), [
    ("1.x", "production", None, "A'", "1.1.0"),
    ("1.0.x", "production", None, "A", "1.0.0"),
    ("1.0.0", "hardened", PRODUCT, "A", "1.0.0"),
    ("1.1.0", "hardened", None, "A'", "1.1.0"),
    ("~1.0.0", "production", None, "A", "1.0.0"),
    ("^1.0.0", "production", None, "A'", "1.1.0"),
    ("^2", "hardened", None, "B", "2.0.0"),
    ("~2.0", "scanned", None, "B", "2.0.0"),
    ("2.x", "qa-requested", None, None, None),  # B stopped at scanned
    ("^5", "hardened", None, None, None),
    ("latest", "hardened", OTHER, "E", "1.0.0"),
    ("1.0.0", "hardened", OTHER, "E", "1.0.0"),
])
def test_semver_criteria_read_at_most_two_items(seeded, semver, stage, product, expected, version):
    result, dynamodb = pick(seeded, semver=semver, stage=stage, product_name=product)
    assert label(seeded, result) == expected
    assert (result.item or {}).get("semver") == version
    assert result.items_read <= 2 and dynamodb.calls[0][1]["Limit"] == 2


def test_item_criteria_filter_a_paginated_query(seeded):
    result, dynamodb = pick(seeded, product_ver="2.5.0")
    assert label(seeded, result) == "E"
    result, _ = pick(seeded, commit_ref="feedbeef")
    assert label(seeded, result) == "E"
    result, _ = pick(seeded, commit_ref="feedbeef", stage="smoke-tested")
    assert result.item is None
    result, dynamodb = pick(seeded, lifecycle_type="ami-creation", stage="production")
    assert label(seeded, result) == "A"
    result, dynamodb = pick(seeded, lifecycle_type="ami-patch")
    assert label(seeded, result) == "A'" and result.items_read >= 2  # passed over D, C, B first

    # A page that holds no match continues with the next page, never past the first match.
    dynamodb = Recording()
    found = select(Criteria(stack_tag="main", region="us-east-1", product_ver="2.5.0"),
                   seeded.deployment.lookup_table, dynamodb, page_size=2)
    assert found.ami_id == seeded.amis["E"]
    assert [kwargs.get("ExclusiveStartKey") is not None for _, kwargs in dynamodb.calls] == [False] + [True] * (
        len(dynamodb.calls) - 1) and len(dynamodb.calls) >= 2


def test_stack_tag_and_region(seeded):
    result, _ = pick(seeded, stack_tag="feature-x")
    assert label(seeded, result) == "F"
    result, _ = pick(seeded, region="eu-west-1")
    assert result.item is None


def _run(argv: list[str], seeded) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([*argv, "--lookupTable", seeded.deployment.lookup_table, "--region", "us-east-1"], stdout=out,
                stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_command_line_prints_only_the_ami_id(seeded, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside git: stack tag "main"
    code, out, err = _run([], seeded)
    assert (code, out) == (0, seeded.amis["D"] + "\n")
    assert "stack tag 'main' (not on a git branch)" in err
    code, out, _ = _run(["--minStage", "production", "--semver", "^1.0", "--json"], seeded)
    record = json.loads(out)
    assert code == 0 and (record["ami_id"], record["semver"], record["lifecycle_type"]) == (
        seeded.amis["A'"], "1.1.0", "ami-patch")
    assert list(record) == ["ami_id", "region", "semver", "stage", "product_name", "product_ver", "stack_tag",
                            "commit_ref", "lifecycle_id", "lifecycle_type", "reached_at"]  # no table keys

    code, out, err = _run(["--minStage", "production", "--semver", "4.x"], seeded)
    assert (code, out) == (1, "")
    assert err.strip() == ("ami_selection: no AMI matches: stack tag 'main', region us-east-1, stage >= production, "
                           "semver 4.x (stack tag 'main' (not on a git branch))")


def test_command_line_defaults_the_stack_tag_to_the_slug_of_the_git_branch(seeded, tmp_path: Path, monkeypatch):
    for args in (["init", "-q", "-b", "Feature/X"],):
        subprocess.run(["git", *args], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    code, out, err = _run([], seeded)
    assert (code, out) == (0, seeded.amis["F"] + "\n")
    assert "stack tag 'feature-x' (git branch 'Feature/X')" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--semver", "v1"], "--semver: 'v1' is not a semver criterion"),
    (["--minStage", "approved"], "argument --minStage: invalid choice: 'approved'"),
    (["--stackTag", "Feature/X"], "--stackTag 'Feature/X' is not a stack tag; did you mean 'feature-x'?"),
    (["--productVer", "1.0"], "--productVer: '1.0' is not a semantic version"),
])
def test_command_line_usage_errors(seeded, argv, message):
    code, out, err = _run(argv, seeded)
    assert (code, out) == (2, "")
    assert err.strip() == f"ami_selection: error: {message}" or err.startswith(f"ami_selection: error: {message}")
