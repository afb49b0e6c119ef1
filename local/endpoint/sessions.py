"""Credentials of the app's own roles, as AWS hands them out: a Lambda function runs with its
execution role's temporary credentials, and a state machine's service integrations sign with the
state machine's role. Both are obtained here with sts:AssumeRole on the local endpoint, so the
endpoint checks each call against that role's policies.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import threading
from functools import partial
from typing import Any

from local.credentials import admin_client


class RoleSessions:
    def __init__(self, region: str) -> None:
        self.region = region
        self._credentials: dict[str, dict[str, str]] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def credentials(self, role_arn: str, session_name: str = "local-cloud") -> dict[str, str]:
        with self._lock:
            found = self._credentials.get(role_arn)
        if found is None:
            issued = admin_client("sts", self.region).assume_role(
                RoleArn=role_arn, RoleSessionName=session_name[:64], DurationSeconds=43200)["Credentials"]
            found = {"aws_access_key_id": issued["AccessKeyId"], "aws_secret_access_key": issued["SecretAccessKey"],
                     "aws_session_token": issued["SessionToken"]}
            with self._lock:
                found = self._credentials.setdefault(role_arn, found)
        return found

    def environment(self, role_arn: str, session_name: str) -> dict[str, str]:
        """The AWS_* variables Lambda sets for a function's execution role."""
        issued = self.credentials(role_arn, session_name)
        return {"AWS_ACCESS_KEY_ID": issued["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": issued["aws_secret_access_key"],
                "AWS_SESSION_TOKEN": issued["aws_session_token"]}

    def client(self, role_arn: str, service: str, region: str, **kwargs: Any) -> Any:
        import boto3

        key = (role_arn, service, region)
        with self._lock:
            cached = self._clients.get(key)
        if cached is None:
            session = boto3.session.Session(**self.credentials(role_arn, "StepFunctions"), region_name=region)
            cached = session.client(service, **kwargs)
            with self._lock:
                cached = self._clients.setdefault(key, cached)
        return cached

    def forget(self) -> None:
        with self._lock:
            self._credentials.clear()
            self._clients.clear()


_PATCHED: dict[str, Any] = {}


def sign_state_machine_calls_with_their_role(sessions: RoleSessions) -> None:
    """moto's interpreter signs every service integration with the fixed key "ak": make it use the
    role of the state (the execution's role unless the state names Credentials), as AWS does."""
    from moto.stepfunctions.parser.asl.utils import boto_client as module

    original = _PATCHED.setdefault("boto_client_for", module.boto_client_for)
    for package in ("moto.stepfunctions.parser.asl.component.state.exec",):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            importlib.import_module(info.name)
    replacement = partial(_boto_client_for, sessions, original)
    for name, loaded in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(loaded, "boto_client_for", None) is not None:
            loaded.boto_client_for = replacement


def restore_state_machine_clients() -> None:
    original = _PATCHED.get("boto_client_for")
    if original is None:
        return
    for name, loaded in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(loaded, "boto_client_for", None) is not None:
            loaded.boto_client_for = original


def _boto_client_for(sessions: RoleSessions, original: Any, region: str, service: str, state_credentials: Any = None) -> Any:
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port

    role_arn = getattr(state_credentials, "role_arn", None)
    if not role_arn:
        return original(region=region, service=service, state_credentials=state_credentials)
    kwargs: dict[str, Any] = {}
    if not botocore_stubber.enabled:
        kwargs["endpoint_url"] = f"http://localhost:{moto_server_port()}"
    config = Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=60, read_timeout=60)
    return sessions.client(role_arn, service, region, config=config, **kwargs)
