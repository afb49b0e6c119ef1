"""Failures and their exit codes: 0 ok, 1 API or lifecycle failure, 2 usage error."""

from __future__ import annotations

OK, FAILURE, USAGE = 0, 1, 2


class CliError(Exception):
    exit_code = FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CliError):
    """Bad input: nothing was sent."""

    exit_code = USAGE


class ApiError(CliError):
    """The API answered with an error status."""

    def __init__(self, status: int, error: str | None, message: str) -> None:
        label = f"{status} {error}" if error else str(status)
        super().__init__(f"API error {label}: {message}")
        self.status, self.error, self.api_message = status, error, message


class TransportError(CliError):
    """The API could not be reached or answered something that is not HTTP/JSON."""


class LifecycleFailed(CliError):
    """--wait: an event ended FAILED or ERROR, or the wait timed out."""
