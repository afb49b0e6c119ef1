"""cdk.json settings and resource naming: validated once, with errors that name the key."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

import app as cdk_app
from stacks import naming
from stacks.config import AppConfig, ConfigError
from tests.infrastructure.conftest import CDK_CONTEXT, render


def test_cdk_json_restates_the_documented_defaults() -> None:
    assert AppConfig.from_mapping(CDK_CONTEXT["amiLifecycle"]) == AppConfig()
    config = AppConfig()
    assert (config.api.stage_name, config.api.rate_limit, config.api.burst_limit, config.api.quota_per_day) == (
        "api", 20, 40, 10000)
    assert config.workflows.root_volume_gib == 8
    assert config.workflows.vulnerability_gate.max_critical == 0


@pytest.mark.parametrize(
    ("settings", "key", "why"),
    [
        ({"api": {"rateLimit": 0}}, "amiLifecycle.api.rateLimit", "greater than or equal to 1"),
        ({"api": {"stageName": "my stage"}}, "amiLifecycle.api.stageName", "pattern"),
        ({"logRetentionDays": 10}, "amiLifecycle.logRetentionDays", "accepts only"),
        ({"reconciler": {"schedule": "every 5 minutes"}}, "amiLifecycle.reconciler.schedule", "EventBridge schedule"),
        ({"garbageCollector": {"schedule": "rate(1 hours)"}}, "amiLifecycle.garbageCollector.schedule", "rate("),
        ({"notifications": {"qaEmails": ["qa_team"]}}, "amiLifecycle.notifications.qaEmails.0", "not an email"),
        ({"workflows": {"vpcCidr": "10.0.0.0/33"}}, "amiLifecycle.workflows.vpcCidr", "IPv4 CIDR"),
        ({"workflows": {"exportFormat": "OVA"}}, "amiLifecycle.workflows.exportFormat", "VMDK"),
        ({"workflows": {"buildInstanceTypes": []}}, "amiLifecycle.workflows.buildInstanceTypes", "at least 1"),
        ({"stackTag": "--"}, "amiLifecycle.stackTag", "no letters or digits"),
        ({"statusPageSize": "many"}, "amiLifecycle.statusPageSize", "integer"),
        ({"apiStage": "v1"}, "amiLifecycle.apiStage", "Extra inputs"),  # typos are refused, not ignored
    ],
)
def test_invalid_settings_name_the_key(settings: dict, key: str, why: str) -> None:
    with pytest.raises(ConfigError) as error:
        AppConfig.from_mapping(settings)
    line = next(line for line in str(error.value).splitlines() if key + ":" in line)
    assert why in line


def test_synth_fails_at_once_on_invalid_settings() -> None:
    context = {**CDK_CONTEXT, "amiLifecycle": {**CDK_CONTEXT["amiLifecycle"], "lambdaMemoryMb": 64}}
    with pytest.raises(ConfigError, match=r"amiLifecycle\.lambdaMemoryMb"):
        cdk_app.build(cdk.App(context=context))


def test_valid_schedules_and_emails() -> None:
    config = AppConfig.from_mapping({
        "reconciler": {"schedule": "cron(0/15 * * * ? *)"},
        "garbageCollector": {"schedule": "rate(1 day)"},
        "notifications": {"operatorEmails": ["ops+ami@example.com"], "qaEmails": ["qa.team@corp.example.org"]},
    })
    assert config.notifications.operator_emails == ("ops+ami@example.com",)


def test_stack_tag_precedence_context_then_env_then_cdk_json(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {"amiLifecycle": {"stackTag": "from-json"}}
    monkeypatch.delenv("STACK_TAG", raising=False)
    assert AppConfig.from_context(cdk.App(context=base)).stack_tag == "from-json"
    monkeypatch.setenv("STACK_TAG", "Feature/From_Env")
    config = AppConfig.from_context(cdk.App(context=base))
    assert (config.stack_tag, config.stack_tag_slug) == ("Feature/From_Env", "feature-from-env")
    assert AppConfig.from_context(cdk.App(context={**base, "stackTag": "cli"})).stack_tag == "cli"


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("main", "main"),
        ("Feature/JIRA-123_new thing", "feature-jira-123-new"),
        ("--Release 2.0--", "release-2-0"),
        ("a" * 30, "a" * 20),
        ("abcdefghijklmnopqrs-tuv", "abcdefghijklmnopqrs"),  # no trailing '-' after the cut
    ],
)
def test_slugify(raw: str, slug: str) -> None:
    assert naming.slugify(raw) == slug


@pytest.mark.parametrize("raw", ["", "---", "///"])
def test_slugify_refuses_empty(raw: str) -> None:
    with pytest.raises(ValueError):
        naming.slugify(raw)


def test_names() -> None:
    assert naming.resource_name("dev", "api") == "ami-lc-dev-api"
    assert naming.state_machine_name("dev", "smoke-tests") == "ami-lc-dev-smoke-tests"
    assert naming.core_stack_name("dev") == "AmiLifecycle-dev"
    assert naming.workflows_stack_name("dev") == "AmiLifecycleWorkflows-dev"
    # The longest name built from them must fit Step Functions' 80-character limit.
    assert len(naming.state_machine_name("x" * naming.SLUG_MAX_LENGTH, "qa-certification-request")) <= 80


def test_state_machine_arn_references_no_resource() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111122223333", region="eu-west-1"))
    arn = stack.resolve(naming.state_machine_arn(stack, "dev", "build"))
    assert render(arn) == "arn:${AWS::Partition}:states:eu-west-1:111122223333:stateMachine:ami-lc-dev-build"
    # From the App (before any stack exists) it uses pseudo parameters of the consuming stack.
    agnostic = cdk.Stack(app, "T")
    arn = agnostic.resolve(naming.state_machine_arn(app, "dev", "patch"))
    assert render(arn) == "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:ami-lc-dev-patch"
