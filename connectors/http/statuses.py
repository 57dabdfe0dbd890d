"""The reading of an HTTP error status every system shares, into the bridge's error taxonomy.

Each system's mapper handles its own exceptions (a status its API uses differently, a message that changes the
meaning) before calling `error_for_status`.
"""

from __future__ import annotations

from common.errors import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    PermanentApiError,
    RateLimitError,
    TransientApiError,
)

__all__ = ["error_for_status"]


_STATUS_CLASSES: dict[int, type[ApiError]] = {
    408: TransientApiError,  # the server timed out waiting: says nothing about the request itself
    401: AuthError,
    403: AuthError,
    404: NotFoundError,
    409: ConflictError,
}


def error_for_status(
    message: str,
    *,
    system: str,
    operation: str,
    status: int,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """The error an HTTP error status means when the API says nothing more specific.

    429 is a `RateLimitError` carrying `retry_after` (the wait the API asked for, in seconds, if any); 401/403,
    404 and 409 are `AuthError`, `NotFoundError` and `ConflictError`; 408 and 5xx are transient (the same
    request is worth repeating); other 4xx are permanent.
    """
    if status == 429:
        return RateLimitError(
            message, retry_after=retry_after, system=system, operation=operation, status=status, request_id=request_id
        )
    error_class = _STATUS_CLASSES.get(status) or (TransientApiError if status >= 500 else PermanentApiError)
    return error_class(message, system=system, operation=operation, status=status, request_id=request_id)
