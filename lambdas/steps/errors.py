"""Typed step errors. Step Functions matches Retry/Catch on the class name (the Lambda errorType)."""

from __future__ import annotations


class StepError(Exception):
    """Base of every error a step raises on purpose."""


class InvalidStepInput(StepError):
    """The state machine passed a payload the step cannot use (a definition bug, never transient)."""


class NotReadyInTime(StepError):
    """A wait reached its bound (a backoff loop's last check, or a callback's one check after its
    timeout) and AWS was still working."""


class ImageBuildFailed(StepError):
    """Image Builder ended the image FAILED, CANCELLED or otherwise unusable: a verdict, not an outage."""


class ExportFailed(StepError):
    """The VM export task ended deleted/failed."""


class StoreTaskFailed(StepError):
    """The AMI store (backup to S3) task ended Failed."""


class RestoreFailed(StepError):
    """An AMI being created (the QA export's restored copy) ended `failed`, or vanished while pending."""


class InstanceLost(StepError):
    """The test instance stopped or terminated before it could be used (capacity, a broken AMI...)."""


class CommandFailed(StepError):
    """The SSM Run Command invocation ended without running the checks (timed out, undeliverable...)."""


class ChecksOutputMissing(StepError):
    """The check script ran but printed no AMI_CHECKS_JSON line: the verdict is unknown."""


class ScanFailed(StepError):
    """Inspector reports that it cannot scan the instance (unsupported OS, agent not reporting...)."""


class CleanupPending(StepError):
    """A resource to delete is still busy (an image being cancelled); the state machine retries."""
