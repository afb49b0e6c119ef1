"""The read-only pages: a lifecycle's timeline and a stack tag's fleet dashboard.

The operator (with the key) asks for a link (`…-link`); the page and its live data are opened with
the link's signed token, no key (a browser cannot send one). A token opens only its own lifecycle and
view, or its own stack tag's dashboard, and expires (lambdas/domain/timeline_links.py).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lambdas.adapters.secrets import secret_bytes
from lambdas.api.app import ERROR_RESPONSES, OPERATOR, PathId, require_role
from lambdas.api.pages.dashboard_view import dashboard_view
from lambdas.api.pages.html import DATA_HEADERS, page
from lambdas.api.pages.timeline_view import timeline_view
from lambdas.core.observability import logger
from lambdas.core.settings import get_settings
from lambdas.domain import timeline_links
from lambdas.domain.events import LifecycleType
from lambdas.domain.requests import STACK_TAG_PATTERN, DashboardLink, TimelineLink
from lambdas.orchestrator.factory import get_orchestrator
from lambdas.orchestrator.views import fleet_records, lifecycle_record, timeline_facts

router = APIGatewayRouter()
PREFIX = {LifecycleType.CREATION: "/ami-creation/lifecycles", LifecycleType.PATCH: "/ami-patch/lifecycles"}
FLEET = "/ami-fleet"
Token = Annotated[str, Query(min_length=20, max_length=512, description="The signed link's token.")]
PathTag = Annotated[str, Path(pattern=STACK_TAG_PATTERN, max_length=63, description="Stack tag.")]


def _secret() -> bytes:
    return secret_bytes(get_settings().timeline_signing_secret_arn)


def _expiry() -> tuple[int, str]:
    expires_at = int(time.time()) + get_settings().timeline_link_minutes * 60
    return expires_at, datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _html(name: str, title: str, view: dict[str, Any]) -> Response[str]:
    shell = page(name)
    body = shell.render(title=title, view=view, refresh_ms=get_settings().timeline_refresh_seconds * 1000)
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=body, headers=shell.headers)


def _data(view: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=200, content_type="application/json", body=view, headers=DATA_HEADERS)


def _timeline(lifecycle_type: LifecycleType, lifecycle_id: str, token: str) -> dict[str, Any]:
    timeline_links.verify(_secret(), token, lifecycle_id, lifecycle_type)
    logger.set_correlation_id(lifecycle_id)
    facts = timeline_facts(get_orchestrator(), lifecycle_type, lifecycle_id)
    return timeline_view(facts.record, latest=facts.latest, production=facts.production, now=datetime.now(UTC))


def _dashboard(stack_tag: str, token: str) -> dict[str, Any]:
    timeline_links.verify_dashboard(_secret(), token, stack_tag)
    records, complete = fleet_records(get_orchestrator(), stack_tag)
    return dashboard_view(stack_tag, records, complete=complete, now=datetime.now(UTC))


def _register_timeline(lifecycle_type: LifecycleType) -> None:
    prefix, kind = PREFIX[lifecycle_type], lifecycle_type.value
    op = kind.replace("-", "_")

    @router.get(f"{prefix}/<lifecycle_id>/timeline-link", responses=ERROR_RESPONSES, operation_id=f"link_{op}_timeline",
                summary=f"A short-lived, read-only link to the {kind} timeline page (no key in it)")
    def timeline_link(lifecycle_id: PathId) -> TimelineLink:
        require_role(router, OPERATOR)
        logger.set_correlation_id(lifecycle_id)
        lifecycle_record(get_orchestrator(), lifecycle_type, lifecycle_id)  # 404 for an unknown lifecycle
        expires_at, expires_text = _expiry()
        token = timeline_links.issue(_secret(), timeline_links.TimelineGrant(lifecycle_id, lifecycle_type, expires_at))
        return TimelineLink(path=f"{prefix}/{lifecycle_id}/timeline?token={token}", expires_at=expires_text)

    @router.get(f"{prefix}/<lifecycle_id>/timeline", responses=ERROR_RESPONSES, operation_id=f"get_{op}_timeline",
                summary=f"Timeline page of a {kind} lifecycle (HTML; open the link from timeline-link)")
    def timeline(lifecycle_id: PathId, token: Token) -> Response[str]:
        view = _timeline(lifecycle_type, lifecycle_id, token)
        return _html("timeline", f"AMI lifecycle {lifecycle_id}", view)

    @router.get(f"{prefix}/<lifecycle_id>/timeline/data", responses=ERROR_RESPONSES,
                operation_id=f"get_{op}_timeline_data",
                summary="What the timeline page shows, as JSON (the page polls it with its link's token)")
    def timeline_data(lifecycle_id: PathId, token: Token) -> Response[dict[str, Any]]:
        return _data(_timeline(lifecycle_type, lifecycle_id, token))


@router.get(f"{FLEET}/<stack_tag>/dashboard-link", responses=ERROR_RESPONSES, operation_id="link_fleet_dashboard",
            summary="A short-lived, read-only link to the fleet dashboard of a stack tag (no key in it)")
def dashboard_link(stack_tag: PathTag) -> DashboardLink:
    require_role(router, OPERATOR)
    expires_at, expires_text = _expiry()
    token = timeline_links.issue_dashboard(_secret(), timeline_links.DashboardGrant(stack_tag, expires_at))
    return DashboardLink(path=f"{FLEET}/{stack_tag}/dashboard?token={token}", expires_at=expires_text)


@router.get(f"{FLEET}/<stack_tag>/dashboard", responses=ERROR_RESPONSES, operation_id="get_fleet_dashboard",
            summary="Fleet dashboard of a stack tag (HTML; open the link from dashboard-link)")
def dashboard(stack_tag: PathTag, token: Token) -> Response[str]:
    return _html("dashboard", f"AMI fleet {stack_tag}", _dashboard(stack_tag, token))


@router.get(f"{FLEET}/<stack_tag>/dashboard/data", responses=ERROR_RESPONSES, operation_id="get_fleet_dashboard_data",
            summary="What the fleet dashboard shows, as JSON (the page polls it with its link's token)")
def dashboard_data(stack_tag: PathTag, token: Token) -> Response[dict[str, Any]]:
    return _data(_dashboard(stack_tag, token))


for _type in LifecycleType:
    _register_timeline(_type)
