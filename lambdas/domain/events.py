"""Lifecycle vocabulary: lifecycle types, event names, statuses, sequences and selection stages."""

from __future__ import annotations

from enum import Enum, IntEnum


class LifecycleType(str, Enum):
    CREATION = "ami-creation"
    PATCH = "ami-patch"


class EventName(str, Enum):
    BUILD_AMI = "BUILD_AMI"
    SMOKE_TESTS_AMI_CREATE = "SMOKE_TESTS_AMI_CREATE"
    VULNERABILITY_SCANS_AMI_CREATE = "VULNERABILITY_SCANS_AMI_CREATE"
    QA_CERTIFICATION_REQUEST = "QA_CERTIFICATION_REQUEST"
    QA_CERTIFICATION_RESPONSE = "QA_CERTIFICATION_RESPONSE"
    MARK_FOR_PRODUCTION_CREATE = "MARK_FOR_PRODUCTION_CREATE"
    PATCH_AMI = "PATCH_AMI"
    SMOKE_TESTS_AMI_PATCH = "SMOKE_TESTS_AMI_PATCH"
    VULNERABILITY_SCANS_AMI_PATCH = "VULNERABILITY_SCANS_AMI_PATCH"
    MARK_FOR_PRODUCTION_PATCH = "MARK_FOR_PRODUCTION_PATCH"


class EventStatus(str, Enum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # the event ran and its gate said no (failed check, CRITICAL finding, NOT_APPROVED)
    ERROR = "ERROR"  # the event could not run to a verdict (task error, timeout, lost execution)


class Stage(IntEnum):
    """How far an AMI got. Only a succeeded event raises it; selection asks for a minimum stage."""

    NONE = 0
    HARDENED = 1
    SMOKE_TESTED = 2
    SCANNED = 3
    QA_REQUESTED = 4
    QA_CERTIFIED = 5
    PRODUCTION = 6

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_slug(cls, value: str) -> Stage:
        normalised = value.strip().upper().replace("-", "_")
        stage = cls.__members__.get(normalised)
        if stage is None or stage is cls.NONE:
            allowed = ", ".join(stage.slug for stage in cls if stage is not cls.NONE)
            raise ValueError(f"unknown stage '{value}'; expected one of: {allowed}")
        return stage


# Order matters: an event needs every earlier event of its sequence COMPLETED.
CREATION_SEQUENCE: tuple[EventName, ...] = (
    EventName.BUILD_AMI,
    EventName.SMOKE_TESTS_AMI_CREATE,
    EventName.VULNERABILITY_SCANS_AMI_CREATE,
    EventName.QA_CERTIFICATION_REQUEST,
    EventName.QA_CERTIFICATION_RESPONSE,
    EventName.MARK_FOR_PRODUCTION_CREATE,
)
PATCH_SEQUENCE: tuple[EventName, ...] = (
    EventName.PATCH_AMI,
    EventName.SMOKE_TESTS_AMI_PATCH,
    EventName.VULNERABILITY_SCANS_AMI_PATCH,
    EventName.MARK_FOR_PRODUCTION_PATCH,
)

# Events a client can enable in a create/patch request; the rest are started by certify/approve calls.
AUTOMATIC_CREATION_EVENTS = CREATION_SEQUENCE[:4]
AUTOMATIC_PATCH_EVENTS = PATCH_SEQUENCE[:3]

STAGE_REACHED: dict[EventName, Stage] = {
    EventName.BUILD_AMI: Stage.HARDENED,
    EventName.SMOKE_TESTS_AMI_CREATE: Stage.SMOKE_TESTED,
    EventName.VULNERABILITY_SCANS_AMI_CREATE: Stage.SCANNED,
    EventName.QA_CERTIFICATION_REQUEST: Stage.QA_REQUESTED,
    EventName.QA_CERTIFICATION_RESPONSE: Stage.QA_CERTIFIED,
    EventName.MARK_FOR_PRODUCTION_CREATE: Stage.PRODUCTION,
    EventName.PATCH_AMI: Stage.HARDENED,
    EventName.SMOKE_TESTS_AMI_PATCH: Stage.SMOKE_TESTED,
    EventName.VULNERABILITY_SCANS_AMI_PATCH: Stage.SCANNED,
    EventName.MARK_FOR_PRODUCTION_PATCH: Stage.PRODUCTION,
}

# Events that run a state machine (the manual QA response is recorded by the API directly).
WORKFLOW_EVENTS: frozenset[EventName] = frozenset(CREATION_SEQUENCE + PATCH_SEQUENCE) - {
    EventName.QA_CERTIFICATION_RESPONSE
}

# The six state machines; patch smoke tests and scans reuse the creation machines.
WORKFLOW_OF_EVENT: dict[EventName, str] = {
    EventName.BUILD_AMI: "build",
    EventName.SMOKE_TESTS_AMI_CREATE: "smoke-tests",
    EventName.SMOKE_TESTS_AMI_PATCH: "smoke-tests",
    EventName.VULNERABILITY_SCANS_AMI_CREATE: "vulnerability-scans",
    EventName.VULNERABILITY_SCANS_AMI_PATCH: "vulnerability-scans",
    EventName.QA_CERTIFICATION_REQUEST: "qa-certification-request",
    EventName.MARK_FOR_PRODUCTION_CREATE: "mark-for-production",
    EventName.MARK_FOR_PRODUCTION_PATCH: "mark-for-production",
    EventName.PATCH_AMI: "patch",
}
WORKFLOWS: tuple[str, ...] = (
    "build",
    "smoke-tests",
    "vulnerability-scans",
    "qa-certification-request",
    "mark-for-production",
    "patch",
)


def sequence_of(lifecycle_type: LifecycleType) -> tuple[EventName, ...]:
    return CREATION_SEQUENCE if lifecycle_type is LifecycleType.CREATION else PATCH_SEQUENCE


def lifecycle_type_of(event: EventName) -> LifecycleType:
    return LifecycleType.CREATION if event in CREATION_SEQUENCE else LifecycleType.PATCH


# Short, stable names used in execution names (80 characters at most in Step Functions).
EVENT_CODE: dict[EventName, str] = {
    EventName.BUILD_AMI: "build",
    EventName.SMOKE_TESTS_AMI_CREATE: "smoke",
    EventName.VULNERABILITY_SCANS_AMI_CREATE: "scan",
    EventName.QA_CERTIFICATION_REQUEST: "qa-request",
    EventName.QA_CERTIFICATION_RESPONSE: "qa-response",
    EventName.MARK_FOR_PRODUCTION_CREATE: "production",
    EventName.PATCH_AMI: "patch",
    EventName.SMOKE_TESTS_AMI_PATCH: "smoke",
    EventName.VULNERABILITY_SCANS_AMI_PATCH: "scan",
    EventName.MARK_FOR_PRODUCTION_PATCH: "production",
}
