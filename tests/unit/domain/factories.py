"""Lifecycle records for pure domain tests (no AWS)."""

from __future__ import annotations

from typing import Any

from lambdas.domain import rules
from lambdas.domain.contracts import AmiRef, PatchRequest
from lambdas.domain.events import CREATION_SEQUENCE, PATCH_SEQUENCE, EventName, EventStatus, LifecycleType
from lambdas.domain.models import LifecycleRecord, NotificationTarget

LIFECYCLE_ID = "2b4c443f-44fe-442f-a233-32fb5dac5e2c"
T0 = "2024-05-01T10:00:00.000000Z"
AMI = "ami-0123456789abcdef0"
PATCHED_AMI = "ami-0fedcba9876543210"
MANUAL = {
    EventName.QA_CERTIFICATION_RESPONSE, EventName.MARK_FOR_PRODUCTION_CREATE, EventName.MARK_FOR_PRODUCTION_PATCH,
}


def creation(enabled: tuple[EventName, ...] = CREATION_SEQUENCE[:4], **fields: Any) -> LifecycleRecord:
    defaults: dict[str, Any] = {
        "stack_tag": "main",
        "owner": "ownername",
        "product_name": "My Product Name",
        "product_ver": "1.0.0",
        "commit_ref": "4f2a9c1",
        "notifications": [NotificationTarget(method="EMAIL", target="user@domain.com")],
        "semver": "1.0.0",
    }
    return LifecycleRecord.new(
        lifecycle_id=fields.pop("lifecycle_id", LIFECYCLE_ID),
        lifecycle_type=LifecycleType.CREATION,
        enabled=set(enabled) | (MANUAL & set(CREATION_SEQUENCE)),
        now=T0,
        **{**defaults, **fields},
    )


def patch(enabled: tuple[EventName, ...] = PATCH_SEQUENCE[:3], patch_number: int = 1, **fields: Any) -> LifecycleRecord:
    defaults: dict[str, Any] = {
        "stack_tag": "main",
        "owner": "patcher",
        "product_name": "My Product Name",
        "product_ver": "1.0.0",
        "commit_ref": "4f2a9c1",
        "notifications": [NotificationTarget(method="EMAIL", target="patcher@domain.com")],
        "semver": "1.1.0",
        "parent_ami": AmiRef(ami_id=AMI, region="us-east-1", semver="1.0.0"),
        "patch": PatchRequest(
            component_s3_uri="s3://bucket/fix.yml", change_description="openssl fix", semver_bump_type="MINOR"
        ),
    }
    return LifecycleRecord.new(
        lifecycle_id=fields.pop("lifecycle_id", LIFECYCLE_ID),
        lifecycle_type=LifecycleType.PATCH,
        patch_number=patch_number,
        enabled=set(enabled) | {EventName.MARK_FOR_PRODUCTION_PATCH},
        now=T0,
        **{**defaults, **fields},
    )


def build_outputs(ami_id: str = AMI, **image_builder: Any) -> dict[str, Any]:
    return {
        "ami": {"ami_id": ami_id, "region": "us-east-1"},
        "image_builder": {"image_arn": "arn:aws:imagebuilder:us-east-1:123456789012:image/x/1.0.0/1", **image_builder},
    }


OUTPUTS: dict[EventName, dict[str, Any]] = {
    EventName.SMOKE_TESTS_AMI_CREATE: {"checks": [{"name": "sshd", "passed": True}]},
    EventName.SMOKE_TESTS_AMI_PATCH: {"checks": [{"name": "sshd", "passed": True}]},
    EventName.VULNERABILITY_SCANS_AMI_CREATE: {"findings": {"CRITICAL": 0, "HIGH": 2}, "report_s3_uri": "s3://r/scan.json"},
    EventName.VULNERABILITY_SCANS_AMI_PATCH: {"findings": {"CRITICAL": 0, "HIGH": 2}, "report_s3_uri": "s3://r/scan.json"},
    EventName.QA_CERTIFICATION_REQUEST: {"export_task_id": "export-ami-1234", "export_s3_uri": "s3://e/ami.vmdk"},
    EventName.MARK_FOR_PRODUCTION_CREATE: {"backup_s3_uri": "s3://b/ami.bin"},
    EventName.MARK_FOR_PRODUCTION_PATCH: {"backup_s3_uri": "s3://b/ami.bin"},
}


def run(record: LifecycleRecord, name: EventName, status: EventStatus = EventStatus.COMPLETED,
        outputs: dict[str, Any] | None = None, when: str = "2024-05-01T11:00:00.000000Z") -> None:
    """Begin `name` and record its verdict, as the orchestrator does for a workflow event."""
    state = rules.begin_event(record, name, when)
    if outputs is None and status is EventStatus.COMPLETED:
        if name in (EventName.BUILD_AMI, EventName.PATCH_AMI):
            outputs = build_outputs(AMI if name is EventName.BUILD_AMI else PATCHED_AMI)
        else:
            outputs = OUTPUTS[name]
    assert rules.apply_result(record, name, attempt=state.attempt, status=status, status_date=when, outputs=outputs)


def run_all(record: LifecycleRecord, names: tuple[EventName, ...]) -> LifecycleRecord:
    for name in names:
        run(record, name)
    return record
