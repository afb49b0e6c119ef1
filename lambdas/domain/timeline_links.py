"""Short-lived, read-only links to one lifecycle's timeline.

A browser cannot send the x-api-key header, and a key must never sit in a URL. So an operator (with
the key, through the API) asks for a link; the link carries a token that names one lifecycle, one
view (creation or patch) and an expiry, signed with HMAC-SHA256 under a secret only the API holds.
The token grants nothing else: it cannot call any other route and it expires by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from lambdas.domain.errors import Unauthorized
from lambdas.domain.events import LifecycleType

_VERSION = "v1"
_TYPE_CODE = {LifecycleType.CREATION: "c", LifecycleType.PATCH: "p"}


@dataclass(frozen=True)
class TimelineGrant:
    lifecycle_id: str
    lifecycle_type: LifecycleType
    expires_at: int  # epoch seconds


def _signature(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: bytes, grant: TimelineGrant) -> str:
    payload = f"{_VERSION}.{grant.lifecycle_id}.{_TYPE_CODE[grant.lifecycle_type]}.{grant.expires_at}"
    return f"{payload}.{_signature(secret, payload)}"


def verify(secret: bytes, token: str, lifecycle_id: str, lifecycle_type: LifecycleType, now: float | None = None) -> TimelineGrant:
    """The grant the token carries, if it is genuine, unexpired and for this lifecycle and view."""
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != _VERSION:
        raise Unauthorized("invalid timeline link; ask for a new one (api-cli --operation AMI_TIMELINE_CREATE)")
    payload, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_signature(secret, payload), signature):
        raise Unauthorized("invalid timeline link; ask for a new one (api-cli --operation AMI_TIMELINE_CREATE)")
    _, token_id, type_code, expires = parts[:4]
    if token_id != lifecycle_id or type_code != _TYPE_CODE[lifecycle_type]:
        raise Unauthorized("this timeline link is for another lifecycle")
    if int(expires) < (now if now is not None else time.time()):
        raise Unauthorized("this timeline link has expired; ask for a new one")
    return TimelineGrant(lifecycle_id=token_id, lifecycle_type=lifecycle_type, expires_at=int(expires))
