"""The API gateway in front of every route: store hash, `X-Auth-Token`, the request quota and its headers.

Real stores check these before any handler runs and put the four `X-Rate-Limit-*` headers on every answer,
errors and 429s included (bigcommerce.md §7.2); a client's limiter is only as good as the headers it learns from,
so the emulator keeps a real fixed window on an injected clock rather than faking the numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.settings import CLIENT_ID, CLIENT_STATE_KEY, ERROR_TYPE, BigCommerceSandboxSettings

__all__ = ["GatewayMiddleware", "RateWindow", "route_path"]

_API_PATH = re.compile(r"^/stores/(?P<hash>[^/]+)/(?P<version>v2|v3)(?:/|$)")


class RateWindow:
    """A fixed window of `quota` requests that opens with the first request after the previous one closed."""

    def __init__(self, quota: int, window_ms: int, clock: Callable[[], float]) -> None:
        self.quota = quota
        self.window_ms = window_ms
        self._clock = clock
        self._start: float | None = None
        self._used = 0

    def _roll(self) -> float:
        now = self._clock()
        if self._start is None or (now - self._start) * 1000 >= self.window_ms:
            self._start = now
            self._used = 0
        return now

    def take(self) -> bool:
        """Spend one request; False when the window's quota is already spent."""
        self._roll()
        if self._used >= self.quota:
            return False
        self._used += 1
        return True

    def reset_ms(self) -> int:
        now = self._roll()
        assert self._start is not None
        return max(0, self.window_ms - int((now - self._start) * 1000))

    def headers(self, *, exhausted: bool = False) -> dict[str, str]:
        reset_ms = self.reset_ms()
        headers = {
            "X-Rate-Limit-Requests-Quota": str(self.quota),
            "X-Rate-Limit-Requests-Left": "0" if exhausted else str(max(0, self.quota - self._used)),
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
        }
        if exhausted:
            headers["X-Retry-After"] = str(max(1, math.ceil(reset_ms / 1000)))
        return headers


def route_path(scope: Scope) -> str:
    """The path inside this app, whether or not it is mounted under a prefix."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def too_many_requests_body() -> bytes:
    return json.dumps({"status": 429, "title": "Too many requests", "type": ERROR_TYPE}).encode()


class GatewayMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware) because it runs on every request of 100k-variant benchmarks."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: BigCommerceSandboxSettings,
        window: RateWindow,
        on_request: Callable[[], None],
    ) -> None:
        self.app = app
        self.settings = settings
        self.window = window
        self.on_request = on_request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if path.startswith("/_sandbox/"):
            await self.app(scope, receive, send)
            return
        match = _API_PATH.match(path)
        if match is not None:
            version = match["version"]
            if match["hash"] != self.settings.store_hash:
                await self._reject(send, ApiError(version, 404, "Store not found"))
                return
            token = _header(scope, b"x-auth-token")
            if token is None:
                await self._reject(send, ApiError(version, 401, "Unauthorized: missing X-Auth-Token header"))
                return
            client_id = CLIENT_ID if token == self.settings.access_token else self.settings.other_app_tokens.get(token)
            if client_id is None:
                await self._reject(send, ApiError(version, 401, "Unauthorized: invalid X-Auth-Token"))
                return
            scope.setdefault("state", {})[CLIENT_STATE_KEY] = client_id  # whose metafields this caller may see
            if not self.window.take():
                await self._send(send, 429, too_many_requests_body(), self.window.headers(exhausted=True))
                return
            self.on_request()
        await self.app(scope, receive, self._with_headers(send))

    def _with_headers(self, send: Send) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.lower().encode(), value.encode())
                    for name, value in self.window.headers().items()
                    if name.lower().encode() not in present
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return send_with_headers

    async def _reject(self, send: Send, error: ApiError) -> None:
        response = error.response()
        await self._send(send, error.status, bytes(response.body), self.window.headers())

    async def _send(self, send: Send, status: int, body: bytes, headers: dict[str, str]) -> None:
        raw: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        raw += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
