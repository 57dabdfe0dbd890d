"""The connectors' transport writes each request to its socket in one piece and still speaks plain HTTP/1.1."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpcore
import httpx
import pytest

from connectors.bigcommerce.client import BigCommerceClient
from connectors.http.transport import FLUSH_BYTES, CoalescingBackend, network_transport
from connectors.mirakl.auth import ApiKeyAuth
from connectors.mirakl.client import MiraklClient


class RecordingStream(httpcore.AsyncNetworkStream):
    """A real socket stream that keeps every write it is asked for."""

    def __init__(self, stream: httpcore.AsyncNetworkStream, writes: list[bytes]) -> None:
        self._stream, self.writes = stream, writes

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.writes.append(buffer)
        await self._stream.write(buffer, timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class RecordingBackend(CoalescingBackend):
    """The connectors' backend, over sockets that keep every write they are asked for."""

    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        super().__init__(backend)
        self.writes: list[bytes] = []

    def wrap(self, stream: httpcore.AsyncNetworkStream) -> httpcore.AsyncNetworkStream:
        return super().wrap(RecordingStream(stream, self.writes))


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer each request on the connection with the size of the body it received."""
    while head := await reader.readuntil(b"\r\n\r\n"):
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")),
            0,
        )
        body = await reader.readexactly(length)
        answer = json.dumps({"received": len(body)}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(answer))
        writer.write(answer)
        await writer.drain()
        if reader.at_eof():
            break


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


def _recorded_transport() -> tuple[httpx.AsyncHTTPTransport, RecordingBackend]:
    transport = network_transport()
    recording = RecordingBackend(httpcore.AnyIOBackend())
    transport._pool._network_backend = recording
    return transport, recording


def test_the_network_transport_installs_the_coalescing_backend_in_httpx_pool() -> None:
    # Fails if an httpx or httpcore upgrade renames the pool or its backend attribute the transport replaces.
    assert isinstance(network_transport()._pool._network_backend, CoalescingBackend)


async def test_each_request_goes_to_the_socket_in_one_write_head_and_body_together(server_url: str) -> None:
    transport, recording = _recorded_transport()
    async with httpx.AsyncClient(base_url=server_url, transport=transport) as http:
        answers = [(await http.put("/v3/catalog/variants", json=[{"id": n, "price": 9.5}])).json() for n in range(3)]

    assert [answer["received"] for answer in answers] == [len(b'[{"id":0,"price":9.5}]')] * 3
    assert len(recording.writes) == 3  # one per request, on one kept-alive connection
    assert all(write.startswith(b"PUT /v3/catalog/variants") and write.endswith(b"9.5}]") for write in recording.writes)


async def test_a_body_beyond_the_flush_size_is_written_as_it_comes_and_arrives_whole(server_url: str) -> None:
    transport, recording = _recorded_transport()
    chunk = b"x" * (FLUSH_BYTES // 2 + 1)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield chunk

    async with httpx.AsyncClient(base_url=server_url, transport=transport) as http:
        answer = await http.post("/upload", content=body(), headers={"content-length": str(4 * len(chunk))})

    assert answer.json() == {"received": 4 * len(chunk)}
    assert len(recording.writes) > 1  # held only up to the flush size, not the whole upload


async def test_a_request_to_a_closed_port_fails_as_httpx_connect_error() -> None:
    async with httpx.AsyncClient(transport=network_transport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://127.0.0.1:9/")


def test_the_connectors_use_the_network_transport_unless_given_one() -> None:
    bigcommerce = BigCommerceClient.create("https://api.bigcommerce.com", "store", "token")
    mirakl = MiraklClient.create(
        "https://tenant.mirakl.net", front=ApiKeyAuth("front"), operator=ApiKeyAuth("operator")
    )
    injected = httpx.MockTransport(lambda request: httpx.Response(200))
    given = BigCommerceClient.create("https://api.bigcommerce.com", "store", "token", transport=injected)

    for client in (bigcommerce.http, mirakl._http):
        assert isinstance(client._transport._pool._network_backend, CoalescingBackend)
    assert given.http._transport is injected
