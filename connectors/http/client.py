"""The request path every connector shares: pace, send, read the quota, classify, retry.

A system's client (BigCommerce, Mirakl, ERP) subclasses nothing: it owns an `ApiTransport` and gives it the
one function that maps that system's error bodies to the taxonomy. Counting calls per operation here is what
lets artifacts and benchmarks report API-call efficiency.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from connectors.http.errors import (
    ApiError,
    ConfigurationError,
    MalformedResponseError,
    RateLimitError,
    TransientApiError,
)
from connectors.http.ratelimit import QuotaLimiter
from connectors.http.retry import DEFAULT_RETRY_POLICY, RetryPolicy, Sleep, call_with_retry

__all__ = ["ApiTransport", "ErrorMapper", "decode_json", "retry_after_seconds"]

ErrorMapper = Callable[[httpx.Response, str], ApiError]

_log = logging.getLogger("bcmirakl.http")


class ApiTransport:
    """Sends one logical request, with pacing and retries, and returns the successful response."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        system: str,
        error_mapper: ErrorMapper,
        limiter: QuotaLimiter | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Sleep | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self.http = http
        self.system = system
        self.limiter = limiter
        self.retry_policy = retry_policy
        self.calls: Counter[str] = Counter()
        self._error_mapper = error_mapper
        self._sleep = sleep
        self._rand = rand
        self._reached_once = False

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    async def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send `method url` as `operation`; transient failures are retried, others raised classified."""

        async def attempt() -> httpx.Response:
            return await self._send_once(method, url, operation, params, json_body, content, headers)

        kwargs: dict[str, Any] = {"policy": self.retry_policy}
        if self._sleep is not None:
            kwargs["sleep"] = self._sleep
        if self._rand is not None:
            kwargs["rand"] = self._rand
        return await call_with_retry(attempt, **kwargs)

    async def _send_once(
        self,
        method: str,
        url: str,
        operation: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Response:
        if self.limiter is not None:
            await self.limiter.acquire()
        self.calls[operation] += 1
        started = time.perf_counter()
        try:
            response = await self.http.request(
                method,
                url,
                params=_clean_params(params),
                json=json_body,
                content=content,
                headers=headers,
            )
        except httpx.TimeoutException as exc:
            raise TransientApiError("request timed out", system=self.system, operation=operation) from exc
        except httpx.ConnectError as exc:
            if not self._reached_once:
                # A wrong base URL should fail fast and clearly instead of backing off for minutes.
                raise ConfigurationError(
                    f"cannot reach {self.system} at {self.http.base_url}: check the base URL"
                ) from exc
            raise TransientApiError("connection failed", system=self.system, operation=operation) from exc
        except httpx.TransportError as exc:
            # Resets and protocol errors mid-response are network weather, not a verdict on the request.
            raise TransientApiError(
                f"transport error ({type(exc).__name__})", system=self.system, operation=operation
            ) from exc
        self._reached_once = True
        _log.debug(
            "%s %s -> %s in %.3fs",
            self.system,
            operation,
            response.status_code,
            time.perf_counter() - started,
        )
        if self.limiter is not None:
            self.limiter.update(response.headers)
        if response.status_code >= 400:
            error = self._error_mapper(response, operation)
            if isinstance(error, RateLimitError) and self.limiter is not None:
                self.limiter.exhaust(error.retry_after or 0.0)
            raise error
        return response


def decode_json(response: httpx.Response, *, system: str, operation: str) -> Any:
    """The body as JSON; an unreadable body on a success status is a transient, retryable fault."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(
            "response body is not valid JSON", system=system, operation=operation, status=response.status_code
        ) from exc


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait a 429 asks for: BigCommerce's reset in ms first, then `X-Retry-After`/`Retry-After` seconds."""
    reset_ms = headers.get("x-rate-limit-time-reset-ms")
    if reset_ms is not None:
        try:
            return max(0.0, float(reset_ms) / 1000.0)
        except ValueError:
            pass
    for name in ("x-retry-after", "retry-after"):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                continue
    return None


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop unset filters and render booleans the way both APIs expect (`true`/`false`)."""
    if params is None:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        cleaned[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return cleaned
