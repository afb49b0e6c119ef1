"""The user's settings: cdk.json context "amiLifecycle", read once into one typed model.

Keys are camelCase in cdk.json and snake_case in Python. Unknown keys are refused (a typo must not
silently fall back to a default). The stack tag can be overridden with `-c stackTag=...` (wins) or
the STACK_TAG environment variable.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from aws_cdk import aws_logs as logs
from constructs import Construct
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from stacks import naming

CONTEXT_KEY = "amiLifecycle"
STACK_TAG_CONTEXT_KEY = "stackTag"
STACK_TAG_ENV_VAR = "STACK_TAG"

_R = logs.RetentionDays
# CloudWatch Logs accepts only these retention periods (days); "never expire" is not offered.
LOG_RETENTION: dict[int, logs.RetentionDays] = {
    1: _R.ONE_DAY, 3: _R.THREE_DAYS, 5: _R.FIVE_DAYS, 7: _R.ONE_WEEK, 14: _R.TWO_WEEKS, 30: _R.ONE_MONTH,
    60: _R.TWO_MONTHS, 90: _R.THREE_MONTHS, 120: _R.FOUR_MONTHS, 150: _R.FIVE_MONTHS, 180: _R.SIX_MONTHS,
    365: _R.ONE_YEAR, 400: _R.THIRTEEN_MONTHS, 545: _R.EIGHTEEN_MONTHS, 731: _R.TWO_YEARS, 1096: _R.THREE_YEARS,
    1827: _R.FIVE_YEARS, 2192: _R.SIX_YEARS, 2557: _R.SEVEN_YEARS, 2922: _R.EIGHT_YEARS, 3288: _R.NINE_YEARS,
    3653: _R.TEN_YEARS,
}

_RATE = re.compile(r"^rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)$")
_CRON_FIELD = r"[0-9A-Za-z*?/,#L\-]+"
_CRON = re.compile(rf"^cron\(({_CRON_FIELD} ){{5}}{_CRON_FIELD}\)$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9\-]*\.[a-z0-9]+$")


class ConfigError(ValueError):
    """cdk.json holds a value the app cannot deploy; the message names the key."""


def _schedule(value: str) -> str:
    if not (_RATE.match(value) or _CRON.match(value)):
        raise ValueError(
            "must be an EventBridge schedule: 'rate(<n> minute|minutes|hour|hours|day|days)' "
            "or 'cron(<6 fields>)'"
        )
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _instance_type(value: str) -> str:
    if not _INSTANCE_TYPE.match(value):
        raise ValueError(f"{value!r} is not an EC2 instance type (e.g. 't3.medium')")
    return value


Schedule = Annotated[str, AfterValidator(_schedule)]
Email = Annotated[str, AfterValidator(_email)]
InstanceType = Annotated[str, AfterValidator(_instance_type)]


class _Section(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class ApiConfig(_Section):
    stage_name: str = Field(default="api", pattern=r"^[A-Za-z0-9_]{1,64}$")
    rate_limit: int = Field(default=20, ge=1, le=10000, description="Requests per second, per API key.")
    burst_limit: int = Field(default=40, ge=1, le=5000)
    quota_per_day: int = Field(default=10000, ge=1, description="Requests per day, per API key.")


class ReconcilerConfig(_Section):
    schedule: Schedule = "rate(30 minutes)"
    grace_minutes: int = Field(default=30, ge=1, description="How long an event may run before it is checked.")


class GarbageCollectorConfig(_Section):
    schedule: Schedule = "rate(1 hour)"
    max_instance_hours: int = Field(default=6, ge=1, description="Test instances older than this are terminated.")


class NotificationsConfig(_Section):
    # Static subscriptions: operators get WARNING/ERROR messages of every lifecycle, QA gets audience=qa.
    operator_emails: tuple[Email, ...] = ()
    qa_emails: tuple[Email, ...] = ()


class VulnerabilityGateConfig(_Section):
    max_critical: int = Field(default=0, ge=0)
    max_high: int = Field(default=5, ge=0)


class WorkflowsConfig(_Section):
    vpc_cidr: str = "10.80.0.0/16"
    build_instance_types: tuple[InstanceType, ...] = Field(default=("t3.medium",), min_length=1)
    test_instance_type: InstanceType = "t3.medium"
    parent_image_ssm_parameter: str = Field(
        default="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", pattern=r"^/[\w./\-]+$"
    )
    root_volume_gib: int = Field(default=8, ge=8, le=16384, alias="rootVolumeGiB")
    image_builder_timeout_minutes: int = Field(default=120, ge=60, le=1440)
    vulnerability_gate: VulnerabilityGateConfig = VulnerabilityGateConfig()
    qa_download_link_minutes: int = Field(default=60, ge=1, le=10080)
    export_format: Literal["VMDK", "VHD", "RAW"] = "VMDK"

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 CIDR block ({exc})") from exc
        if not 16 <= network.prefixlen <= 24:
            raise ValueError("the VPC block must be between /16 and /24 (room for public and private subnets)")
        return value


class TimelineConfig(_Section):
    link_minutes: int = Field(default=60, ge=1, le=1440, description="Lifetime of a read-only timeline link.")
    refresh_seconds: int = Field(default=5, ge=1, le=300, description="How often an open timeline page updates.")


class AppConfig(_Section):
    stack_tag: str = "main"
    # Version of the public layer AWSLambdaPowertoolsPythonV3-python312-arm64 (account 017000801446).
    powertools_layer_version: int = Field(default=27, ge=1)
    api: ApiConfig = ApiConfig()
    log_retention_days: int = 90
    lambda_memory_mb: int = Field(default=512, ge=128, le=10240)
    reconciler: ReconcilerConfig = ReconcilerConfig()
    garbage_collector: GarbageCollectorConfig = GarbageCollectorConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    status_page_size: int = Field(default=25, ge=1, le=100)
    timeline: TimelineConfig = TimelineConfig()
    # Keep the state tables, the patch bucket and the key when the stack is destroyed.
    retain_data: bool = True
    workflows: WorkflowsConfig = WorkflowsConfig()

    @field_validator("stack_tag")
    @classmethod
    def _sluggable(cls, value: str) -> str:
        naming.slugify(value)  # raises with a message naming the problem
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in LOG_RETENTION:
            raise ValueError(f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION))}")
        return value

    @property
    def log_retention(self) -> logs.RetentionDays:
        return LOG_RETENTION[self.log_retention_days]

    @property
    def stack_tag_slug(self) -> str:
        return naming.slugify(self.stack_tag)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, stack_tag: str | None = None) -> AppConfig:
        """Validate the "amiLifecycle" context; `stack_tag`, when given, overrides its stackTag."""
        data = dict(raw)
        if stack_tag:
            data["stackTag"] = stack_tag
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "\n".join(
                f"  {'.'.join([CONTEXT_KEY, *map(str, error['loc'])])}: {error['msg'].removeprefix('Value error, ')}"
                for error in exc.errors()
            )
            raise ConfigError(f"invalid settings in cdk.json context:\n{problems}") from None

    @classmethod
    def from_context(cls, scope: Construct) -> AppConfig:
        raw = scope.node.try_get_context(CONTEXT_KEY)
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(f"cdk.json context '{CONTEXT_KEY}' must be an object")
        override = scope.node.try_get_context(STACK_TAG_CONTEXT_KEY) or os.environ.get(STACK_TAG_ENV_VAR)
        return cls.from_mapping(raw, stack_tag=str(override) if override else None)
