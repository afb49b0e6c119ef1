"""The inputs of the mark-for-production steps."""

from __future__ import annotations

from lambdas.steps.backoff import BackoffCheck
from lambdas.steps.common import NonEmptyStr, StepInput


class StartBackupInput(StepInput):
    ami_id: NonEmptyStr
    backup_bucket: NonEmptyStr
    # Tags of the stored object: the lifecycle's own values, kept even when empty.
    commit_ref: str
    product_name: str
    product_ver: str


class BackupStatusInput(BackoffCheck):
    ami_id: NonEmptyStr
    backup_bucket: NonEmptyStr
    object_key: NonEmptyStr
