"""GET routes of the operator key: a lifecycle's status and the status lists of a stack tag (the pages
and their links are in pages.py)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lambdas.api.app import OPERATOR, PathId, require_role
from lambdas.api.responses import KEY, documented
from lambdas.core.observability import logger
from lambdas.core.settings import get_settings
from lambdas.domain.events import LifecycleType
from lambdas.domain.models import LifecycleRecord
from lambdas.domain.requests import LifecycleList, PatchStatus, StackTag
from lambdas.orchestrator.factory import get_repository

router = APIGatewayRouter()
PREFIX = {LifecycleType.CREATION: "/ami-creation/lifecycles", LifecycleType.PATCH: "/ami-patch/lifecycles"}


def _register(lifecycle_type: LifecycleType) -> None:
    prefix, kind = PREFIX[lifecycle_type], lifecycle_type.value
    op = kind.replace("-", "_")

    @router.get(f"{prefix}/status", summary=f"List {kind} lifecycles of a stack tag, newest first",
                responses=documented({200: (LifecycleList, "One page of records, newest first.")}, *KEY),
                operation_id=f"list_{op}_statuses")
    def status_list(
        stack_tag: Annotated[StackTag, Query()],
        limit: Annotated[int | None, Query(ge=1, le=100, description="Page size (default: STATUS_PAGE_SIZE).")] = None,
        next_token: Annotated[str | None, Query(max_length=2048, description="next_token of the previous page.")] = None,
    ) -> LifecycleList:
        require_role(router, OPERATOR)
        records, token = get_repository().list_by_stack_tag(
            stack_tag, lifecycle_type, limit=limit or get_settings().status_page_size, cursor=next_token
        )
        return LifecycleList(items=records, next_token=token)


for _type in LifecycleType:
    _register(_type)


@router.get(f"{PREFIX[LifecycleType.CREATION]}/<lifecycle_id>/status", summary="Status of a creation lifecycle",
            responses=documented({200: (LifecycleRecord, "The creation record.")}, *KEY, 404),
            operation_id="get_ami_creation_status")
def creation_status(lifecycle_id: PathId) -> LifecycleRecord:
    require_role(router, OPERATOR)
    logger.set_correlation_id(lifecycle_id)
    return get_repository().get(lifecycle_id)


@router.get(f"{PREFIX[LifecycleType.PATCH]}/<lifecycle_id>/status", summary="Status of a patch lifecycle",
            responses=documented({200: (PatchStatus, "The patch count and the latest patch run, if any.")}, *KEY, 404),
            operation_id="get_ami_patch_status")
def patch_status(lifecycle_id: PathId) -> PatchStatus:
    require_role(router, OPERATOR)
    logger.set_correlation_id(lifecycle_id)
    repository = get_repository()
    creation = repository.get(lifecycle_id)
    patch = repository.get(lifecycle_id, creation.patch_count) if creation.patch_count else None
    return PatchStatus(lifecycle_id=lifecycle_id, patch_count=creation.patch_count, patch=patch)
