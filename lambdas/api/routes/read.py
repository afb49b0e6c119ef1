"""GET routes: lifecycle status, status lists and the timeline page (operator key)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lambdas.api.app import PathId, ERROR_RESPONSES, OPERATOR, require_role
from lambdas.api.timeline import TIMELINE_HEADERS, render_timeline
from lambdas.core.observability import logger
from lambdas.core.settings import get_settings
from lambdas.domain.events import LifecycleType
from lambdas.domain.requests import LifecycleList, StackTag
from lambdas.orchestrator.factory import get_orchestrator

router = APIGatewayRouter()
PREFIX = {LifecycleType.CREATION: "/ami-creation/lifecycles", LifecycleType.PATCH: "/ami-patch/lifecycles"}


def _status_list(lifecycle_type: LifecycleType, stack_tag: str, limit: int, next_token: str | None) -> LifecycleList:
    require_role(router, OPERATOR)
    records, token = get_orchestrator().repository.list_by_stack_tag(
        stack_tag, lifecycle_type, limit=limit, cursor=next_token
    )
    return LifecycleList(items=[record.model_dump(mode="json") for record in records], next_token=token)


def _status(lifecycle_type: LifecycleType, lifecycle_id: str) -> dict[str, Any]:
    require_role(router, OPERATOR)
    logger.set_correlation_id(lifecycle_id)
    repository = get_orchestrator().repository
    creation = repository.get(lifecycle_id)
    if lifecycle_type is LifecycleType.CREATION:
        return creation.model_dump(mode="json")
    if not creation.patch_count:
        return {"lifecycle_id": lifecycle_id, "patch_count": 0, "patch": None}
    patch = repository.get(lifecycle_id, creation.patch_count)
    return {"lifecycle_id": lifecycle_id, "patch_count": creation.patch_count, "patch": patch.model_dump(mode="json")}


def _timeline(lifecycle_type: LifecycleType, lifecycle_id: str) -> Response[str]:
    require_role(router, OPERATOR)
    logger.set_correlation_id(lifecycle_id)
    orchestrator = get_orchestrator()
    creation = orchestrator.repository.get(lifecycle_id)
    record = creation
    if lifecycle_type is LifecycleType.PATCH and creation.patch_count:
        record = orchestrator.repository.get(lifecycle_id, creation.patch_count)
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=render_timeline(record),
                    headers=TIMELINE_HEADERS)


def _register(lifecycle_type: LifecycleType) -> None:
    prefix, kind = PREFIX[lifecycle_type], lifecycle_type.value

    @router.get(f"{prefix}/status", summary=f"List {kind} lifecycles of a stack tag, newest first",
                responses=ERROR_RESPONSES, operation_id=f"list_{kind.replace('-', '_')}_statuses")
    def status_list(
        stack_tag: Annotated[StackTag, Query()],
        limit: Annotated[int | None, Query(ge=1, le=100, description="Page size (default: STATUS_PAGE_SIZE).")] = None,
        next_token: Annotated[str | None, Query(max_length=2048)] = None,
    ) -> LifecycleList:
        return _status_list(lifecycle_type, stack_tag, limit or get_settings().status_page_size, next_token)

    @router.get(f"{prefix}/<lifecycle_id>/status", summary=f"Status of a {kind} lifecycle",
                responses=ERROR_RESPONSES, operation_id=f"get_{kind.replace('-', '_')}_status")
    def status(lifecycle_id: PathId) -> dict[str, Any]:
        return _status(lifecycle_type, lifecycle_id)

    @router.get(f"{prefix}/<lifecycle_id>/timeline", summary=f"Timeline page of a {kind} lifecycle (HTML)",
                responses=ERROR_RESPONSES, operation_id=f"get_{kind.replace('-', '_')}_timeline")
    def timeline(lifecycle_id: PathId) -> Response[str]:
        return _timeline(lifecycle_type, lifecycle_id)


for _type in LifecycleType:
    _register(_type)
