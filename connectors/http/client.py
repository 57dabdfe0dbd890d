"""The request path every connector shares: pace, send, read the body, classify, retry.

A system's client (BigCommerce, Mirakl, ERP) subclasses nothing: it owns an `ApiTransport` and gives it the
one function that maps that system's error bodies to the taxonomy. Counting calls per operation here is what
lets artifacts and benchmarks report API-call efficiency.

One attempt is "send, then read": the caller's `read` runs inside each attempt, so a truncated or garbled
200 (`MalformedResponseError`) is repeated exactly like a 500, and no client needs a retry loop of its own; when
the repeat is unreadable too, the body is broken at the source and `UnreadableResponseError` (permanent) ends
the retries.
Writes that are not safe to repeat (they create something and carry no idempotency key) pass
`repeatable=False`: after a timeout, a reset, a 5xx or an unreadable answer such a write may have reached the
server, so the failure is raised after the first attempt for the caller to reconcile. A 429 is still waited
out and repeated (the API refused before doing anything), and so is a connection that was never opened.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar, overload

import httpx
from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json, to_json

from common.errors import (
    ApiError,
    ConfigurationError,
    MalformedResponseError,
    RateLimitError,
    TransientApiError,
    UnreadableResponseError,
)
from connectors.http.ratelimit import QuotaLimiter
from connectors.http.records import RejectionLog
from connectors.http.retry import DEFAULT_RETRY_POLICY, RetryPolicy, Sleep, call_with_retry

__all__ = ["ApiTransport", "ErrorMapper", "OperationGate", "ResponseReader", "decode_json", "retry_after_seconds"]

T = TypeVar("T")
ErrorMapper = Callable[[httpx.Response, str], ApiError]
ResponseReader = Callable[[httpx.Response], T]


class OperationGate(Protocol):
    """Awaited before every call with its operation and query: where a per-operation call budget waits its turn.

    `release` gives the slot back when the platform refused the call unserved (429).
    """

    async def __call__(self, operation: str, params: Mapping[str, Any] | None) -> None: ...

    def release(self, operation: str) -> None: ...


# Failures raised before a connection existed: the request never left this process, so even a write that is
# not safe to repeat may be sent again.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

_log = logging.getLogger("bcmirakl.http")


# Distinct request paths whose joined URL is kept (`ApiTransport._absolute`); past it the cache starts again.
_URLS_KEPT = 1024


class ApiTransport:
    """Sends one logical request, with pacing and retries, and returns the read (or raw) successful response."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        system: str,
        error_mapper: ErrorMapper,
        limiter: QuotaLimiter | None = None,
        gate: OperationGate | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Sleep | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        self.http = http
        self.system = system
        self.limiter = limiter
        self.gate = gate
        self.retry_policy = retry_policy
        self.calls: Counter[str] = Counter()
        self.rejections = RejectionLog()
        self._error_mapper = error_mapper
        self._retry_kwargs: dict[str, Any] = {"policy": retry_policy}
        if sleep is not None:
            self._retry_kwargs["sleep"] = sleep
        if rand is not None:
            self._retry_kwargs["rand"] = rand
        self._reached_once = False
        self._urls: dict[str, httpx.URL] = {}

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @overload
    async def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = ...,
        json_body: Any = ...,
        content: bytes | None = ...,
        headers: Mapping[str, str] | None = ...,
        read: None = ...,
        repeatable: bool = ...,
    ) -> httpx.Response: ...

    @overload
    async def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = ...,
        json_body: Any = ...,
        content: bytes | None = ...,
        headers: Mapping[str, str] | None = ...,
        read: ResponseReader[T],
        repeatable: bool = ...,
    ) -> T: ...

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
        read: ResponseReader[Any] | None = None,
        repeatable: bool = True,
    ) -> Any:
        """Send `method url` as `operation`; transient failures are retried, others raised classified.

        Args:
            method: the HTTP method.
            url: a path relative to the client's base URL, or an absolute URL.
            operation: the name calls are counted and errors reported under (Mirakl's code, a method name).
            params: query parameters; None values are dropped, booleans sent as `true`/`false`.
            json_body: a JSON-serialisable body.
            content: a raw body (`b""` sends `Content-Length: 0`).
            headers: extra request headers.
            read: turns the successful response into the result inside each attempt, so a
                `MalformedResponseError` it raises is retried like any transient failure; without it the
                response itself is returned.
            repeatable: False for a write that must not happen twice: only a 429 or a connection never
                opened is repeated, any other transient failure is raised after the first attempt.

        Returns:
            What `read` returned, or the response when there is no `read`.

        Raises:
            TransientApiError: attempts ran out, or the first one failed on a write that is not repeatable.
            UnreadableResponseError: `read` found the body malformed on two attempts.
            PermanentApiError: the API refused the request.
            ConfigurationError: the very first connection of this transport failed (a wrong base URL).
        """

        unreadable = 0

        async def attempt() -> Any:
            nonlocal unreadable
            response = await self._send_once(method, url, operation, params, json_body, content, headers)
            if read is None:
                return response
            try:
                return read(response)
            except MalformedResponseError as exc:
                unreadable += 1
                if unreadable < 2:
                    raise
                raise UnreadableResponseError(
                    f"{exc.api_message} (again on attempt {unreadable}: not retried)",
                    system=exc.system,
                    operation=exc.operation,
                    status=exc.status,
                    request_id=exc.request_id,
                ) from exc

        if repeatable:
            return await call_with_retry(attempt, **self._retry_kwargs)

        async def attempt_once_unless_refused() -> Any:
            try:
                return await attempt()
            except TransientApiError as exc:
                if isinstance(exc, RateLimitError) or isinstance(exc.__cause__, _NEVER_SENT):
                    raise
                raise _NotRepeated(exc) from exc

        try:
            return await call_with_retry(attempt_once_unless_refused, **self._retry_kwargs)
        except _NotRepeated as stopped:
            error = stopped.error
            _log.warning(
                "%s %s failed (status %s) and may have taken effect: not repeated, reconcile before retrying",
                error.system,
                error.operation,
                error.status,
            )
            raise error from error.__cause__

    async def request_json(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        repeatable: bool = True,
        shape: TypeAdapter[Any] | None = None,
    ) -> Any:
        """`request` reading the body as JSON; a 204 reads as None, an unreadable body is retried.

        With `shape`, a body that fits it is validated straight from its bytes and returned as `shape` gives it
        (pydantic-core skips what `shape` does not declare, without building it); any other body is decoded as
        without, for the caller to judge.

        Raises:
            MalformedResponseError: the one attempt of a write that is not repeatable was unreadable.
            UnreadableResponseError: the body was unreadable on two attempts.
        """

        def read(response: httpx.Response) -> Any:
            if response.status_code == 204:
                return None
            if shape is not None:
                try:
                    return shape.validate_json(response.content)
                except ValidationError:
                    pass
            return decode_json(response, system=self.system, operation=operation)

        return await self.request(
            method,
            url,
            operation=operation,
            params=params,
            json_body=json_body,
            content=content,
            headers=headers,
            read=read,
            repeatable=repeatable,
        )

    def _absolute(self, url: str) -> httpx.URL | str:
        """A path's URL joined to the client's base URL once, not at every call: httpx parses and joins both at each
        request, half the cost of building a batch write's request (a million-offer sync makes 27,000 of them).
        An absolute URL (an export chunk's) goes as given; a run's few hundred distinct paths are kept."""
        if url.startswith(("http://", "https://")):
            return url
        joined = self._urls.get(url)
        if joined is None:
            if len(self._urls) >= _URLS_KEPT:
                self._urls.clear()
            joined = self._urls[url] = self.http.build_request("GET", url).url
        return joined

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
        if self.gate is not None:
            await self.gate(operation, params)
        if self.limiter is not None:
            await self.limiter.acquire()
        self.calls[operation] += 1
        if json_body is not None and content is None:
            content, headers = _encode_json(json_body), _json_headers(headers)
        started = time.perf_counter()
        try:
            response = await self.http.request(
                method, self._absolute(url), params=_clean_params(params), content=content, headers=headers
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
            if isinstance(error, RateLimitError):
                if self.limiter is not None:
                    self.limiter.exhaust(error.retry_after or 0.0)
                if self.gate is not None:
                    self.gate.release(operation)
            raise error
        return response


def decode_json(response: httpx.Response, *, system: str, operation: str) -> Any:
    """The body as JSON; an unreadable body on a success status is a transient, retryable fault.

    pydantic_core's parser (Rust) reads a page faster than `json` and gives the same values (ints of any size
    stay ints, floats floats, `NaN`/`Infinity` read as floats as `json` reads them). It reads only UTF-8, so a
    body it refuses is handed to `json` (which also reads a BOM, UTF-16/32 and lone surrogate escapes) before it
    is called unreadable: what was readable stays readable.
    """
    try:
        return from_json(response.content)
    except ValueError:
        pass
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(
            "response body is not valid JSON", system=system, operation=operation, status=response.status_code
        ) from exc


def _encode_json(body: Any) -> bytes:
    """`body` as the compact UTF-8 JSON httpx's `json=` writes, by pydantic_core's serialiser (Rust) instead of
    `json.dumps`.

    `json=` refuses NaN and infinities (`allow_nan=False`); the serialiser would write them as `null`, which on
    a price means "no price of its own". It writes them as `NaN`/`Infinity` here instead, and a body holding
    either text (a real NaN, or a string that merely contains the word) is written by `json` as before, which
    raises for the float and gives the same bytes for the string.
    """
    encoded = to_json(body, inf_nan_mode="constants")
    if b"NaN" in encoded or b"Infinity" in encoded:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    return encoded


def _json_headers(headers: Mapping[str, str] | None) -> httpx.Headers:
    """The caller's headers with `Content-Type: application/json` unless they name one (as `json=` did)."""
    merged = httpx.Headers(headers)
    merged.setdefault("Content-Type", "application/json")
    return merged


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


class _NotRepeated(Exception):
    """Carries a transient failure of a write that is not repeatable past the retry loop, which would repeat it."""

    def __init__(self, error: TransientApiError) -> None:
        super().__init__(str(error))
        self.error = error
