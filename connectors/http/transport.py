"""The connectors' network transport: plain HTTP/1.1 over asyncio streams, each request in one write.

The bridge's calls are small JSON requests on kept-alive connections, tens of thousands per big catalog's first
sync. httpx's default transport (httpcore over anyio and h11) spent as much CPU per call as the rest of the
call's handling: connection-pool bookkeeping, a socket poll before each reuse, a cancel scope per read, an event
machine per byte stream. Measured on a 50-variant batch PUT answered with 50 variants (`benchmarks/README.md`,
sixth pass): 1.6 to 2.0 ms of client CPU per call through httpx's default transport, 0.6 to 0.8 ms through this
one, of which this transport's own part is 0.3 ms.

What this transport does, and all it does:
- HTTP/1.1 only, with keep-alive: connections are kept per origin up to `keepalive_expiry` seconds idle (the
  same 5 s as httpx's default), at most `max_connections` open at once (a caller waits for a free one up to the
  pool timeout);
- the request's head and body go to the socket in one write, the body read first if it was streamed (the
  connectors' bodies are JSON documents of at most a few hundred KiB);
- the response is read whole (Content-Length, chunked, or up to the close), so the connection goes back to the
  pool before the caller parses it; httpx still decodes gzip and the rest on top;
- a kept-alive connection the server closed meanwhile (its keep-alive timer raced our reuse) is retried once
  on a new connection when the method is idempotent (RFC 9112 §9.3.1); a POST fails as httpx's
  `RemoteProtocolError`, as with httpx's own transport;
- httpx's timeouts (`connect`, `write`, `read` between received bytes, `pool`) and errors (`ConnectError`,
  `ReadTimeout`, `RemoteProtocolError`, ...), so `connectors.http.client` classifies failures as before.

Proxies are httpx's business: with `HTTP_PROXY`, `HTTPS_PROXY` or `ALL_PROXY` in the environment the API
clients are built on httpx's own transport, which mounts the proxies (httpx ignores them under a transport it
is given). `BCMIRAKL_HTTP_TRANSPORT=httpx` puts httpx's default transport back in any case (for a network this
one does not suit; the README says so).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

__all__ = ["Http11Transport", "api_http_client", "network_transport"]

_DEFAULT_PORTS = {b"http": 80, b"https": 443}
# Answers without a body whatever their headers say (RFC 9112 §6.3).
_NO_BODY = frozenset({204, 304})
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
# Longest response head read (status line and headers); the stream reader's buffer limit.
_HEAD_LIMIT = 256 * 1024
# Bytes read per step of a large body; the read timeout restarts at each.
_READ_STEP = 1024 * 1024
_NO_RESPONSE = "server disconnected without sending a response"


def network_transport() -> httpx.AsyncBaseTransport:
    """The transport the connectors use on the network: `Http11Transport`, or httpx's default when
    `BCMIRAKL_HTTP_TRANSPORT=httpx`."""
    if os.environ.get("BCMIRAKL_HTTP_TRANSPORT", "").strip().lower() == "httpx":
        return httpx.AsyncHTTPTransport()
    return Http11Transport()


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing: httpx looks at every response for cookies (building a urllib request to ask),
    and the platforms' APIs authenticate each call by token, not by session cookie."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class _ApiClient(httpx.AsyncClient):
    @property
    def cookies(self) -> httpx.Cookies:
        return _NoCookies()

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("the connectors' HTTP clients keep no cookies")


def api_http_client(*, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for a platform API, keeping no cookies: on `transport` if given, else on the
    network's (`network_transport`), or on httpx's own with the environment's proxies when one is set.
    `kwargs` are the client's (`base_url`, `headers`, `timeout`, `auth`)."""
    if transport is None and not _environment_proxies():
        transport = network_transport()
    return _ApiClient(transport=transport, **kwargs)


def _environment_proxies() -> bool:
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


class _Connection:
    """One kept-alive socket: its streams and when it went idle."""

    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = 0.0

    def usable(self, now: float, expiry: float) -> bool:
        return now - self.idle_since < expiry and not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class _Answer:
    """A response as read off the connection."""

    __slots__ = ("content", "headers", "reason", "reusable", "status", "version")

    def __init__(self, status: int, reason: bytes, version: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.status, self.reason, self.version, self.headers = status, reason, version, headers
        self.content = b""
        self.reusable = False


class _Stale(Exception):
    """A reused connection was found closed before any of the answer came: the request was not served. Raised
    only for a reused connection (`stale=True`); a new one that closes fails as `RemoteProtocolError`."""


class Http11Transport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio streams (see the module's docstring for what it covers)."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._expiry = keepalive_expiry
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self._slots: asyncio.Semaphore | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
        origin = (scheme, url.raw_host, url.port or _DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout", {})
        data = _request_bytes(request, await _body(request))
        slots = self._slots or self._make_slots()
        with _mapped(request, httpx.PoolTimeout, httpx.ConnectError):
            async with asyncio.timeout(timeouts.get("pool")):
                await slots.acquire()
        try:
            answer = await self._exchange(request, origin, data, timeouts)
        finally:
            slots.release()
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.content),
            extensions={"http_version": answer.version, "reason_phrase": answer.reason},
        )

    async def aclose(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _make_slots(self) -> asyncio.Semaphore:
        self._slots = asyncio.Semaphore(self._max_connections)
        return self._slots

    async def _exchange(
        self, request: httpx.Request, origin: tuple[bytes, bytes, int], data: bytes, timeouts: dict[str, Any]
    ) -> _Answer:
        """Send on a kept-alive connection if one is usable (once more on a new one if it turns out stale and
        the method allows), else on a new connection; keep the connection if the answer allows."""
        connection = self._reuse(origin)
        if connection is not None:
            try:
                return await self._send(request, origin, connection, data, timeouts, reused=True)
            except _Stale:
                if request.method not in _IDEMPOTENT:
                    raise httpx.RemoteProtocolError(_NO_RESPONSE, request=request) from None
        connection = await self._connect(request, origin, timeouts.get("connect"))
        return await self._send(request, origin, connection, data, timeouts, reused=False)

    async def _send(
        self,
        request: httpx.Request,
        origin: tuple[bytes, bytes, int],
        connection: _Connection,
        data: bytes,
        timeouts: dict[str, Any],
        *,
        reused: bool,
    ) -> _Answer:
        try:
            with _mapped(request, httpx.WriteTimeout, httpx.WriteError, stale=reused):
                connection.writer.write(data)
                async with asyncio.timeout(timeouts.get("write")):
                    await connection.writer.drain()
            answer = await _read_answer(request, connection.reader, timeouts.get("read"), stale=reused)
        except BaseException:
            connection.close()
            raise
        if answer.reusable:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(origin, []).append(connection)
        else:
            connection.close()
        return answer

    def _reuse(self, origin: tuple[bytes, bytes, int]) -> _Connection | None:
        connections = self._idle.get(origin)
        now = time.monotonic()
        while connections:
            connection = connections.pop()
            if connection.usable(now, self._expiry):
                return connection
            connection.close()
        return None

    async def _connect(
        self, request: httpx.Request, origin: tuple[bytes, bytes, int], timeout: float | None
    ) -> _Connection:
        scheme, host, port = origin
        context = None
        if scheme == b"https":
            context = self._ssl_context = self._ssl_context or httpx.create_ssl_context()
        with _mapped(request, httpx.ConnectTimeout, httpx.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host.decode("ascii"), port, ssl=context, limit=_HEAD_LIMIT
                )
        return _Connection(reader, writer)


async def _body(request: httpx.Request) -> bytes:
    """The request's body: as built (bytes), or read whole when it was given as a stream."""
    if isinstance(request.stream, httpx.ByteStream):
        return request.content
    return await request.aread()


def _request_bytes(request: httpx.Request, body: bytes) -> bytes:
    """Request line, headers and body as sent; a streamed body goes with its length instead of chunked.

    A header holding a line break (or a NUL) would split the request: the head is refused when it holds any
    other than the one ending each line, counted over the whole head at once rather than per header."""
    headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"transfer-encoding"]
    lines = [request.method.encode("ascii"), b" ", request.url.raw_path, b" HTTP/1.1\r\n"]
    for name, value in headers:
        lines += (name, b": ", value, b"\r\n")
    streamed = len(headers) != len(request.headers.raw)  # its body was read whole above
    if streamed:
        lines += (b"Content-Length: ", str(len(body)).encode("ascii"), b"\r\n")
    lines.append(b"\r\n")
    head = b"".join(lines)
    breaks = 1 + len(headers) + streamed + 1  # the request line's, one per header, the blank line's
    if head.count(b"\n") != breaks or head.count(b"\r") != breaks or b"\0" in head:
        raise httpx.LocalProtocolError("a header name or value holds a line break", request=request)
    return head + body


async def _read_answer(
    request: httpx.Request, reader: asyncio.StreamReader, timeout: float | None, *, stale: bool
) -> _Answer:
    """Read one response: informational ones skipped, then its head and all of its body."""
    with _mapped(request, httpx.ReadTimeout, httpx.ReadError):
        async with asyncio.timeout(timeout) as clock:
            while True:
                answer = await _read_head(request, reader, stale=stale)
                stale = False
                if not 100 <= answer.status < 200:
                    break
            await _read_body(request, reader, answer, clock, timeout)
    return answer


async def _read_head(request: httpx.Request, reader: asyncio.StreamReader, *, stale: bool) -> _Answer:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial and stale:
            raise _Stale from exc
        raise httpx.RemoteProtocolError(_NO_RESPONSE, request=request) from exc
    except ConnectionResetError as exc:
        if stale:
            raise _Stale from exc
        raise
    except asyncio.LimitOverrunError as exc:
        raise httpx.RemoteProtocolError("response head too long", request=request) from exc
    lines = head[:-4].split(b"\r\n")
    version, _, rest = lines[0].partition(b" ")
    code, _, reason = rest.partition(b" ")
    if not version.startswith(b"HTTP/1.") or not code.isdigit() or len(code) != 3:
        raise httpx.RemoteProtocolError("malformed status line", request=request)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise httpx.RemoteProtocolError("malformed response header", request=request)
        headers.append((name, value.strip()))
    return _Answer(int(code), reason, version, headers)


async def _read_body(
    request: httpx.Request,
    reader: asyncio.StreamReader,
    answer: _Answer,
    clock: asyncio.Timeout,
    timeout: float | None,
) -> None:
    """Read the answer's body into it and say whether the connection can carry another request."""
    length: int | None = None
    chunked = to_close = False
    close = answer.version != b"HTTP/1.1"
    for name, value in answer.headers:
        lower = name.lower()
        if lower == b"content-length":
            if not value.isdigit() or (length is not None and length != int(value)):
                raise httpx.RemoteProtocolError("malformed Content-Length", request=request)
            length = int(value)
        elif lower == b"transfer-encoding":
            # Transfer-Encoding overrides Content-Length; a body not chunked last runs to the close (RFC 9112 §6.3).
            chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
            to_close = not chunked
        elif lower == b"connection":
            close = close or b"close" in value.lower()
    if request.method == "HEAD" or answer.status in _NO_BODY:
        answer.reusable = not close
        return
    try:
        if chunked:
            answer.content = await _read_chunked(request, reader, clock, timeout)
        elif length is not None and not to_close:
            answer.content = await _read_length(reader, length, clock, timeout)
        else:
            answer.content = await _read_to_close(reader, clock, timeout)
            close = True
    except asyncio.IncompleteReadError as exc:
        raise httpx.RemoteProtocolError("server disconnected in the middle of the body", request=request) from exc
    except asyncio.LimitOverrunError as exc:
        raise httpx.RemoteProtocolError("chunk header too long", request=request) from exc
    answer.reusable = not close


async def _read_length(
    reader: asyncio.StreamReader, length: int, clock: asyncio.Timeout, timeout: float | None
) -> bytes:
    """A body of a known length: in one read when small, in `_READ_STEP`s when large (an export chunk on a slow
    link), the read timeout restarting after each."""
    if length <= _READ_STEP:
        return await reader.readexactly(length)
    parts: list[bytes] = []
    left = length
    while left:
        part = await reader.readexactly(min(left, _READ_STEP))
        parts.append(part)
        left -= len(part)
        _restart(clock, timeout)
    return b"".join(parts)


async def _read_chunked(
    request: httpx.Request, reader: asyncio.StreamReader, clock: asyncio.Timeout, timeout: float | None
) -> bytes:
    parts: list[bytes] = []
    while True:
        size_line = (await reader.readuntil(b"\r\n"))[:-2].split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise httpx.RemoteProtocolError("malformed chunk size", request=request) from None
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, not used
                pass
            return b"".join(parts)
        chunk = await reader.readexactly(size + 2)
        if chunk[-2:] != b"\r\n":
            raise httpx.RemoteProtocolError("malformed chunk", request=request)
        parts.append(chunk[:-2])
        _restart(clock, timeout)


async def _read_to_close(reader: asyncio.StreamReader, clock: asyncio.Timeout, timeout: float | None) -> bytes:
    parts: list[bytes] = []
    while part := await reader.read(_READ_STEP):
        parts.append(part)
        _restart(clock, timeout)
    return b"".join(parts)


def _restart(clock: asyncio.Timeout, timeout: float | None) -> None:
    """The read timeout is between received bytes, as httpx's: a long body that keeps coming is not cut."""
    if timeout is not None:
        clock.reschedule(asyncio.get_running_loop().time() + timeout)


@contextmanager
def _mapped(
    request: httpx.Request,
    on_timeout: type[httpx.TimeoutException],
    on_error: type[httpx.TransportError],
    *,
    stale: bool = False,
) -> Iterator[None]:
    """Raise asyncio's and the socket's failures as httpx's: a timeout as `on_timeout`, an OS error as
    `on_error` (or as `_Stale` on a reused connection the server had closed)."""
    try:
        yield
    except TimeoutError as exc:
        raise on_timeout(f"{on_timeout.__name__}", request=request) from exc
    except (ConnectionResetError, BrokenPipeError) as exc:
        if stale:
            raise _Stale from exc
        raise on_error(f"{type(exc).__name__}: {exc}", request=request) from exc
    except (OSError, ssl.SSLError) as exc:
        raise on_error(f"{type(exc).__name__}: {exc}", request=request) from exc
