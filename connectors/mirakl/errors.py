"""The one mapping of a Mirakl error response to the bridge's taxonomy.

Mirakl answers errors with `{"message": ..., "status": ...}`; some newer endpoints use `{"errors": [{"message":
...}]}` instead. Only the API's message is kept (truncated), never the raw body, which may echo customer data.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from connectors.http import ApiError, ConflictError, PaginationLoopError, retry_after_seconds
from connectors.http.statuses import error_for_status
from connectors.mirakl.settings import ALREADY_IN_STATE_MARKER, SYSTEM

__all__ = ["PaginationLoopError", "error_message", "map_mirakl_error"]

_MAX_MESSAGE_CHARS = 300
_REQUEST_ID_HEADERS = ("x-mirakl-request-id", "x-request-id")


def map_mirakl_error(response: httpx.Response, operation: str) -> ApiError:
    """Classify a Mirakl response with status >= 400 by what the caller must do about it."""
    status = response.status_code
    message = error_message(response)
    context: dict[str, Any] = {
        "system": SYSTEM,
        "operation": operation,
        "status": status,
        "request_id": _request_id(response),
    }
    if status == 400 and ALREADY_IN_STATE_MARKER in message:
        # OR24 on an order already shipped answers 400 "... Current status is SHIPPED": the goal is reached.
        return ConflictError(message, **context)
    # A 429's Retry-After (seconds) is the floor for the next attempt.
    return error_for_status(message, retry_after=retry_after_seconds(response.headers), **context)


def error_message(response: httpx.Response) -> str:
    """The API's own message (`message`, else `errors[0].message`), else a neutral status text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    message: object = None
    if isinstance(body, dict):
        message = body.get("message")
        errors = body.get("errors")
        if not message and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            message = errors[0].get("message")
    if not isinstance(message, str) or not message.strip():
        message = response.reason_phrase or f"HTTP {response.status_code}"
    return message.strip()[:_MAX_MESSAGE_CHARS]


def _request_id(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = response.headers.get(name)
        if value:
            return value
    return None
