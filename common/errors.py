"""The bridge's error taxonomy: every failure is sorted by what the caller must do about it.

    BridgeError
    ├── ConfigurationError           missing or invalid settings: fail at start-up, before any call
    ├── ApiError                     an external API answered badly (system, operation, status, request id, message)
    │   ├── TransientApiError        429, 5xx, timeouts, resets, malformed bodies: retry with backoff
    │   │   ├── RateLimitError       429, carries retry_after (seconds) when the API said how long
    │   │   └── MalformedResponseError  a 2xx whose body is not what the API documents
    │   └── PermanentApiError        4xx: never retried, the record is quarantined with the API's message
    │       ├── UnreadableResponseError  the same request answered with an unreadable body twice running
    │       ├── AuthError            401/403: credentials or scopes
    │       ├── NotFoundError        404
    │       ├── ConflictError        409 (and Mirakl's "already in that state" answers)
    │       └── PaginationLoopError  a page (number, token or contents) served twice: following it would loop
    └── DataError                    our input is wrong, not the API
        └── RecordRejectedError      a record failed its model or a gate (record key + reason)

Messages carry ids, statuses and the API's own message only: never headers, tokens or customer data.
The taxonomy is the bottom layer: connectors raise it; the gate, tasks, flows and the CLI catch it; so it
imports nothing of the bridge. Reading an HTTP status into one of these classes is the connectors' job
(`connectors.http.statuses`).
"""

from __future__ import annotations

__all__ = [
    "ApiError",
    "AuthError",
    "BridgeError",
    "ConfigurationError",
    "ConflictError",
    "DataError",
    "MalformedResponseError",
    "NotFoundError",
    "PaginationLoopError",
    "PermanentApiError",
    "RateLimitError",
    "RecordRejectedError",
    "TransientApiError",
    "UnreadableResponseError",
]


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose."""


class ConfigurationError(BridgeError):
    """Settings are missing or invalid; raised before any external call is made."""


class ApiError(BridgeError):
    """An external API call failed; holds what an operator needs to find it in the vendor's logs.

    `attempts` is how many times the HTTP layer sent the request before giving up (1 when it did not retry),
    so an outer layer does not repeat what the retry loop already repeated.
    """

    attempts: int = 1

    def __init__(
        self,
        message: str,
        *,
        system: str,
        operation: str,
        status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.system = system
        self.operation = operation
        self.status = status
        self.request_id = request_id
        self.api_message = message
        where = f"{system} {operation}"
        status_text = f" HTTP {status}" if status is not None else ""
        super().__init__(f"{where}{status_text}: {message}")


class TransientApiError(ApiError):
    """Worth retrying: the same request may succeed later."""


class RateLimitError(TransientApiError):
    """HTTP 429; `retry_after` is the wait the API asked for, in seconds, when it said one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class MalformedResponseError(TransientApiError):
    """A success status with a body we cannot read; usually a truncated or proxied response."""


class PermanentApiError(ApiError):
    """The API refused the request itself; repeating it cannot help."""


class UnreadableResponseError(PermanentApiError):
    """A body that stayed unreadable when the request was repeated: a broken export or envelope, not weather.

    One garbled answer is repeated like any transient fault (a truncated transfer heals on the next attempt);
    the same request garbled again is raised as permanent, so neither the transport nor the task retries a page
    that will come back broken every time.
    """


class AuthError(PermanentApiError):
    """Credentials rejected or a scope missing."""


class NotFoundError(PermanentApiError):
    """The addressed resource does not exist."""


class ConflictError(PermanentApiError):
    """The resource is in a state that forbids the request (duplicate, already shipped, ...)."""


class PaginationLoopError(PermanentApiError):
    """The API served a page it had already served (same number, token or contents); following it would loop."""


class DataError(BridgeError):
    """Our own input is unusable; the API was never asked."""


class RecordRejectedError(DataError):
    """One record failed its model or a gate; it goes to quarantine under `record_key` with `reason`."""

    def __init__(self, record_key: str, reason: str) -> None:
        self.record_key = record_key
        self.reason = reason
        super().__init__(f"record {record_key} rejected: {reason}")
