"""The ERP sink: where native (first-party) order lines go, one idempotent POST per order.

The ERP deduplicates on the `Idempotency-Key` header and answers 200 for an order it already has (201 for a
new one), so repeating a send after a crash or timeout is always safe. Requests go through the shared
`ApiTransport`, so retries and error classes are the same as for the marketplace APIs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.http import (
    DEFAULT_RETRY_POLICY,
    ApiError,
    ApiTransport,
    ConfigurationError,
    MalformedResponseError,
    RetryPolicy,
    decode_json,
    retry_after_seconds,
)
from connectors.http.retry import Sleep
from connectors.http.statuses import error_for_status
from connectors.http.transport import api_http_client

__all__ = ["ErpClient", "ErpReceipt", "map_erp_error"]

SYSTEM = "erp"
PATH_ORDERS = "/orders"
_OPERATION = "send_order"
_MAX_MESSAGE_CHARS = 300


class ErpReceipt(BaseModel):
    """What the ERP says about an order it holds; `duplicate` is true when it had it already (HTTP 200)."""

    model_config = ConfigDict(extra="allow")

    idempotency_key: str
    status_code: int
    duplicate: bool
    erp_order_id: str | None = None


def map_erp_error(response: httpx.Response, operation: str) -> ApiError:
    """Classify an ERP response with status >= 400."""
    status = response.status_code
    message = _error_message(response)
    context: dict[str, Any] = {
        "system": SYSTEM,
        "operation": operation,
        "status": status,
        "request_id": response.headers.get("x-request-id"),
    }
    # A 409 is the same idempotency key with a different payload: a bug to look at, not to retry.
    return error_for_status(message, retry_after=retry_after_seconds(response.headers), **context)


class ErpClient:
    """Async client of the ERP's order intake."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Sleep | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self._http = http
        self.transport = ApiTransport(
            http, system=SYSTEM, error_mapper=map_erp_error, retry_policy=retry_policy, sleep=sleep, rand=rand
        )

    @classmethod
    def create(
        cls,
        base_url: str,
        token: str,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        timeout: float = 30.0,
        **kw: Any,
    ) -> ErpClient:
        """A client for the ERP at `base_url` (path prefix allowed) with a bearer `token`.

        Raises:
            ConfigurationError: the base URL or the token is empty.
        """
        if not base_url or not token:
            raise ConfigurationError("the ERP sink needs a base_url and a token")
        http = api_http_client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        return cls(http, **kw)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ErpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def check_access(self) -> None:
        """GET /orders: one read that needs the token, for `bcmirakl doctor` before the first run.

        Raises:
            AuthError: the token is refused; other ApiError as classified (a sink without that read answers 404/405).
        """
        await self.transport.request("GET", "/orders", operation="check_access")

    async def send_order(self, payload: dict[str, Any], idempotency_key: str) -> ErpReceipt:
        """Hand one order's native lines to the ERP; safe to repeat with the same key.

        Args:
            payload: the order document, JSON-serialisable (money as strings or numbers, not floats).
            idempotency_key: stable per order, e.g. the BigCommerce order id.

        Returns:
            The receipt; `duplicate` tells a replay (200) from a first delivery (201).

        Raises:
            ApiError: classified by `map_erp_error`; MalformedResponseError for an unexpected success status.
        """
        if not idempotency_key:
            raise ValueError("idempotency_key is empty")
        # Repeatable (the default) although it creates an order: the ERP deduplicates on the Idempotency-Key, so a
        # repeat after a timeout or a 5xx answers 200 for the order it already has instead of booking it twice.
        return await self.transport.request(
            "POST",
            PATH_ORDERS,
            operation=_OPERATION,
            content=json.dumps(payload, default=str).encode("utf-8"),
            headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
            read=lambda response: _receipt(response, idempotency_key),
        )


def _receipt(response: httpx.Response, idempotency_key: str) -> ErpReceipt:
    """Read inside each attempt, so an unreadable receipt is asked for again (the key makes that harmless)."""
    if response.status_code not in (200, 201):
        raise MalformedResponseError(
            "unexpected success status", system=SYSTEM, operation=_OPERATION, status=response.status_code
        )
    body = decode_json(response, system=SYSTEM, operation=_OPERATION) if response.content else {}
    if not isinstance(body, dict):
        body = {}
    erp_order_id = body.get("erp_order_id") or body.get("id")
    try:
        return ErpReceipt.model_validate(
            {
                **body,
                "idempotency_key": idempotency_key,
                "status_code": response.status_code,
                "duplicate": response.status_code == 200,
                "erp_order_id": str(erp_order_id) if erp_order_id is not None else None,
            }
        )
    except ValidationError as exc:
        raise MalformedResponseError(
            "receipt does not match the expected shape", system=SYSTEM, operation=_OPERATION
        ) from exc


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    message = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail") or body.get("error")
    if not isinstance(message, str) or not message.strip():
        message = response.reason_phrase or f"HTTP {response.status_code}"
    return message.strip()[:_MAX_MESSAGE_CHARS]
