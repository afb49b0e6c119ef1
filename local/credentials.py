"""The local cloud's administrator credentials: what operators, tests and the fakes call with.

Every other caller (a function, a state machine, a role assumed from outside) signs with credentials
that the local AWS endpoint maps to an IAM role and checks against that role's policies. These are
not secrets: they open nothing but the local endpoint on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

import boto3

ADMIN_ACCESS_KEY_ID = "AKIALOCALCLOUDADMIN1"
ADMIN_SECRET_ACCESS_KEY = "local-cloud-administrator-not-a-secret"
ADMIN_USER_NAME = "local-cloud-admin"


def admin_credentials() -> dict[str, str]:
    return {"aws_access_key_id": ADMIN_ACCESS_KEY_ID, "aws_secret_access_key": ADMIN_SECRET_ACCESS_KEY}


def admin_client(service: str, region: str, **kwargs: Any) -> Any:
    """A boto3 client with the administrator's credentials (never the process environment's, which
    the in-process Lambda runtime swaps to each function's role while it runs)."""
    return boto3.session.Session(**admin_credentials(), region_name=region).client(service, **kwargs)
