"""The connectors' network transport: httpx's own, with each request written to its socket in one piece.

httpcore writes an HTTP/1.1 request as two socket writes, its head then its body. Each write is a system call,
and on a virtual machine one that wakes the server's process costs far more than copying the bytes: a
million-offer first sync spent a quarter of its HTTP time in the request heads' sends (`benchmarks/README.md`,
fifth pass). Python's own `http.client` joins a short body to its head for the same reason. Here the pieces of
a request are held until the connection reads its answer (or until `FLUSH_BYTES` are held, so a large upload
still streams), then written together.

httpx takes no network backend, so the transport's connection pool gets one after it is built: the only
private name this module touches, and `tests/connectors/test_http_transport.py` fails if an httpx or httpcore
upgrade moves it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

__all__ = ["FLUSH_BYTES", "network_transport"]

# Bytes held before they are written anyway: a request's head and a batch call's body are far below it.
FLUSH_BYTES = 256 * 1024


def network_transport() -> httpx.AsyncHTTPTransport:
    """httpx's default transport (certificates, environment, limits as `httpx.AsyncClient` builds it), writing each
    request in one system call."""
    transport = httpx.AsyncHTTPTransport()
    pool = transport._pool
    pool._network_backend = CoalescingBackend(pool._network_backend)
    return transport


class CoalescingBackend(httpcore.AsyncNetworkBackend):
    """A network backend whose streams hold written bytes until the next read (`CoalescingStream`)."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return self.wrap(await self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return self.wrap(await self._backend.connect_unix_socket(path, timeout, socket_options))

    def wrap(self, stream: httpcore.AsyncNetworkStream) -> httpcore.AsyncNetworkStream:
        """The stream the connection uses over a newly connected socket's."""
        return CoalescingStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class CoalescingStream(httpcore.AsyncNetworkStream):
    """A stream that writes what it was given when it is next read, closed or handed to TLS, in one write.

    HTTP/1.1 reads a request's answer only after writing all of the request, so the head and body go out
    together. A write error surfaces at that read, as the `httpcore.WriteError` the write raised.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._timeout: float | None = None

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        self._held.append(buffer)
        self._held_bytes += len(buffer)
        self._timeout = timeout
        if self._held_bytes >= FLUSH_BYTES:
            await self._flush()

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush()
        return await self._stream.read(max_bytes, timeout)

    async def aclose(self) -> None:
        self._held.clear()
        self._held_bytes = 0
        await self._stream.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        await self._flush()
        return CoalescingStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)

    async def _flush(self) -> None:
        if not self._held:
            return
        data = self._held[0] if len(self._held) == 1 else b"".join(self._held)
        timeout = self._timeout
        self._held.clear()
        self._held_bytes = 0
        await self._stream.write(data, timeout)
