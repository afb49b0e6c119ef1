"""Domain errors. Only the API's exception handlers turn them into HTTP status codes."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """A lifecycle rule refuses the request: immutable event, out of order, already in progress."""

    status_code = 409


class ConcurrentUpdate(Conflict):
    """Someone else changed the lifecycle between our read and our write; retrying may succeed."""
