"""Short-lived, read-only links to one lifecycle's timeline or one stack tag's fleet dashboard.

A browser cannot send the x-api-key header, and a key must never sit in a URL. So an operator (with
the key, through the API) asks for a link; the link carries a token that names one subject (a
lifecycle, or a stack tag), one view (creation timeline, patch timeline, dashboard) and an expiry,
signed with HMAC-SHA256 under a secret only the API holds. The token grants nothing else: it cannot
call any other route, opens no other view, and it expires by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from lambdas.domain.cli_commands import cli_command
from lambdas.domain.errors import Unauthorized
from lambdas.domain.events import LifecycleType

_VERSION = "v1"
_TYPE_CODE = {LifecycleType.CREATION: "c", LifecycleType.PATCH: "p"}
_DASHBOARD = "d"


@dataclass(frozen=True)
class TimelineGrant:
    lifecycle_id: str
    lifecycle_type: LifecycleType
    expires_at: int  # epoch seconds


@dataclass(frozen=True)
class DashboardGrant:
    stack_tag: str  # a slug: never contains the token's "." separator
    expires_at: int  # epoch seconds


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _issue(secret: bytes, subject: str, view: str, expires_at: int) -> str:
    payload = f"{_VERSION}.{subject}.{view}.{expires_at}"
    return f"{payload}.{_signature(secret, payload)}"


def _verify(secret: bytes, token: str, subject: str, view: str, renew: str, now: float | None) -> int:
    """The token's expiry, if it is genuine, unexpired and for this subject and view."""
    dashboard = view == _DASHBOARD
    page = "dashboard" if dashboard else "timeline"
    other = "another stack tag or page" if dashboard else "another lifecycle or view"
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != _VERSION or not parts[3].isdigit():
        raise Unauthorized(f"invalid {page} link; ask for a new one: {renew}")
    payload, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_signature(secret, payload), signature):
        raise Unauthorized(f"invalid {page} link; ask for a new one: {renew}")
    _, token_subject, token_view, expires = parts[:4]
    if token_subject != subject or token_view != view:
        raise Unauthorized(f"this {page} link is for {other}; ask for a new one: {renew}")
    if int(expires) < (now if now is not None else time.time()):
        raise Unauthorized(f"this {page} link has expired; ask for a new one: {renew}")
    return int(expires)


def timeline_renewal(lifecycle_id: str, lifecycle_type: LifecycleType) -> str:
    operation = "AMI_TIMELINE_PATCH" if lifecycle_type is LifecycleType.PATCH else "AMI_TIMELINE_CREATE"
    return cli_command(operation, lifecycleId=lifecycle_id)


def dashboard_renewal(stack_tag: str) -> str:
    return cli_command("AMI_DASHBOARD", stackTag=stack_tag)


def issue(secret: bytes, grant: TimelineGrant) -> str:
    return _issue(secret, grant.lifecycle_id, _TYPE_CODE[grant.lifecycle_type], grant.expires_at)


def verify(secret: bytes, token: str, lifecycle_id: str, lifecycle_type: LifecycleType, now: float | None = None) -> TimelineGrant:
    """The grant the token carries, if it is genuine, unexpired and for this lifecycle and view."""
    renew = timeline_renewal(lifecycle_id, lifecycle_type)
    expires_at = _verify(secret, token, lifecycle_id, _TYPE_CODE[lifecycle_type], renew, now)
    return TimelineGrant(lifecycle_id=lifecycle_id, lifecycle_type=lifecycle_type, expires_at=expires_at)


def issue_dashboard(secret: bytes, grant: DashboardGrant) -> str:
    return _issue(secret, grant.stack_tag, _DASHBOARD, grant.expires_at)


def verify_dashboard(secret: bytes, token: str, stack_tag: str, now: float | None = None) -> DashboardGrant:
    expires_at = _verify(secret, token, stack_tag, _DASHBOARD, dashboard_renewal(stack_tag), now)
    return DashboardGrant(stack_tag=stack_tag, expires_at=expires_at)
