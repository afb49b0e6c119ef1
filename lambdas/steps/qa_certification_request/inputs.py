"""The inputs of the QA certification request steps."""

from __future__ import annotations

from typing import Literal

from lambdas.steps.backoff import BackoffCheck
from lambdas.steps.common import NonEmptyStr, StepInput

DiskFormat = Literal["VMDK", "VHD", "RAW"]  # what VM Import/Export writes (cdk.json exportFormat)


class StartStoreInput(StepInput):
    ami_id: NonEmptyStr
    staging_bucket: NonEmptyStr
    deployment_tag: NonEmptyStr
    region: NonEmptyStr  # named in the preflight's reason


class StoreStatusInput(BackoffCheck):
    ami_id: NonEmptyStr
    staging_bucket: NonEmptyStr


class StartRestoreInput(StepInput):
    staging_bucket: NonEmptyStr
    object_key: NonEmptyStr
    deployment_tag: NonEmptyStr
    execution_name: NonEmptyStr


class StartExportInput(StepInput):
    ami_id: NonEmptyStr
    restored_ami_id: NonEmptyStr
    deployment_tag: NonEmptyStr
    execution_name: NonEmptyStr  # the export's idempotency token
    export_bucket: NonEmptyStr
    role_name: NonEmptyStr
    disk_format: DiskFormat


class ExportStatusInput(BackoffCheck):
    stack_tag: NonEmptyStr  # in the QA team's commands
    ami_id: NonEmptyStr
    export_task_id: NonEmptyStr
    restored_ami_id: NonEmptyStr
    disk_format: DiskFormat
    product_name: NonEmptyStr
    semver: NonEmptyStr


class CleanupInput(StepInput):
    ami_id: NonEmptyStr
    staging_bucket: NonEmptyStr
    deployment_tag: NonEmptyStr
    execution_name: NonEmptyStr
    # Always sent; None when the run failed before the restore or the export started.
    restored_ami_id: str | None
    export_task_id: str | None
