"""API errors: exceptions that carry their HTTP status and envelope error code.

Handlers and the store raise these; the routing layer turns them into the error
envelope, so no code path has to build error responses by hand.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "FieldError",
    "InjectedFault",
    "MethodNotAllowed",
    "NotFound",
    "ValidationFailed",
    "field_error",
]

FieldError = dict[str, Any]
"""One entry of ``error.details``: ``field``, ``message`` and, for batches, ``index``."""


def field_error(field: str, message: str, index: int | None = None) -> FieldError:
    """Build one validation detail entry (``index`` only for batch items)."""
    detail: FieldError = {"field": field, "message": message}
    if index is not None:
        detail["index"] = index
    return detail


class ApiError(Exception):
    """Base of all errors that map onto an error envelope."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def payload(self) -> dict[str, Any]:
        """Return the ``error`` object of the envelope."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return error


class BadRequest(ApiError):
    """The body is not a JSON object (malformed JSON, array, scalar, empty)."""

    status_code = 400
    code = "bad_request"


class NotFound(ApiError):
    """Unknown id, or a route that does not exist in this version."""

    status_code = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    """The path exists but not with this HTTP method."""

    status_code = 405
    code = "method_not_allowed"


class Conflict(ApiError):
    """The request clashes with the current state (duplicates, dependants, re-cancel)."""

    status_code = 409
    code = "conflict"


class InjectedFault(ApiError):
    """A 5xx answered on purpose by the fault injector (``--faults 500=P``), not a bug."""

    code = "injected_fault"

    def __init__(self, status_code: int) -> None:
        super().__init__(f"fault injected: {status_code}")
        self.status_code = status_code


class ValidationFailed(ApiError):
    """Invalid payload or query parameters; ``details`` says which fields and why."""

    status_code = 422
    code = "validation_error"

    def __init__(self, details: list[FieldError], message: str = "Validation failed") -> None:
        super().__init__(message, details)
