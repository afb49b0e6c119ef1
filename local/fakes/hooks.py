"""Botocore hooks that route chosen operations to Python fakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.handlers

from lambdas.adapters.aws import reset_clients

Operation = Callable[[dict[str, Any]], dict[str, Any]]
AfterCall = Callable[[dict[str, Any], dict[str, Any]], None]


class FakeError(Exception):
    """Raised by a fake operation; becomes a botocore ClientError with this code and status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class _HttpResponse:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.raw = None
        self.content = b""
        self.text = ""


class FakeAws:
    """Registry of fake operations, keyed by (service id, operation name), e.g. ("imagebuilder", "GetImage")."""

    def __init__(self) -> None:
        self._operations: dict[tuple[str, str], Operation] = {}
        self._after: dict[tuple[str, str], AfterCall] = {}
        self._injected: dict[tuple[str, str], list[FakeError]] = {}
        self._handlers = [
            ("before-parameter-build.*.*", self._remember_params),
            ("before-call.*.*", self._call),
            ("after-call.*.*", self._after_call),
        ]

    def serve(self, service: str, operations: dict[str, Operation]) -> None:
        self._operations.update({(service, name): op for name, op in operations.items()})

    def amend(self, service: str, operation: str, mutate: AfterCall) -> None:
        """Let moto answer, then let `mutate(params, parsed)` add what moto leaves out."""
        self._after[(service, operation)] = mutate

    def fail_next(self, service: str, operation: str, code: str, message: str = "injected failure", status: int = 400) -> None:
        """Make the next call of any operation, faked or moto's, fail with this error."""
        self._injected.setdefault((service, operation), []).append(FakeError(code, message, status))

    def clear_injections(self) -> None:
        self._injected.clear()

    def install(self) -> FakeAws:
        botocore.handlers.BUILTIN_HANDLERS.extend(self._handlers)
        reset_clients()  # cached clients predate the hooks
        return self

    def uninstall(self) -> None:
        for handler in self._handlers:
            if handler in botocore.handlers.BUILTIN_HANDLERS:
                botocore.handlers.BUILTIN_HANDLERS.remove(handler)
        reset_clients()

    @staticmethod
    def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fake_api_params"] = dict(params)

    @staticmethod
    def _key(model: Any) -> tuple[str, str]:
        return model.service_model.service_id.hyphenize(), model.name

    def _call(self, model: Any, context: dict[str, Any], **_: Any) -> tuple[_HttpResponse, dict[str, Any]] | None:
        key = self._key(model)
        injected = self._injected.get(key)
        operation = self._operations.get(key)
        if operation is None and not injected:
            return None
        metadata = {"HTTPStatusCode": 200, "RequestId": "fake", "HTTPHeaders": {}, "RetryAttempts": 0}
        try:
            if injected:
                raise injected.pop(0)
            assert operation is not None
            parsed = operation(context.get("fake_api_params", {}))
        except FakeError as exc:
            metadata["HTTPStatusCode"] = exc.status
            error = {"Error": {"Code": exc.code, "Message": exc.message}, "ResponseMetadata": metadata}
            return _HttpResponse(exc.status), error
        return _HttpResponse(200), {**parsed, "ResponseMetadata": metadata}

    def _after_call(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        mutate = self._after.get(self._key(model))
        if mutate is not None and "Error" not in parsed:
            mutate(context.get("fake_api_params", {}), parsed)
