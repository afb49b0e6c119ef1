"""Fixtures shared by every suite: isolated fake AWS credentials and a moto deployment (tests/support/aws.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.aws import FAKE_ENV, Deployment, moto_deployment


@pytest.fixture(autouse=True)
def _fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach a real account: credentials are fake and endpoints overrides removed."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in FAKE_ENV:
            monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """A moto account holding the core resources, with the functions' environment applied."""
    with moto_deployment(monkeypatch) as created:
        yield created


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory):
    """The app synthesized once per session (core + workflows stacks), offline and in-process."""
    from tests.support.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("cdk.out"))
