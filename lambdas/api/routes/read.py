"""GET routes of the operator key: a lifecycle's status and the status lists of a stack tag (the pages
and their links are in pages.py)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lambdas.api.app import ERROR_RESPONSES, OPERATOR, PathId, require_role
from lambdas.core.observability import logger
from lambdas.core.settings import get_settings
from lambdas.domain.events import LifecycleType
from lambdas.domain.requests import LifecycleList, StackTag
from lambdas.orchestrator.factory import get_orchestrator
from lambdas.orchestrator.views import lifecycle_record

router = APIGatewayRouter()
PREFIX = {LifecycleType.CREATION: "/ami-creation/lifecycles", LifecycleType.PATCH: "/ami-patch/lifecycles"}


def _register(lifecycle_type: LifecycleType) -> None:
    prefix, kind = PREFIX[lifecycle_type], lifecycle_type.value
    op = kind.replace("-", "_")

    @router.get(f"{prefix}/status", summary=f"List {kind} lifecycles of a stack tag, newest first",
                responses=ERROR_RESPONSES, operation_id=f"list_{op}_statuses")
    def status_list(
        stack_tag: Annotated[StackTag, Query()],
        limit: Annotated[int | None, Query(ge=1, le=100, description="Page size (default: STATUS_PAGE_SIZE).")] = None,
        next_token: Annotated[str | None, Query(max_length=2048)] = None,
    ) -> LifecycleList:
        require_role(router, OPERATOR)
        records, token = get_orchestrator().repository.list_by_stack_tag(
            stack_tag, lifecycle_type, limit=limit or get_settings().status_page_size, cursor=next_token
        )
        return LifecycleList(items=[record.model_dump(mode="json") for record in records], next_token=token)

    @router.get(f"{prefix}/<lifecycle_id>/status", summary=f"Status of a {kind} lifecycle",
                responses=ERROR_RESPONSES, operation_id=f"get_{op}_status")
    def status(lifecycle_id: PathId) -> dict[str, Any]:
        require_role(router, OPERATOR)
        logger.set_correlation_id(lifecycle_id)
        creation = get_orchestrator().repository.get(lifecycle_id)
        if lifecycle_type is LifecycleType.CREATION:
            return creation.model_dump(mode="json")
        patch = lifecycle_record(get_orchestrator(), lifecycle_type, lifecycle_id) if creation.patch_count else None
        return {
            "lifecycle_id": lifecycle_id,
            "patch_count": creation.patch_count,
            "patch": patch.model_dump(mode="json") if patch else None,
        }


for _type in LifecycleType:
    _register(_type)
