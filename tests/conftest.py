"""Fixtures shared by every suite: isolated fake AWS credentials and a moto deployment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "ami-lifecycle-tests",
    "POWERTOOLS_METRICS_NAMESPACE": "AmiLifecycleTests",
    "POWERTOOLS_LOG_LEVEL": "DEBUG",
}


@pytest.fixture(autouse=True)
def _fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach a real account: credentials are fake and endpoints overrides removed."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in _FAKE_ENV:
            monkeypatch.delenv(name, raising=False)
    for name, value in _FAKE_ENV.items():
        monkeypatch.setenv(name, value)


def _atomic_dynamodb_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each write (and each transaction) atomically; moto's in-memory backend does
    not when called from several threads. Serialize its writes so race tests exercise our conditions
    against the guarantees the real service gives, not against moto's thread-safety."""
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def atomic(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator["Deployment"]:  # noqa: F821
    """A moto account holding the core resources, with the functions' environment applied."""
    from moto import mock_aws

    from lambdas.adapters.aws import reset_clients
    from lambdas.orchestrator import factory
    from tests.support.aws import create_deployment

    _atomic_dynamodb_writes(monkeypatch)
    with mock_aws():
        reset_clients()
        factory.reset()
        created = create_deployment()
        # moto POSTs SNS messages to http(s) endpoints for real; tests record them instead, so no
        # test ever sends traffic off this machine.
        deliveries = created.extra.setdefault("https_deliveries", [])
        monkeypatch.setattr(
            "moto.sns.models.requests.post",
            lambda url, json=None, **_: deliveries.append({"url": url, "body": json}),
        )
        for name, value in created.environ.items():
            monkeypatch.setenv(name, value)
        yield created
    reset_clients()
    factory.reset()


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory):
    """The app synthesized once per session (core + workflows stacks), offline and in-process."""
    from tests.support.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("cdk.out"))
