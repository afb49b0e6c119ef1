"""The lifecycle aggregate as stored and returned by the API.

A lifecycle has one CREATION record and one record per patch run (PATCH#0001, ...). Keeping patch runs
in their own items keeps every item small however many times an AMI is patched.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from lambdas.domain.contracts import AmiRef, PatchRequest
from lambdas.domain.events import EventName, EventStatus, LifecycleType, Stage, sequence_of


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d{1,5})?(?:/[^\s?#]*)?$")


class NotificationMethod(str, Enum):
    EMAIL = "EMAIL"
    HTTPS = "HTTPS"


class NotificationTarget(BaseModel):
    model_config = ConfigDict(frozen=True)

    method: NotificationMethod
    target: str = Field(min_length=3, max_length=512)
    in_progress: bool = Field(
        default=False,
        description="Also notify when an event starts (IN_PROGRESS); by default only outcomes are sent.",
    )

    def model_post_init(self, __context: Any) -> None:
        if self.method is NotificationMethod.EMAIL and not _EMAIL.fullmatch(self.target):
            raise ValueError(f"'{self.target}' is not an email address")
        if self.method is NotificationMethod.HTTPS and not _HTTPS_URL.fullmatch(self.target):
            # A query string could carry a credential into SNS and our state: refuse it.
            raise ValueError("an HTTPS target must be an https:// URL without query string or fragment")

    @property
    def target_id(self) -> str:
        """Stable id of the endpoint; subscription filters match on it, never on lifecycle ids."""
        if self.method is NotificationMethod.EMAIL:
            endpoint = self.target.lower()
        else:  # the host is case-insensitive, the path is not
            host, slash, path = self.target.removeprefix("https://").partition("/")
            endpoint = f"https://{host.lower()}{slash}{path}"
        digest = hashlib.sha256(f"{self.method.value}:{endpoint}".encode()).hexdigest()
        return f"t-{digest[:24]}"


def _no_control_chars(value: str) -> str:
    if any(ord(char) < 32 for char in value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_no_control_chars)]
Properties = Annotated[dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=1024)]], Field(max_length=50)]


class Attempt(BaseModel):
    """An earlier attempt of an event that ended FAILED or ERROR (kept when the event is retried)."""

    attempt: int
    status: EventStatus
    started_at: str | None = None
    ended_at: str | None = None
    reason: str | None = None


class EventState(BaseModel):
    name: EventName
    enabled: bool = False
    status: EventStatus = EventStatus.NOT_STARTED
    attempt: int = 0
    execution_name: str | None = None
    started_at: str | None = None
    status_date: str | None = None
    reason: str | None = None
    outputs: dict[str, Any] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    earlier_attempts: list[Attempt] = Field(default_factory=list)


class LifecycleRecord(BaseModel):
    lifecycle_id: str
    lifecycle_type: LifecycleType
    patch_number: int | None = None
    stack_tag: str
    owner: str
    product_name: str
    product_ver: str
    commit_ref: str
    notifications: list[NotificationTarget]
    properties: dict[str, str] = Field(default_factory=dict)
    semver: str
    ami: AmiRef | None = None
    parent_ami: AmiRef | None = None
    patch: PatchRequest | None = None
    events: list[EventState]
    stage: Stage = Stage.NONE
    created_at: str
    updated_at: str
    version: int = 0
    # Creation record only: the lineage's latest production AMI (a patch's parent), patch count and
    # every version handed out in the lineage (so a patch never reuses a rejected patch's version).
    approved_ami: AmiRef | None = None
    patch_count: int = 0
    allocated_semvers: list[str] = Field(default_factory=list)

    @classmethod
    def new(
        cls,
        *,
        lifecycle_id: str,
        lifecycle_type: LifecycleType,
        enabled: set[EventName],
        now: str,
        **fields: Any,
    ) -> LifecycleRecord:
        events = [EventState(name=name, enabled=name in enabled) for name in sequence_of(lifecycle_type)]
        return cls(
            lifecycle_id=lifecycle_id,
            lifecycle_type=lifecycle_type,
            events=events,
            created_at=now,
            updated_at=now,
            **fields,
        )

    def event(self, name: EventName) -> EventState:
        for state in self.events:
            if state.name is name:
                return state
        raise KeyError(f"{name.value} is not an event of a {self.lifecycle_type.value} lifecycle")

    @property
    def event_in_progress(self) -> EventState | None:
        return next((state for state in self.events if state.status is EventStatus.IN_PROGRESS), None)

    @property
    def key(self) -> str:
        return "CREATION" if self.patch_number is None else f"PATCH#{self.patch_number:04d}"
