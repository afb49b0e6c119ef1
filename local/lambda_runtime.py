"""Run moto Lambda functions in this process with this repository's handlers (no Docker).

moto calls `LambdaFunction._invoke_lambda(event)` for every invocation: direct `invoke`, Step
Functions tasks (function ARN or `lambda:invoke[.waitForTaskToken]`), SQS event sources and SNS
subscriptions. The runtime replaces it: it imports the function's handler (e.g.
`lambdas.steps.build.handler.lambda_handler`) from the repository, applies the function's
environment for the duration of the call, and maps an exception to the Lambda error shape
`{"errorType", "errorMessage"}` with the error flag set, so Retry/Catch match on the exception's
class name exactly as on AWS.

Invocations are serialised with a re-entrant lock: handlers share `os.environ` and the module cache,
and a handler may trigger another function synchronously (SNS -> Lambda) in the same thread.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaFunction


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


@dataclass
class Invocation:
    function_name: str
    handler: str
    event: Any
    errored: bool
    result: Any


class InProcessLambdaRuntime:
    def __init__(self, *, region: str, base_environment: dict[str, str] | None = None, sessions: Any = None) -> None:
        """`sessions` (local.endpoint.sessions.RoleSessions): each function then runs with temporary
        credentials of its own execution role, as on AWS, and the local endpoint checks every call
        it makes against that role's policies."""
        self.region = region
        self.base_environment = base_environment or {}
        self.sessions = sessions
        self.invocations: list[Invocation] = []
        self._lock = threading.RLock()
        self._original: Callable[..., Any] | None = None

    def install(self) -> InProcessLambdaRuntime:
        runtime = self

        def invoke(function: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
            return runtime.invoke(function, event)

        self._original = LambdaFunction._invoke_lambda
        LambdaFunction._invoke_lambda = invoke  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        if self._original is not None:
            LambdaFunction._invoke_lambda = self._original  # type: ignore[method-assign]
            self._original = None

    def invocations_of(self, name_part: str) -> list[Invocation]:
        return [i for i in self.invocations if name_part in i.function_name]

    def invoke(self, function: LambdaFunction, event: Any) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, (str, bytes)) and event else (event or {})
        context = LambdaContext(
            function_name=function.function_name,
            invoked_function_arn=function.function_arn,
            memory_limit_in_mb=int(function.memory_size or 128),
            timeout_seconds=int(function.timeout or 3),
        )
        with self._lock, self._environment(function):
            try:
                result = _load_handler(function.handler)(payload, context)
                body, errored = json.dumps(result), False
            except Exception as exc:  # noqa: BLE001 - every failure becomes a Lambda error result
                result = {
                    "errorType": type(exc).__name__,
                    "errorMessage": str(exc),
                    "stackTrace": traceback.format_exception(exc)[-3:],
                }
                body, errored = json.dumps(result), True
            self.invocations.append(Invocation(function.function_name, function.handler, payload, errored, result))
        return body, errored, ""

    @contextmanager
    def _environment(self, function: LambdaFunction) -> Iterator[None]:
        applied = {
            **self.base_environment,
            **{k: str(v) for k, v in (function.environment_vars or {}).items()},
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
            **(self.sessions.environment(function.role, function.function_name) if self.sessions else {}),
        }
        # Only the function's own variables are swapped in and out, and none is ever deleted: other
        # threads (moto's executions, the caller) iterate os.environ, and a key deleted under an
        # iteration raises KeyError there. A variable the process did not have is reset to "" instead,
        # so the next function still sees it unset-equivalent rather than another function's value.
        previous = {name: os.environ.get(name, "") for name in applied}
        os.environ.update(applied)
        _forget_environment_derived_state()
        try:
            yield
        finally:
            os.environ.update(previous)
            _forget_environment_derived_state()


def _forget_environment_derived_state() -> None:
    """Lambda gives every function a process of its own; here they share one, so what a function
    derived from its environment (settings, the orchestrator wired from them) must not leak into the
    next function's invocation."""
    from lambdas.orchestrator import factory

    factory.reset()


def _load_handler(handler: str) -> Callable[[Any, Any], Any]:
    module_name, _, attribute = handler.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)

