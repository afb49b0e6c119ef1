"""Domain errors. Only the API's exception handlers turn them into HTTP status codes.

`error` is the ErrorBody's error class. It is spelled here rather than derived from http.HTTPStatus:
the phrases changed between Python versions (413 and 422 in 3.13), and the deployed functions run
a newer Python than the local machines.
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 500
    error = "InternalServerError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    status_code = 400
    error = "BadRequest"


class Unauthorized(DomainError):
    status_code = 401
    error = "Unauthorized"


class Forbidden(DomainError):
    status_code = 403
    error = "Forbidden"


class NotFound(DomainError):
    status_code = 404
    error = "NotFound"


class Conflict(DomainError):
    """A lifecycle rule refuses the request: immutable event, out of order, already in progress."""

    status_code = 409
    error = "Conflict"


class ConcurrentUpdate(Conflict):
    """Someone else changed the lifecycle between our read and our write; retrying may succeed."""


class PayloadTooLarge(DomainError):
    status_code = 413
    error = "PayloadTooLarge"


class UnsupportedMediaType(DomainError):
    status_code = 415
    error = "UnsupportedMediaType"


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key already used for a different request: replaying it would lie."""

    status_code = 422
    error = "UnprocessableEntity"
