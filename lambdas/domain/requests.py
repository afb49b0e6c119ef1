"""Requests and responses of the REST API: the single definition the OpenAPI document is generated from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from lambdas.domain.events import EventName, LifecycleType
from lambdas.domain.models import NotificationTarget, Properties, Text
from lambdas.domain.semver import is_semver


def _semver(value: str) -> str:
    if not is_semver(value):
        raise ValueError("must be a semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0")
    return value


LIFECYCLE_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
STACK_TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
COMPONENT_URL_PATTERN = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/[^\s]+\.(yml|yaml)$"
# What each pattern means, in words: a 400 or a CLI usage error says this, never the regex.
PATTERN_WORDS = {
    LIFECYCLE_ID_PATTERN: "a lifecycle id: a lower-case UUID such as 2b4c443f-44fe-442f-a233-32fb5dac5e2c",
    STACK_TAG_PATTERN: "a stack tag: lower-case letters and digits, words joined by single dashes (e.g. main, "
                       "release-2024)",
    COMPONENT_URL_PATTERN: "an s3://bucket/key location of a .yml or .yaml document",
}


def explain(error: Mapping[str, Any]) -> str:
    """One pydantic error in words (the API's 400 messages and the CLI's usage errors)."""
    if error.get("type") == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(str((error.get("ctx") or {}).get("pattern")))
        if words:
            return f"'{error.get('input')}' is not {words}"
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


LifecycleId = Annotated[
    str,
    Field(
        pattern=LIFECYCLE_ID_PATTERN,
        description="Lifecycle id (lower-case UUID).",
        examples=["2b4c443f-44fe-442f-a233-32fb5dac5e2c"],
    ),
]
StackTag = Annotated[
    str,
    Field(
        pattern=STACK_TAG_PATTERN,
        max_length=63,
        description="Slug of the branch or channel the AMI belongs to (lower case, digits, dashes).",
        examples=["main"],
    ),
]
SemverText = Annotated[str, AfterValidator(_semver)]
Notifications = Annotated[list[NotificationTarget], Field(min_length=1, max_length=10)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EventSwitch(Strict):
    name: EventName
    enabled: bool


class CreateLifecycleRequest(Strict):
    stack_tag: StackTag
    owner: Text
    product_name: Text
    product_ver: SemverText
    commit_ref: Text | None = None
    notifications: Notifications
    events: Annotated[list[EventSwitch], Field(min_length=1, max_length=4)]
    properties: Properties = Field(default_factory=dict)


class UpdateLifecycleRequest(Strict):
    """Enable further events, retry a FAILED/ERROR one, or change owner, notifications or properties."""

    lifecycle_id: LifecycleId
    stack_tag: StackTag
    owner: Text | None = None
    notifications: Notifications | None = None
    events: Annotated[list[EventSwitch], Field(max_length=4)] = Field(default_factory=list)
    properties: Properties = Field(default_factory=dict)


class CreatePatchRequest(Strict):
    lifecycle_id: LifecycleId
    stack_tag: StackTag
    owner: Text | None = Field(default=None, description="Default: the lifecycle's owner.")
    commit_ref: Text | None = None
    notifications: Notifications | None = Field(default=None, description="Default: the lifecycle's targets.")
    events: Annotated[list[EventSwitch], Field(min_length=1, max_length=3)]
    patch_component_url: Annotated[
        str,
        Field(
            pattern=COMPONENT_URL_PATTERN,
            description="s3:// location of the AWSTOE component document, in this deployment's patch bucket.",
        ),
    ]
    patch_change_description: Text
    semver_bump_type: Literal["MINOR", "PATCH"]
    properties: Properties = Field(default_factory=dict)


class UpdatePatchRequest(UpdateLifecycleRequest):
    """Same as a lifecycle update, applied to the latest patch run."""


class CertifyRequest(Strict):
    lifecycle_id: LifecycleId
    stack_tag: StackTag
    certification_status: Literal["CERTIFIED", "FAILED"]
    properties: Properties = Field(default_factory=dict)


class ApproveRequest(Strict):
    lifecycle_id: LifecycleId
    stack_tag: StackTag
    approval_status: Literal["APPROVED", "NOT_APPROVED"]
    approver: Text = Field(description="Who decided (name or email); recorded on the event and the AMI.")
    properties: Properties = Field(default_factory=dict)


class LifecycleAccepted(BaseModel):
    lifecycle_id: str
    lifecycle_type: LifecycleType
    patch_number: int | None = None
    semver: str
    event_started: EventName | None = Field(default=None, description="The event this request started, if any.")
    status_path: str = Field(description="GET this path (with your API key header) to follow the lifecycle.")


class PatchCheck(BaseModel):
    """A dry run's answer: the patch would be accepted (a refusal is the same 4xx as the real request)."""

    lifecycle_id: str
    semver: str = Field(description="The version the patch would get.")
    parent_ami_id: str
    parent_semver: str


class EventRecorded(BaseModel):
    lifecycle_id: str
    event: EventName
    status: str
    status_date: str | None = None


class LifecycleList(BaseModel):
    items: list[dict[str, Any]]
    next_token: str | None = Field(default=None, description="Pass as next_token to get the next page.")


class TimelineLink(BaseModel):
    path: str = Field(description="Append to the API endpoint; open in a browser. Read-only, this lifecycle only.")
    expires_at: str


class DashboardLink(BaseModel):
    path: str = Field(description="Append to the API endpoint; open in a browser. Read-only, this stack tag only.")
    expires_at: str


class ExportLink(BaseModel):
    url: str = Field(description="HTTPS GET of the exported disk image; expires at expires_at.")
    expires_at: str
    export_s3_uri: str


class ErrorBody(BaseModel):
    error: str = Field(description="Error class: BadRequest, Unauthorized, Forbidden, NotFound, Conflict, ...")
    message: str = Field(description="What is wrong, naming the field where there is one.")
