"""Who signed a request, and which identity policies apply to them.

Identities come from moto's own IAM and STS state, so what `aws iam put-role-policy` changes on the
local endpoint is what the next request is checked against:
- the administrator key (local/credentials.py), and any key the local cloud declares an
  administrator (the test process's fake credentials in decorator mode), may do anything;
- credentials returned by sts:AssumeRole act as that role, with the role's inline and attached
  managed policies;
- an IAM user's access key acts as that user, with the user's policies.
Anything else is an unknown key and is refused as AWS refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from local.credentials import ADMIN_ACCESS_KEY_ID, ADMIN_USER_NAME


@dataclass(frozen=True)
class Principal:
    arn: str
    account: str
    admin: bool = False
    role_name: str | None = None
    role_arn: str | None = None  # of a role session: the role's ARN, path included
    user_name: str | None = None
    statements: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn: a role session is known by its role's ARN, not the session's (IAM User
        Guide, "AWS global condition context keys", aws:PrincipalArn)."""
        return self.role_arn or self.arn

    @property
    def names(self) -> tuple[str, ...]:
        """The ARNs a Principal element may name this caller by."""
        return (self.arn, self.role_arn) if self.role_arn else (self.arn,)


def _iam(account: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"]


def _documents_of(entity: Any) -> list[Any]:
    documents: list[Any] = list(entity.policies.values())
    for policy in entity.managed_policies.values():
        default = next((v for v in policy.versions if v.is_default), None)
        if default is not None:
            documents.append(default.document)
    return documents


def role_statements(account: str, role_name: str) -> list[dict[str, Any]]:
    from local.endpoint.policy import statements

    return statements(_documents_of(_iam(account).get_role(role_name)))


class Principals:
    def __init__(self, account: str, admin_keys: set[str] | None = None, *, unknown_keys_are_admin: bool = False) -> None:
        """`unknown_keys_are_admin`: in decorator mode the test process administers the in-process
        cloud with whatever fake credentials it has; a server refuses unknown keys."""
        self.account = account
        self.admin_keys = {ADMIN_ACCESS_KEY_ID} | set(admin_keys or ())
        self.unknown_keys_are_admin = unknown_keys_are_admin

    def resolve(self, access_key_id: str | None) -> Principal | None:
        if access_key_id is None:
            return None
        if access_key_id in self.admin_keys:
            return Principal(f"arn:aws:iam::{self.account}:user/{ADMIN_USER_NAME}", self.account, admin=True)
        found = self._assumed_role(access_key_id) or self._user(access_key_id)
        if found is None and self.unknown_keys_are_admin:
            return Principal(f"arn:aws:iam::{self.account}:root", self.account, admin=True)
        return found

    def _assumed_role(self, access_key_id: str) -> Principal | None:
        from moto.sts.models import sts_backends

        assumed = sts_backends[self.account]["aws"].get_assumed_role_from_access_key(access_key_id)
        if assumed is None:
            return None
        role_name = assumed.role_arn.rsplit("/", 1)[-1]
        try:
            found = role_statements(self.account, role_name)
        except Exception:  # noqa: BLE001 - the role was deleted since: its sessions can do nothing
            found = []
        arn = f"arn:aws:sts::{self.account}:assumed-role/{role_name}/{assumed.session_name}"
        return Principal(arn, self.account, role_name=role_name, role_arn=assumed.role_arn, statements=tuple(found))

    def _user(self, access_key_id: str) -> Principal | None:
        from local.endpoint.policy import statements

        backend = _iam(self.account)
        for user in backend.users.values():
            if any(key.access_key_id == access_key_id and key.status == "Active" for key in user.access_keys):
                documents = _documents_of(user)
                for group in backend.get_groups_for_user(user.name):
                    documents += _documents_of(group)
                return Principal(user.arn, self.account, user_name=user.name, statements=tuple(statements(documents)))
        return None
