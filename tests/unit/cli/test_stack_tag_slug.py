"""One slug rule for stack tags: client/deployment.py's slugify agrees with stacks/naming.py's."""

from __future__ import annotations

import pytest

from client.deployment import DEPLOYMENT_TAG_MAX_LENGTH, STACK_TAG_MAX_LENGTH, core_stack_name, slugify
from lambdas.domain.requests import CreateLifecycleRequest

BRANCHES = [
    "main", "Main", "feature/New_Thing", "feature//x--y", "--lead-trail--", "release/2.1", "UPPER-case.Dots",
    "ünïcode-branch", "a" * 80, "fix/" + "x" * 30 + "/end", "dependabot/pip/boto3-1.44.5", "x", "1234",
    "feature/a-very-long-branch-name-that-goes-on", "a-" * 40,
]


@pytest.mark.parametrize("branch", BRANCHES)
def test_same_rule_as_stacks_naming(branch: str) -> None:
    from stacks import naming

    assert DEPLOYMENT_TAG_MAX_LENGTH == naming.SLUG_MAX_LENGTH
    assert slugify(branch, DEPLOYMENT_TAG_MAX_LENGTH) == naming.slugify(branch)
    assert core_stack_name(branch) == naming.core_stack_name(naming.slugify(branch))
    # The lifecycle stack tag is the same rule with the API's longer limit.
    assert slugify(branch)[:DEPLOYMENT_TAG_MAX_LENGTH].strip("-") == naming.slugify(branch)


@pytest.mark.parametrize("branch", BRANCHES)
def test_slugs_are_valid_api_stack_tags(branch: str) -> None:
    tag = slugify(branch)
    assert len(tag) <= STACK_TAG_MAX_LENGTH
    CreateLifecycleRequest.model_validate({
        "stack_tag": tag, "owner": "o", "product_name": "p", "product_ver": "1.0.0",
        "notifications": [{"method": "EMAIL", "target": "a@b.co"}], "events": [{"name": "BUILD_AMI", "enabled": True}],
    })


def test_examples_and_errors() -> None:
    from stacks import naming

    assert slugify("feature/New_Thing") == "feature-new-thing"
    assert slugify("a" * 80) == "a" * 63
    for empty in ("", "---", "///"):
        with pytest.raises(ValueError, match="no letters or digits"):
            slugify(empty)
        with pytest.raises(ValueError):
            naming.slugify(empty)
