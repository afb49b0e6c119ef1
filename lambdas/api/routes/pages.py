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
from lambdas.api.app import OPERATOR, PathId, require_role
from lambdas.api.pages.html import DATA_HEADERS, page
from lambdas.api.pages.view_models import DashboardView, TimelineView
from lambdas.api.responses import KEY, LINK, documented
from lambdas.core.observability import logger
from lambdas.core.settings import get_settings
from lambdas.domain import timeline_links
from lambdas.domain.events import LifecycleType
from lambdas.domain.requests import LINK_TOKEN_PATTERN, STACK_TAG_PATTERN, DashboardLink, TimelineLink
from lambdas.orchestrator.factory import get_lookup, get_repository
from lambdas.orchestrator.views import fleet_records, lifecycle_record, timeline_facts

router = APIGatewayRouter()
PREFIX = {LifecycleType.CREATION: "/ami-creation/lifecycles", LifecycleType.PATCH: "/ami-patch/lifecycles"}
FLEET = "/ami-fleet"
Token = Annotated[str, Query(min_length=20, max_length=512, pattern=LINK_TOKEN_PATTERN,
                             description="The signed link's token (see the signedLink security scheme).")]
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


def _data(view: TimelineView | DashboardView) -> Response[TimelineView | DashboardView]:
    body = view.model_dump(mode="json")
    return Response(status_code=200, content_type="application/json", body=body, headers=DATA_HEADERS)


def _timeline(lifecycle_type: LifecycleType, lifecycle_id: str, token: str) -> dict[str, Any]:
    from lambdas.api.pages.timeline_view import timeline_view  # the pages' code, for these routes only

    timeline_links.verify(_secret(), token, lifecycle_id, lifecycle_type)
    logger.set_correlation_id(lifecycle_id)
    facts = timeline_facts(get_repository(), get_lookup(), lifecycle_type, lifecycle_id)
    return timeline_view(facts.record, latest=facts.latest, production=facts.production, now=datetime.now(UTC))


def _dashboard(stack_tag: str, token: str) -> dict[str, Any]:
    from lambdas.api.pages.dashboard_view import dashboard_view

    timeline_links.verify_dashboard(_secret(), token, stack_tag)
    records, complete = fleet_records(get_repository(), stack_tag)
    return dashboard_view(stack_tag, records, complete=complete, now=datetime.now(UTC))


_PAGE = (None, "The page: one self-contained HTML document (strict CSP, no external assets).")


def _register_timeline(lifecycle_type: LifecycleType) -> None:
    prefix, kind = PREFIX[lifecycle_type], lifecycle_type.value
    op = kind.replace("-", "_")
    # A creation lifecycle always has its timeline; a patch timeline needs a patch run (409 otherwise).
    rule = (409,) if lifecycle_type is LifecycleType.PATCH else ()

    @router.get(f"{prefix}/<lifecycle_id>/timeline-link", operation_id=f"link_{op}_timeline",
                responses=documented({200: (TimelineLink, "A link valid until expires_at.")}, *KEY, 404, *rule),
                summary=f"A short-lived, read-only link to the {kind} timeline page (no key in it)")
    def timeline_link(lifecycle_id: PathId) -> TimelineLink:
        require_role(router, OPERATOR)
        logger.set_correlation_id(lifecycle_id)
        lifecycle_record(get_repository(), lifecycle_type, lifecycle_id)  # 404 for an unknown lifecycle
        expires_at, expires_text = _expiry()
        token = timeline_links.issue(_secret(), timeline_links.TimelineGrant(lifecycle_id, lifecycle_type, expires_at))
        return TimelineLink(path=f"{prefix}/{lifecycle_id}/timeline?token={token}", expires_at=expires_text)

    @router.get(f"{prefix}/<lifecycle_id>/timeline", operation_id=f"get_{op}_timeline",
                responses=documented({200: _PAGE}, *LINK, 404, *rule, media_type="text/html"),
                summary=f"Timeline page of a {kind} lifecycle (HTML; open the link from timeline-link)")
    def timeline(lifecycle_id: PathId, token: Token) -> Response[str]:
        view = _timeline(lifecycle_type, lifecycle_id, token)
        return _html("timeline", f"AMI lifecycle {lifecycle_id}", view)

    @router.get(f"{prefix}/<lifecycle_id>/timeline/data", operation_id=f"get_{op}_timeline_data",
                responses=documented({200: (TimelineView, "What the page shows.")}, *LINK, 404, *rule),
                summary="What the timeline page shows, as JSON (the page polls it with its link's token)")
    def timeline_data(lifecycle_id: PathId, token: Token) -> Response[TimelineView | DashboardView]:
        return _data(TimelineView.model_validate(_timeline(lifecycle_type, lifecycle_id, token)))


@router.get(f"{FLEET}/<stack_tag>/dashboard-link", operation_id="link_fleet_dashboard",
            responses=documented({200: (DashboardLink, "A link valid until expires_at.")}, *KEY),
            summary="A short-lived, read-only link to the fleet dashboard of a stack tag (no key in it)")
def dashboard_link(stack_tag: PathTag) -> DashboardLink:
    require_role(router, OPERATOR)
    expires_at, expires_text = _expiry()
    token = timeline_links.issue_dashboard(_secret(), timeline_links.DashboardGrant(stack_tag, expires_at))
    return DashboardLink(path=f"{FLEET}/{stack_tag}/dashboard?token={token}", expires_at=expires_text)


@router.get(f"{FLEET}/<stack_tag>/dashboard", operation_id="get_fleet_dashboard",
            responses=documented({200: _PAGE}, *LINK, media_type="text/html"),
            summary="Fleet dashboard of a stack tag (HTML; open the link from dashboard-link)")
def dashboard(stack_tag: PathTag, token: Token) -> Response[str]:
    return _html("dashboard", f"AMI fleet {stack_tag}", _dashboard(stack_tag, token))


@router.get(f"{FLEET}/<stack_tag>/dashboard/data", operation_id="get_fleet_dashboard_data",
            responses=documented({200: (DashboardView, "What the page shows.")}, *LINK),
            summary="What the fleet dashboard shows, as JSON (the page polls it with its link's token)")
def dashboard_data(stack_tag: PathTag, token: Token) -> Response[TimelineView | DashboardView]:
    return _data(DashboardView.model_validate(_dashboard(stack_tag, token)))


for _type in LifecycleType:
    _register_timeline(_type)
