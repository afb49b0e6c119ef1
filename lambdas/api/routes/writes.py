"""Routes that change lifecycles: create/update (operator), certify (QA), approve (approver)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lambdas.api.app import APPROVER, OPERATOR, QA, PathId, require_role
from lambdas.api.responses import BODY, KEY, documented
from lambdas.core.observability import logger
from lambdas.domain.contracts import QaRequestOutputs
from lambdas.domain.errors import Conflict
from lambdas.domain.events import EventName, EventStatus, LifecycleType
from lambdas.domain.models import EventState, LifecycleRecord
from lambdas.domain.requests import (
    IDEMPOTENCY_KEY_PATTERN,
    ApproveRequest,
    CertifyRequest,
    CreateLifecycleRequest,
    CreatePatchRequest,
    EventRecorded,
    ExportLink,
    LifecycleAccepted,
    PatchCheck,
    UpdateLifecycleRequest,
    UpdatePatchRequest,
)
from lambdas.orchestrator.factory import get_orchestrator

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN,
    description="Send the same key when you retry: for 24 hours a request with this key and the same body "
                "answers what the first one created (nothing is created twice); with another body it is a 422.",
)]
_ACCEPTED = (LifecycleAccepted, "Recorded; event_started names the event this request started, if any.")
_RECORDED = (EventRecorded, "The verdict was recorded.")
lifecycles = APIGatewayRouter()
certification = APIGatewayRouter()
approval = APIGatewayRouter()


def _accepted(record: LifecycleRecord, state: EventState | None) -> LifecycleAccepted:
    prefix = "/ami-creation" if record.patch_number is None else "/ami-patch"
    return LifecycleAccepted(
        lifecycle_id=record.lifecycle_id,
        lifecycle_type=record.lifecycle_type,
        patch_number=record.patch_number,
        semver=record.semver,
        event_started=state.name if state else None,
        status_path=f"{prefix}/lifecycles/{record.lifecycle_id}/status",
    )


@lifecycles.post("/ami-creation/lifecycles", status_code=201,
                 responses=documented({201: (LifecycleAccepted, "Created, BUILD_AMI started (or, for a retried "
                                                                "Idempotency-Key, what the first request created).")},
                                      *KEY, *BODY, 409, 422),
                 summary="Create a lifecycle: allocates the next MAJOR version and starts BUILD_AMI")
def create_lifecycle(
    request: Annotated[CreateLifecycleRequest, Body()], idempotency_key: IdempotencyKey = None,
) -> LifecycleAccepted:
    require_role(lifecycles, OPERATOR)
    record, state = get_orchestrator().create_lifecycle(request, idempotency_key)
    logger.set_correlation_id(record.lifecycle_id)
    logger.info("lifecycle created", extra={"semver": record.semver})
    return _accepted(record, state)


@lifecycles.put("/ami-creation/lifecycles", responses=documented({200: _ACCEPTED}, *KEY, *BODY, 404, 409),
                summary="Enable further events, retry a FAILED/ERROR event, or change owner/notifications")
def update_lifecycle(request: Annotated[UpdateLifecycleRequest, Body()]) -> LifecycleAccepted:
    require_role(lifecycles, OPERATOR)
    logger.set_correlation_id(request.lifecycle_id)
    return _accepted(*get_orchestrator().update_lifecycle(request, LifecycleType.CREATION))


@lifecycles.post("/ami-patch/lifecycles", status_code=201,
                 responses=documented({
                     201: (LifecycleAccepted, "The patch run was created and PATCH_AMI started (or, for a retried "
                                              "Idempotency-Key, what the first request created)."),
                     200: (PatchCheck, "dry_run=true: the patch would be accepted."),
                 }, *KEY, *BODY, 404, 409, 422),
                 summary="Patch the lifecycle's production AMI: bumps MINOR or PATCH and starts PATCH_AMI")
def create_patch(
    request: Annotated[CreatePatchRequest, Body()],
    dry_run: Annotated[bool, Query(description="Check the request (all but the component's presence) and "
                                               "change nothing: 200 with the version it would get, or the "
                                               "same 4xx as the real request.")] = False,
    idempotency_key: IdempotencyKey = None,
) -> Response[LifecycleAccepted | PatchCheck]:
    require_role(lifecycles, OPERATOR)
    logger.set_correlation_id(request.lifecycle_id)
    orchestrator = get_orchestrator()
    if dry_run:
        # Asked before the component is uploaded: a refused patch leaves nothing in the bucket.
        planned = orchestrator.check_patch(request, component_uploaded=False)
        return _json(200, PatchCheck(lifecycle_id=planned.creation.lifecycle_id, semver=planned.semver,
                                     parent_ami_id=planned.parent.ami_id,
                                     parent_semver=planned.parent.semver or planned.creation.semver))
    return _json(201, _accepted(*orchestrator.create_patch(request, idempotency_key)))


def _json(status: int, model: LifecycleAccepted | PatchCheck) -> Response[LifecycleAccepted | PatchCheck]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model.model_dump(mode="json"))


@lifecycles.put("/ami-patch/lifecycles", responses=documented({200: _ACCEPTED}, *KEY, *BODY, 404, 409),
                summary="Continue or retry the latest patch run")
def update_patch(request: Annotated[UpdatePatchRequest, Body()]) -> LifecycleAccepted:
    require_role(lifecycles, OPERATOR)
    logger.set_correlation_id(request.lifecycle_id)
    return _accepted(*get_orchestrator().update_lifecycle(request, LifecycleType.PATCH))


def _recorded(record: LifecycleRecord, state: EventState) -> EventRecorded:
    return EventRecorded(
        lifecycle_id=record.lifecycle_id, event=state.name, status=state.status.value, status_date=state.status_date
    )


@certification.post("/ami-creation/lifecycles/<lifecycle_id>/certify",
                    responses=documented({200: _RECORDED}, *KEY, *BODY, 404, 409),
                    summary="QA verdict: CERTIFIED makes the AMI selectable as qa-certified; FAILED never does")
def certify(lifecycle_id: PathId, request: Annotated[CertifyRequest, Body()]) -> EventRecorded:
    require_role(certification, QA)
    logger.set_correlation_id(lifecycle_id)
    return _recorded(*get_orchestrator().certify(lifecycle_id, request))


@certification.get("/ami-creation/lifecycles/<lifecycle_id>/export-link",
                   responses=documented({200: (ExportLink, "A presigned link valid until expires_at.")}, *KEY, 404, 409),
                   summary="A fresh, short-lived download link to the exported disk image, for QA")
def export_link(lifecycle_id: PathId) -> ExportLink:
    from lambdas.adapters.artifacts import presigned_download  # this route only

    require_role(certification, QA)
    logger.set_correlation_id(lifecycle_id)
    orchestrator = get_orchestrator()
    state = orchestrator.repository.get(lifecycle_id).event(EventName.QA_CERTIFICATION_REQUEST)
    if state.status is not EventStatus.COMPLETED:
        raise Conflict(f"QA_CERTIFICATION_REQUEST is {state.status.value}: there is no exported image yet")
    export_uri = QaRequestOutputs.model_validate(state.outputs).export_s3_uri
    bucket, _, key = export_uri.removeprefix("s3://").partition("/")
    settings = orchestrator.settings
    if bucket != settings.export_bucket:
        raise Conflict(f"the export is not in this deployment's export bucket: {export_uri}")
    seconds = settings.qa_download_link_minutes * 60
    expires_at = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ExportLink(url=presigned_download(bucket, key, seconds), expires_at=expires_at, export_s3_uri=export_uri)


def _register_approval(lifecycle_type: LifecycleType, prefix: str) -> None:
    @approval.post(f"{prefix}/<lifecycle_id>/approve", responses=documented({200: _RECORDED}, *KEY, *BODY, 404, 409),
                   operation_id=f"approve_{lifecycle_type.value.replace('-', '_')}",
                   summary="Approver verdict: APPROVED starts mark-for-production; NOT_APPROVED is final")
    def approve(lifecycle_id: PathId, request: Annotated[ApproveRequest, Body()]) -> EventRecorded:
        require_role(approval, APPROVER)
        logger.set_correlation_id(lifecycle_id)
        return _recorded(*get_orchestrator().approve(lifecycle_id, request, lifecycle_type))


_register_approval(LifecycleType.CREATION, "/ami-creation/lifecycles")
_register_approval(LifecycleType.PATCH, "/ami-patch/lifecycles")
