"""The one place that reads a BigCommerce error response and sorts it into the bridge's taxonomy.

BigCommerce answers errors in several shapes, depending on the API generation and endpoint:

    v2               [{"status": 400, "message": "...", "details": {...}?}]
    v3               {"status", "title", "type", "errors": {field: message}, "detail"?, "instance"?}
    problem+json     the v3 shape, served as application/problem+json by the Inventory API
    variant batch    {"batch_errors": [{"status", "title", "instance"?, "errors": {key: message}}]}
    metafield batch  {"data": [saved...], "errors": [{"status", "title", "errors": {key: message}}], "meta"}
    refunds          {"data": [{"status", "title" | "error", ...}], "meta": {}}

Messages keep the API's own words (titles, field messages) and never the request body, headers or tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.bigcommerce.settings import MAX_ERROR_MESSAGE_CHARS, SYSTEM
from connectors.http import ApiError, PaginationLoopError, PermanentApiError, retry_after_seconds
from connectors.http.statuses import error_for_status

__all__ = ["BatchItemError", "BatchRejectedError", "PaginationLoopError", "map_bigcommerce_error"]

_REQUEST_ID_HEADERS = ("x-request-id", "x-correlation-id")


@dataclass(frozen=True)
class BatchItemError:
    """One rejected item of a batch: `keys` are the API's own pointers to it (indexes, ids, paths), as sent."""

    keys: tuple[str, ...]
    message: str


class BatchRejectedError(PermanentApiError):
    """A batch write refused some items; `item_errors` says which, `accepted` holds records saved anyway."""

    def __init__(
        self,
        message: str,
        *,
        item_errors: list[BatchItemError],
        accepted: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        self.item_errors = item_errors
        self.accepted = accepted or []
        super().__init__(message, **kwargs)


def map_bigcommerce_error(response: httpx.Response, operation: str) -> ApiError:
    """Classify an error response (status >= 400) into the taxonomy.

    Args:
        response: the failed response; only its status, headers and body are read.
        operation: the client operation that failed, for the message and call counters.

    Returns:
        The exception to raise: `RateLimitError` (429), `AuthError` (401/403), `NotFoundError` (404),
        `ConflictError` (409), `BatchRejectedError` (4xx with per-item errors), `PermanentApiError`
        (other 4xx and 507), `TransientApiError` (other 5xx).
    """
    status = response.status_code
    body = _body(response)
    message = _message(body) or response.reason_phrase or "no error message"
    if len(message) > MAX_ERROR_MESSAGE_CHARS:
        message = message[: MAX_ERROR_MESSAGE_CHARS - 3] + "..."
    context: dict[str, Any] = {
        "system": SYSTEM,
        "operation": operation,
        "status": status,
        "request_id": next((response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None),
    }
    if status == 507:
        # "Insufficient storage" is BigCommerce's plan limit (e.g. product count): no retry can fix it.
        return PermanentApiError(message, **context)
    # 429 means the store's quota is spent (or, without rate headers, the platform is loaded); maintenance (503)
    # and other server faults pass: both are worth repeating.
    error = error_for_status(message, retry_after=retry_after_seconds(response.headers), **context)
    item_errors = _item_errors(body) if type(error) is PermanentApiError else []
    if item_errors:
        accepted = body.get("data") if isinstance(body, dict) and isinstance(body.get("data"), list) else []
        accepted = [record for record in accepted if isinstance(record, dict) and "id" in record]
        return BatchRejectedError(message, item_errors=item_errors, accepted=accepted, **context)
    return error


def _body(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content) if response.content else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _message(body: Any) -> str:
    """The API's own words: v2 `message`s, v3 `title`/`detail` and field errors, batch entries."""
    if isinstance(body, list):
        return "; ".join(_entry_message(entry) for entry in body if isinstance(entry, dict))
    if not isinstance(body, dict):
        return ""
    if isinstance(body.get("batch_errors"), list):
        return "; ".join(_entry_message(entry) for entry in body["batch_errors"] if isinstance(entry, dict))
    if isinstance(body.get("errors"), list) and body["errors"]:
        return "; ".join(_entry_message(entry) for entry in body["errors"] if isinstance(entry, dict))
    if "title" not in body and "message" not in body and isinstance(body.get("data"), list):
        return "; ".join(_entry_message(entry) for entry in body["data"] if isinstance(entry, dict))
    return _entry_message(body)


def _entry_message(entry: dict[str, Any]) -> str:
    head = str(entry.get("title") or entry.get("message") or entry.get("error") or "").strip()
    detail = entry.get("detail")
    if isinstance(detail, str) and detail and detail != head:
        head = f"{head}: {detail}" if head else detail
    errors = entry.get("errors")
    if isinstance(errors, dict) and errors:
        fields = ", ".join(f"{key}: {value}" for key, value in errors.items())
        head = f"{head} ({fields})" if head else fields
    return head


def _item_errors(body: Any) -> list[BatchItemError]:
    """Per-item errors of a batch answer.

    A `batch_errors` entry describes one item: its `errors` keys and `instance` are all pointers to that item.
    A metafield partial-success entry maps several items (`errors` keys) to their own messages.
    """
    if not isinstance(body, dict):
        return []
    found: list[BatchItemError] = []
    if isinstance(body.get("batch_errors"), list):
        for entry in body["batch_errors"]:
            if not isinstance(entry, dict):
                continue
            errors = entry.get("errors") if isinstance(entry.get("errors"), dict) else {}
            instance = entry.get("instance")
            keys = [str(key) for key in errors] + ([str(instance)] if instance not in (None, "") else [])
            found.append(BatchItemError(keys=tuple(keys), message=_entry_message(entry) or "rejected"))
        return found
    if isinstance(body.get("errors"), list) and isinstance(body.get("data"), list):
        for entry in body["errors"]:
            if not isinstance(entry, dict):
                continue
            title = str(entry.get("title") or entry.get("message") or "rejected")
            errors = entry.get("errors") if isinstance(entry.get("errors"), dict) else {}
            for key, value in errors.items():
                found.append(BatchItemError(keys=(str(key),), message=f"{title}: {value}" if value else title))
            if not errors:
                found.append(BatchItemError(keys=(), message=title))
    return found
