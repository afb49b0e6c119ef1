"""Speed-ups for the API tests; none changes what a test can observe.

Each test gets a fresh moto account (tests/conftest.py `deployment`). What makes that slow is not the
account but boto3 set-up repeated per test; here it happens once per run:
- moto drops boto3's default session on every start, and tests/conftest.py resets the functions'
  cached clients, so each test re-parses botocore's service models and rebuilds ~15 clients. The
  session, the parsed models and the functions' clients are kept instead (moto intercepts a client
  whatever test created it, exactly as a warm Lambda container keeps its clients between invocations).
- moto loads Amazon's public AMI catalogue into every fresh EC2 backend (~0.8 s); these tests register
  their own AMIs (flow.new_ami) and never search the catalogue.
"""

from __future__ import annotations

import functools

import botocore.session
import pytest
from moto.core.config import default_user_config

_shared_loader = functools.cache(botocore.session.create_loader)


@pytest.fixture(autouse=True)
def _warm_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    # Function-scoped, so tests outside this directory keep moto's and botocore's defaults.
    monkeypatch.setattr(botocore.session, "create_loader", _shared_loader)
    monkeypatch.setitem(default_user_config, "core", {**default_user_config.get("core", {}),
                                                      "reset_boto3_session": False})
    monkeypatch.setattr("lambdas.adapters.aws.reset_clients", lambda: None)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
