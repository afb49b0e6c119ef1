"""Requests and responses of the REST API: the single definition the OpenAPI document is generated from.

Sizes are bounded here, before anything is stored: a lifecycle item must stay far below DynamoDB's
400 KB item limit (names and values, UTF-8;
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-items).
What requests can put into one item is at most about 50 KB: the record's properties (8 KiB), the two
manual verdicts' properties (8 KiB each), ten notification targets, a few 256-character texts and a
component URL; the rest of the item is left to what the workflows record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from lambdas.domain.events import EventName, LifecycleType
from lambdas.domain.models import LifecycleRecord, NotificationTarget, Properties, Text
from lambdas.domain.semver import is_semver

# A valid request is at most ~100 KB, even with every character a \u-escaped 4-byte one (12 bytes).
MAX_BODY_BYTES = 128 * 1024
MAX_PROPERTIES_BYTES = 8 * 1024  # UTF-8 bytes of a properties map's keys and values
# S3 object keys are at most 1,024 bytes of UTF-8
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
MAX_S3_KEY_BYTES = 1024


def _semver(value: str) -> str:
    if not is_semver(value):
        raise ValueError("must be a semantic version MAJOR.MINOR.PATCH, e.g. 1.0.0")
    return value


def properties_bytes(properties: Mapping[str, str]) -> int:
    return sum(len(key.encode()) + len(value.encode()) for key, value in properties.items())


def _bounded_properties(properties: dict[str, str]) -> dict[str, str]:
    size = properties_bytes(properties)
    if size > MAX_PROPERTIES_BYTES:
        raise ValueError(f"at most {MAX_PROPERTIES_BYTES} bytes of UTF-8 keys and values ({size} given)")
    return properties


def _component_key(url: str) -> str:
    key = url.removeprefix("s3://").partition("/")[2]
    if len(key.encode()) > MAX_S3_KEY_BYTES:
        raise ValueError(f"the S3 key is longer than S3's limit of {MAX_S3_KEY_BYTES} bytes of UTF-8")
    return url


LIFECYCLE_ID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
STACK_TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Printable characters only: a control character is not a valid S3 key for the patch workflow.
COMPONENT_URL_PATTERN = r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]/[^\s\x00-\x1f\x7f]+\.(yml|yaml)$"
# What timeline_links issues: v1.<subject>.<view>.<expiry>.<base64url signature>.
LINK_TOKEN_PATTERN = r"^[A-Za-z0-9._-]+$"
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,128}$"
# What each pattern means, in words: a 400 or a CLI usage error says this, never the regex.
PATTERN_WORDS = {
    LIFECYCLE_ID_PATTERN: "a lifecycle id: a lower-case UUID such as 2b4c443f-44fe-442f-a233-32fb5dac5e2c",
    STACK_TAG_PATTERN: "a stack tag: lower-case letters and digits, words joined by single dashes (e.g. main, "
                       "release-2024)",
    COMPONENT_URL_PATTERN: "an s3://bucket/key location of a .yml or .yaml document",
    LINK_TOKEN_PATTERN: "a link token: ask timeline-link or dashboard-link for a new link",
    IDEMPOTENCY_KEY_PATTERN: "an idempotency key: 1 to 128 printable ASCII characters without spaces (a UUID will do)",
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
RequestProperties = Annotated[
    Properties,
    AfterValidator(_bounded_properties),
    Field(description=f"Free-form string metadata: at most 50 entries and {MAX_PROPERTIES_BYTES} bytes of UTF-8 keys "
                      "and values (an update merges them into the lifecycle's, within the same limits)."),
]


class Strict(BaseModel):
    # Built on first use: each API function validates only its own routes' requests.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)


class Answer(BaseModel):
    """A response body (built on first use too)."""

    model_config = ConfigDict(defer_build=True)


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
    properties: RequestProperties = Field(default_factory=dict)


class UpdateLifecycleRequest(Strict):
    """Enable further events, retry a FAILED/ERROR one, or change owner, notifications or properties."""

    lifecycle_id: LifecycleId
    stack_tag: StackTag
    owner: Text | None = None
    notifications: Notifications | None = None
    events: Annotated[list[EventSwitch], Field(max_length=4)] = Field(default_factory=list)
    properties: RequestProperties = Field(default_factory=dict)


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
            max_length=6 + 63 + 1 + MAX_S3_KEY_BYTES,
            description="s3:// location of the AWSTOE component document, in this deployment's patch bucket "
                        f"(a key of at most {MAX_S3_KEY_BYTES} bytes of UTF-8).",
        ),
        AfterValidator(_component_key),
    ]
    patch_change_description: Text
    semver_bump_type: Literal["MINOR", "PATCH"]
    properties: RequestProperties = Field(default_factory=dict)


class UpdatePatchRequest(UpdateLifecycleRequest):
    """Same as a lifecycle update, applied to the latest patch run."""


class CertifyRequest(Strict):
    lifecycle_id: LifecycleId
    stack_tag: StackTag
    certification_status: Literal["CERTIFIED", "FAILED"]
    properties: RequestProperties = Field(default_factory=dict)


class ApproveRequest(Strict):
    lifecycle_id: LifecycleId
    stack_tag: StackTag
    approval_status: Literal["APPROVED", "NOT_APPROVED"]
    approver: Text = Field(description="Who decided (name or email); recorded on the event and the AMI.")
    properties: RequestProperties = Field(default_factory=dict)


class LifecycleAccepted(Answer):
    lifecycle_id: str
    lifecycle_type: LifecycleType
    patch_number: int | None = None
    semver: str
    event_started: EventName | None = Field(default=None, description="The event this request started, if any.")
    status_path: str = Field(description="GET this path (with your API key header) to follow the lifecycle.")


class PatchCheck(Answer):
    """A dry run's answer: the patch would be accepted (a refusal is the same 4xx as the real request)."""

    lifecycle_id: str
    semver: str = Field(description="The version the patch would get.")
    parent_ami_id: str
    parent_semver: str


class EventRecorded(Answer):
    lifecycle_id: str
    event: EventName
    status: str
    status_date: str | None = None


class LifecycleList(Answer):
    items: list[LifecycleRecord]
    next_token: str | None = Field(default=None, description="Pass as next_token to get the next page.")


class PatchStatus(Answer):
    lifecycle_id: str
    patch_count: int = Field(description="Patch runs so far; 0 when the lifecycle was never patched.")
    patch: LifecycleRecord | None = Field(description="The latest patch run, or null when there is none.")


class TimelineLink(Answer):
    path: str = Field(description="Append to the API endpoint; open in a browser. Read-only, this lifecycle only.")
    expires_at: str


class DashboardLink(Answer):
    path: str = Field(description="Append to the API endpoint; open in a browser. Read-only, this stack tag only.")
    expires_at: str


class ExportLink(Answer):
    url: str = Field(description="HTTPS GET of the exported disk image; expires at expires_at.")
    expires_at: str
    export_s3_uri: str


class ErrorBody(Answer):
    error: str = Field(description="Error class: BadRequest, Unauthorized, Forbidden, NotFound, Conflict, "
                                   "PayloadTooLarge, UnsupportedMediaType, UnprocessableEntity, TooManyRequests, "
                                   "InternalServerError, BadGateway, GatewayTimeout.")
    message: str = Field(description="What is wrong, naming the field where there is one.")
