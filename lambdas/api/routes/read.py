"""GET routes: status, status lists (operator key), timeline links (operator key) and the timeline
page with its live data (signed link, no key: a browser cannot send one)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lambdas.adapters.secrets import secret_bytes
from lambdas.api.app import ERROR_RESPONSES, OPERATOR, PathId, require_role
from lambdas.api.timeline import TIMELINE_HEADERS, render_timeline, timeline_view
from lambdas.core.observability import logger
from lambdas.core.settings import get_settings
from lambdas.domain import timeline_links
from lambdas.domain.errors import Conflict
from lambdas.domain.events import LifecycleType, Stage
from lambdas.domain.lookup import selector
from lambdas.domain.models import LifecycleRecord
from lambdas.domain.requests import LifecycleList, StackTag, TimelineLink
from lambdas.orchestrator.factory import get_orchestrator

router = APIGatewayRouter()
PREFIX = {LifecycleType.CREATION: "/ami-creation/lifecycles", LifecycleType.PATCH: "/ami-patch/lifecycles"}
Token = Annotated[str, Query(min_length=20, max_length=512, description="The signed link's token.")]


def _record(lifecycle_type: LifecycleType, lifecycle_id: str) -> LifecycleRecord:
    repository = get_orchestrator().repository
    creation = repository.get(lifecycle_id)
    if lifecycle_type is LifecycleType.CREATION:
        return creation
    if not creation.patch_count:
        raise Conflict(f"lifecycle {lifecycle_id} has no patch run")
    return repository.get(lifecycle_id, creation.patch_count)


def _view(lifecycle_type: LifecycleType, lifecycle_id: str, token: str) -> dict[str, Any]:
    settings = get_settings()
    timeline_links.verify(secret_bytes(settings.timeline_signing_secret_arn), token, lifecycle_id, lifecycle_type)
    logger.set_correlation_id(lifecycle_id)
    record = _record(lifecycle_type, lifecycle_id)
    region = record.ami.region if record.ami else None
    latest = None
    if region:
        entry = get_orchestrator().lookup.latest(selector(record.stack_tag, region, Stage.HARDENED))
        latest = entry["semver"] if entry else None
    return timeline_view(record, latest)


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
        patch = _record(lifecycle_type, lifecycle_id) if creation.patch_count else None
        return {
            "lifecycle_id": lifecycle_id,
            "patch_count": creation.patch_count,
            "patch": patch.model_dump(mode="json") if patch else None,
        }

    @router.get(f"{prefix}/<lifecycle_id>/timeline-link", responses=ERROR_RESPONSES, operation_id=f"link_{op}_timeline",
                summary=f"A short-lived, read-only link to the {kind} timeline page (no key in it)")
    def timeline_link(lifecycle_id: PathId) -> TimelineLink:
        require_role(router, OPERATOR)
        logger.set_correlation_id(lifecycle_id)
        _record(lifecycle_type, lifecycle_id)  # 404 for an unknown lifecycle
        settings = get_settings()
        expires_at = int(time.time()) + settings.timeline_link_minutes * 60
        grant = timeline_links.TimelineGrant(lifecycle_id, lifecycle_type, expires_at)
        token = timeline_links.issue(secret_bytes(settings.timeline_signing_secret_arn), grant)
        return TimelineLink(
            path=f"{prefix}/{lifecycle_id}/timeline?token={token}",
            expires_at=datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

    @router.get(f"{prefix}/<lifecycle_id>/timeline", responses=ERROR_RESPONSES, operation_id=f"get_{op}_timeline",
                summary=f"Timeline page of a {kind} lifecycle (HTML; open the link from timeline-link)")
    def timeline(lifecycle_id: PathId, token: Token) -> Response[str]:
        page = render_timeline(_view(lifecycle_type, lifecycle_id, token),
                               refresh_ms=get_settings().timeline_refresh_seconds * 1000)
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=page, headers=TIMELINE_HEADERS)

    @router.get(f"{prefix}/<lifecycle_id>/timeline/data", responses=ERROR_RESPONSES, operation_id=f"get_{op}_timeline_data",
                summary="What the timeline page shows, as JSON (the page polls it with its link's token)")
    def timeline_data(lifecycle_id: PathId, token: Token) -> Response[dict[str, Any]]:
        return Response(status_code=200, content_type="application/json", body=_view(lifecycle_type, lifecycle_id, token),
                        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


for _type in LifecycleType:
    _register(_type)
