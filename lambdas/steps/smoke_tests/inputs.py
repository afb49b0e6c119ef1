"""The inputs of the smoke-test steps (launch and terminate: lambdas/steps/instances.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveInt

from lambdas.steps.backoff import BackoffCheck
from lambdas.steps.common import NonEmptyStr, StepInput


class RegistrationCheckInput(BackoffCheck):
    instance_id: NonEmptyStr


class RunChecksInput(StepInput):
    instance_id: NonEmptyStr
    # Pasted into a shell command between single quotes: base64's alphabet only, so it can never end them.
    script_b64: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]+={0,2}$")]
    timeout_seconds: PositiveInt  # "${CheckTimeoutSeconds}" arrives as a string: lax mode reads "600" as 600


class ReadResultsInput(StepInput):
    instance_id: NonEmptyStr
    command_id: NonEmptyStr
