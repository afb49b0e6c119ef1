"""The contract between the orchestrator and the six state machines.

The orchestrator starts an execution with a `WorkflowInput` as its input. The state machine's last
state sends a `WorkflowResult` to the receiver queue of its lifecycle type (creation or patch); its
Catch sends a `WorkflowError` to the error queue. The result repeats the whole input under
`workflow_input` (the ASL passes `$$.Execution.Input`), so a receiver needs nothing else to route it,
and names the execution that sent it (`$$.Execution.Id`), so a receiver can check the message against
that execution before it records anything. No secret ever travels in either direction.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lambdas.domain.events import EventName, LifecycleType


class UntrustedMessage(ValueError):
    """A receiver message that does not come from the execution it names: refused, never recorded."""


class ContractModel(BaseModel):
    # State machines may add fields over time; receivers must not reject what they do not use.
    # Built on first use: an API function needs only AmiRef and PatchRequest (inside its records).
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)


class AmiRef(ContractModel):
    ami_id: str = Field(pattern=r"^ami-[0-9a-f]{8,17}$")
    region: str
    name: str | None = None
    semver: str | None = None


class PatchRequest(ContractModel):
    component_s3_uri: str = Field(pattern=r"^s3://[a-z0-9.\-]{3,63}/.+")
    change_description: str
    semver_bump_type: Literal["MINOR", "PATCH"]


class WorkflowInput(ContractModel):
    lifecycle_id: str
    stack_tag: str
    lifecycle_type: LifecycleType
    event: EventName
    attempt: int = Field(ge=1)
    patch_number: int | None = Field(default=None, ge=1)
    product_name: str
    product_ver: str
    commit_ref: str
    semver: str
    ami: AmiRef | None = Field(default=None, description="The AMI the event acts on; absent for BUILD_AMI.")
    parent_ami: AmiRef | None = Field(default=None, description="For PATCH_AMI: the approved AMI being patched.")
    patch: PatchRequest | None = None
    approver: str | None = Field(default=None, description="For MARK_FOR_PRODUCTION_*: who approved.")

    @model_validator(mode="after")
    def _event_needs(self) -> WorkflowInput:
        # A state machine cannot report a malformed input to the error queue (its Catch needs the
        # fields it would read), so the orchestrator must never send one.
        if self.event not in (EventName.BUILD_AMI, EventName.PATCH_AMI) and self.ami is None:
            raise ValueError(f"{self.event.value} acts on an AMI: ami is required")
        if self.event is EventName.PATCH_AMI and (self.patch is None or self.parent_ami is None):
            raise ValueError("PATCH_AMI needs patch and parent_ami")
        return self


class ImageBuilderDetails(ContractModel):
    image_arn: str
    recipe_arn: str | None = None
    recipe_name: str | None = None
    pipeline_arn: str | None = None
    components: list[str] = Field(default_factory=list)


class BuildOutputs(ContractModel):
    """BUILD_AMI and PATCH_AMI."""

    ami: AmiRef
    image_builder: ImageBuilderDetails


class SmokeCheck(ContractModel):
    name: str
    passed: bool
    detail: str = ""


class SmokeTestOutputs(ContractModel):
    instance_id: str | None = None
    checks: list[SmokeCheck] = Field(default_factory=list)


SEVERITIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED")


class ScanOutputs(ContractModel):
    findings: dict[str, int] = Field(default_factory=dict, description="Finding count per severity.")
    report_s3_uri: str | None = None
    gate: str = Field(default="", description="The gate rule applied, e.g. 'CRITICAL>0 or HIGH>5'.")
    gate_passed: bool = True


class QaRequestOutputs(ContractModel):
    export_task_id: str
    export_s3_uri: str
    disk_image_format: str = "VMDK"
    exported_ami_id: str | None = Field(
        default=None,
        description="The temporary unencrypted copy (restored from a store-image object) that VM export read; "
        "deregistered, with its snapshots, when the workflow ends. The released AMI itself stays encrypted.",
    )


class MarkForProductionOutputs(ContractModel):
    backup_s3_uri: str | None = None
    store_task_id: str | None = None


OUTPUTS_MODEL: dict[EventName, type[ContractModel]] = {
    EventName.BUILD_AMI: BuildOutputs,
    EventName.PATCH_AMI: BuildOutputs,
    EventName.SMOKE_TESTS_AMI_CREATE: SmokeTestOutputs,
    EventName.SMOKE_TESTS_AMI_PATCH: SmokeTestOutputs,
    EventName.VULNERABILITY_SCANS_AMI_CREATE: ScanOutputs,
    EventName.VULNERABILITY_SCANS_AMI_PATCH: ScanOutputs,
    EventName.QA_CERTIFICATION_REQUEST: QaRequestOutputs,
    EventName.MARK_FOR_PRODUCTION_CREATE: MarkForProductionOutputs,
    EventName.MARK_FOR_PRODUCTION_PATCH: MarkForProductionOutputs,
}


class WorkflowResult(ContractModel):
    """Sent by a state machine to its receiver queue when the event reached a verdict."""

    workflow_input: WorkflowInput
    execution_arn: str = Field(description="The execution that sent it ($$.Execution.Id).")
    status: Literal["COMPLETED", "FAILED"]
    status_date: str
    outputs: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = Field(default=None, description="Why the gate failed, for FAILED.")

    def typed_outputs(self) -> ContractModel:
        """Outputs validated against the event's model (raises pydantic.ValidationError)."""
        return OUTPUTS_MODEL[self.workflow_input.event].model_validate(self.outputs)


class WorkflowError(ContractModel):
    """Sent by a state machine's Catch to the error queue when the event could not reach a verdict."""

    workflow_input: WorkflowInput
    execution_arn: str = Field(description="The execution that sent it ($$.Execution.Id).")
    status: Literal["ERROR"] = "ERROR"
    status_date: str
    error: dict[str, Any] = Field(default_factory=dict, description="Step Functions error object {Error, Cause}.")
