"""The registry of fake AWS operations the local endpoint answers instead of moto.

Fakes are keyed by (service, operation), e.g. ("imagebuilder", "GetImage"), and work on botocore's
input and output shapes: the endpoint (local/endpoint/) parses each HTTP request into the operation's
parameters and serializes what the fake returns, so every AWS client sees the fakes, not only the
functions of the local cloud's own process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lambdas.adapters.aws import new_session
from local.credentials import admin_credentials

Operation = Callable[[dict[str, Any]], dict[str, Any]]
AfterCall = Callable[[dict[str, Any], dict[str, Any]], None]
Guard = Callable[[dict[str, Any]], None]


class FakeError(Exception):
    """Raised by a fake operation; answered as the service's error with this code and status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class FakeAws:
    def __init__(self) -> None:
        self._operations: dict[tuple[str, str], Operation] = {}
        self._after: dict[tuple[str, str], AfterCall] = {}
        self._guards: dict[tuple[str, str], Guard] = {}
        self._injected: dict[tuple[str, str], list[FakeError]] = {}

    def serve(self, service: str, operations: dict[str, Operation]) -> None:
        self._operations.update({(service, name): op for name, op in operations.items()})

    def amend(self, service: str, operation: str, mutate: AfterCall) -> None:
        """Let moto answer, then let `mutate(params, output)` add what moto leaves out."""
        self._after[(service, operation)] = mutate

    def guard(self, service: str, operation: str, check: Guard) -> None:
        """Before moto answers an operation, let `check(params)` refuse it (raise FakeError) where
        AWS refuses what moto accepts; returning lets moto answer."""
        self._guards[(service, operation)] = check

    def fail_next(self, service: str, operation: str, code: str, message: str = "injected failure", status: int = 400) -> None:
        """Make the next call of any operation, faked or moto's, fail with this error."""
        self._injected.setdefault((service, operation), []).append(FakeError(code, message, status))

    def clear_injections(self) -> None:
        self._injected.clear()

    def answer(self, service: str, operation: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """The fake's output, or None to let moto answer; raises FakeError for a refusal."""
        key = (service, operation)
        injected = self._injected.get(key)
        if injected:
            raise injected.pop(0)
        guard = self._guards.get(key)
        if guard is not None:
            guard(params)
        operation_ = self._operations.get(key)
        return operation_(params) if operation_ is not None else None

    def amender(self, service: str, operation: str) -> AfterCall | None:
        return self._after.get((service, operation))


class AdminClients:
    """The administrator's clients a fake calls moto with (local/credentials.py), built once per fake
    and service, from the process's shared model reader: building a boto3 client takes tens of
    milliseconds, which per call would outweigh the fake's own answer (and, compressed, add simulated
    minutes to every wait)."""

    def __init__(self, region: str, **kwargs: Any) -> None:
        self._region, self._kwargs = region, kwargs
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def prepare(self, *services: str) -> None:
        """Build them when the fake is installed: AWS's own machinery has no cold start to add to a wait."""
        for service in services:
            self(service)

    def __call__(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                session = new_session(**admin_credentials(), region_name=self._region)
                self._clients[service] = session.client(service, **self._kwargs)
            return self._clients[service]
