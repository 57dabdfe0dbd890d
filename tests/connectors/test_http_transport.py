"""The connectors' HTTP/1.1 transport speaks plain HTTP/1.1 to a real socket: one write per request, kept-alive
connections, every body framing, httpx's errors and timeouts, and no cookies kept."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.bigcommerce.client import BigCommerceClient
from connectors.http.transport import Http11Transport, api_http_client, network_transport
from connectors.mirakl.auth import ApiKeyAuth
from connectors.mirakl.client import MiraklClient

Answer = Callable[[bytes, bytes], bytes]  # (request head, request body) -> raw response bytes


@dataclass
class Server:
    """A raw socket server: records what it reads (each socket read, each request) and answers as told."""

    answer: Answer
    url: str = ""
    reads: list[bytes] = field(default_factory=list)
    requests: list[tuple[bytes, bytes]] = field(default_factory=list)
    connections: int = 0
    close_after_each: bool = False
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                self.requests.append((head, body))
                writer.write(self.answer(head, body))
                await writer.drain()
                if self.close_after_each:
                    break
        except (asyncio.IncompleteReadError, ConnectionResetError):
            pass
        finally:
            writer.close()


def json_answer(status: int = 200, extra: bytes = b"") -> Answer:
    def answer(head: bytes, body: bytes) -> bytes:
        payload = json.dumps({"received": len(body), "path": head.split(b" ")[1].decode()}).encode()
        return b"HTTP/1.1 %d OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n%s\r\n%s" % (
            status,
            len(payload),
            extra,
            payload,
        )

    return answer


async def _listen(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    tls: ssl.SSLContext | None = None,
) -> tuple[asyncio.Server, str]:
    """A server on a free local port running `handler` per connection, and its base URL."""
    listening = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    scheme = "https" if tls else "http"
    return listening, f"{scheme}://127.0.0.1:{listening.sockets[0].getsockname()[1]}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Server], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(server: Server) -> Server:
        listening, server.url = await _listen(server.serve)
        servers.append(listening)
        return server

    yield start
    for listening in servers:
        listening.close()


async def test_requests_go_out_whole_on_one_kept_alive_connection(serve: Callable[[Server], Awaitable[Server]]) -> None:
    server = await serve(Server(json_answer()))
    async with httpx.AsyncClient(base_url=server.url, transport=Http11Transport()) as http:
        answers = [(await http.put("/v3/catalog/variants?x=1", json=[{"id": n}])).json() for n in range(3)]

    assert [answer["received"] for answer in answers] == [len(b'[{"id":0}]')] * 3
    assert answers[0]["path"] == "/v3/catalog/variants?x=1"
    assert server.connections == 1
    head = server.requests[0][0]
    assert head.startswith(b"PUT /v3/catalog/variants?x=1 HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in head and b"\r\nContent-Length: 10\r\n" in head


async def test_head_and_body_reach_the_socket_in_one_write(serve: Callable[[Server], Awaitable[Server]]) -> None:
    writes: list[bytes] = []
    server = await serve(Server(json_answer()))
    transport = Http11Transport()
    async with httpx.AsyncClient(base_url=server.url, transport=transport) as http:
        await http.get("/warm")
        connection = transport._idle[(b"http", b"127.0.0.1", int(server.url.rsplit(":", 1)[1]))][0]
        original = connection.writer.write
        connection.writer.write = lambda data: (writes.append(data), original(data))  # type: ignore[method-assign]
        await http.put("/v3/catalog/variants", json=[{"id": 1, "price": 9.5}])

    assert len(writes) == 1
    assert writes[0].startswith(b"PUT /v3/catalog/variants") and writes[0].endswith(b'[{"id":1,"price":9.5}]')


async def test_a_streamed_body_is_sent_with_its_length(serve: Callable[[Server], Awaitable[Server]]) -> None:
    server = await serve(Server(json_answer()))

    async def body() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"x" * 1000

    async with httpx.AsyncClient(base_url=server.url, transport=Http11Transport()) as http:
        answer = await http.post("/upload", content=body())

    assert answer.json()["received"] == 3000
    head = server.requests[0][0].lower()
    assert b"content-length: 3000" in head and b"transfer-encoding" not in head


async def test_a_chunked_gzipped_answer_is_read_whole_and_decoded(serve: Callable[[Server], Awaitable[Server]]) -> None:
    document = json.dumps({"offers": list(range(2000))}).encode()
    packed = gzip.compress(document)

    def chunked(head: bytes, body: bytes) -> bytes:
        pieces = [packed[at : at + 700] for at in range(0, len(packed), 700)]
        framed = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
        return (
            b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n"
            + framed
            + b"0\r\nx-trailer: 1\r\n\r\n"
        )

    server = await serve(Server(chunked))
    async with httpx.AsyncClient(base_url=server.url, transport=Http11Transport()) as http:
        first = await http.get("/export")
        second = await http.get("/export")

    assert first.json() == second.json() == {"offers": list(range(2000))}
    assert server.connections == 1  # the chunked answer ended cleanly: the connection was kept


async def test_an_answer_without_length_runs_to_the_close(serve: Callable[[Server], Awaitable[Server]]) -> None:
    server = await serve(Server(lambda head, body: b"HTTP/1.1 200 OK\r\n\r\nall of it", close_after_each=True))
    async with httpx.AsyncClient(base_url=server.url, transport=Http11Transport()) as http:
        answers = [(await http.get("/a")).text for _ in range(2)]

    assert answers == ["all of it", "all of it"]
    assert server.connections == 2  # never reused: the body's end was the connection's


async def test_no_body_is_read_for_head_204_and_304_and_the_connection_is_kept(
    serve: Callable[[Server], Awaitable[Server]],
) -> None:
    def answer(head: bytes, body: bytes) -> bytes:
        status = 204 if b"/deleted" in head else 304 if b"/same" in head else 200
        with_body = status == 200 and not head.startswith(b"HEAD")
        return b"HTTP/1.1 %d X\r\ncontent-length: 5\r\n\r\n" % status + (b"hello" if with_body else b"")

    server = await serve(Server(answer))
    async with httpx.AsyncClient(base_url=server.url, transport=Http11Transport()) as http:
        statuses = [(await http.head("/x")).status_code, (await http.delete("/deleted")).status_code]
        statuses.append((await http.get("/same")).status_code)
        assert (await http.get("/x")).text == "hello"

    assert statuses == [200, 204, 304]
    assert server.connections == 1


async def test_an_informational_answer_is_skipped(serve: Callable[[Server], Awaitable[Server]]) -> None:
    server = await serve(
        Server(lambda head, body: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok")
    )
    async with httpx.AsyncClient(base_url=server.url, transport=Http11Transport()) as http:
        answer = await http.post("/things", json={})

    assert (answer.status_code, answer.text, answer.reason_phrase) == (201, "ok", "Created")


async def test_an_idle_connection_the_server_closed_is_replaced_for_a_put_but_not_for_a_post(
    serve: Callable[[Server], Awaitable[Server]],
) -> None:
    server = await serve(Server(json_answer()))
    transport = Http11Transport()
    async with httpx.AsyncClient(base_url=server.url, transport=transport) as http:
        await http.get("/warm")
        await _close_while_reused(server, transport)
        put = await http.put("/again", json=[1])
        assert put.status_code == 200
        await http.get("/warm-again")
        await _close_while_reused(server, transport)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await http.post("/create", json=[1])

    assert [head.split(b" ")[1] for head, _ in server.requests] == [b"/warm", b"/again", b"/warm-again"]


async def _close_while_reused(server: Server, transport: Http11Transport) -> None:
    """The server's keep-alive timer fires as a connection is reused: the client still takes it for open."""
    for writer in server.writers:
        writer.close()
    await asyncio.sleep(0.05)
    for connections in transport._idle.values():
        for connection in connections:
            connection.reader.at_eof = lambda: False  # type: ignore[method-assign]
            connection.writer.is_closing = lambda: False  # type: ignore[method-assign]


async def test_an_idle_connection_past_its_expiry_is_not_reused(serve: Callable[[Server], Awaitable[Server]]) -> None:
    server = await serve(Server(json_answer()))
    async with httpx.AsyncClient(base_url=server.url, transport=Http11Transport(keepalive_expiry=0.0)) as http:
        await http.get("/a")
        await http.get("/b")

    assert server.connections == 2


async def test_a_silent_server_times_out_as_httpx_read_timeout(serve: Callable[[Server], Awaitable[Server]]) -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        await asyncio.sleep(5)

    listening, url = await _listen(never)
    async with listening, httpx.AsyncClient(transport=Http11Transport(), timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(url)


async def test_a_cut_body_and_a_garbled_status_fail_as_httpx_protocol_errors(
    serve: Callable[[Server], Awaitable[Server]],
) -> None:
    cut = await serve(
        Server(lambda head, body: b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort", close_after_each=True)
    )
    garbled = await serve(Server(lambda head, body: b"SPDY/3 what\r\n\r\n"))
    async with httpx.AsyncClient(transport=Http11Transport()) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="middle of the body"):
            await http.get(cut.url)
        with pytest.raises(httpx.RemoteProtocolError, match="status line"):
            await http.get(garbled.url)


async def test_a_header_with_a_line_break_is_refused_before_sending(
    serve: Callable[[Server], Awaitable[Server]],
) -> None:
    server = await serve(Server(json_answer()))
    async with httpx.AsyncClient(transport=Http11Transport()) as http:
        request = http.build_request("GET", server.url)
        request.headers["x-note"] = "a\r\nx-injected: 1"
        with pytest.raises(httpx.LocalProtocolError):
            await http.send(request)

    assert server.requests == []


async def test_a_request_to_a_closed_port_fails_as_httpx_connect_error() -> None:
    async with httpx.AsyncClient(transport=Http11Transport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("http://127.0.0.1:9/")


async def test_callers_beyond_the_connection_limit_wait_and_time_out_as_pool_timeout(
    serve: Callable[[Server], Awaitable[Server]],
) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.5)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    listening, url = await _listen(slow)
    timeout = httpx.Timeout(5.0, pool=0.1)
    async with listening, httpx.AsyncClient(transport=Http11Transport(max_connections=1), timeout=timeout) as http:
        first = asyncio.create_task(http.get(url))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await http.get(url)
        assert (await first).status_code == 200


async def test_the_api_clients_keep_and_send_no_cookies(serve: Callable[[Server], Awaitable[Server]]) -> None:
    server = await serve(Server(json_answer(extra=b"set-cookie: session=abc; Path=/\r\n")))
    async with api_http_client(base_url=server.url, transport=Http11Transport()) as http:
        await http.get("/a")
        await http.get("/b")

    assert all(b"cookie" not in head.lower() for head, _ in server.requests)
    with pytest.raises(TypeError):
        http.cookies = {"a": "b"}


def test_the_connectors_use_the_network_transport_unless_given_one(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    bigcommerce = BigCommerceClient.create("https://api.bigcommerce.com", "store", "token")
    mirakl = MiraklClient.create(
        "https://tenant.mirakl.net", front=ApiKeyAuth("front"), operator=ApiKeyAuth("operator")
    )
    injected = httpx.MockTransport(lambda request: httpx.Response(200))
    given = BigCommerceClient.create("https://api.bigcommerce.com", "store", "token", transport=injected)

    for client in (bigcommerce.http, mirakl._http):
        assert isinstance(client._transport, Http11Transport)
    assert given.http._transport is injected
    monkeypatch.setenv("BCMIRAKL_HTTP_TRANSPORT", "httpx")
    assert type(network_transport()) is httpx.AsyncHTTPTransport


def test_with_a_proxy_in_the_environment_the_clients_go_through_httpx_and_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    client = BigCommerceClient.create("https://api.bigcommerce.com", "store", "token")

    assert type(client.http._transport) is httpx.AsyncHTTPTransport
    proxied = client.http._transport_for_url(httpx.URL("https://api.bigcommerce.com/stores/x"))
    assert proxied is not client.http._transport  # the proxy's mount


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context trusting only that certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


async def test_https_is_spoken_over_tls_with_the_certificate_checked(tmp_path: Path) -> None:
    server_context, trusting = _self_signed(tmp_path)
    served = Server(json_answer())
    listening, url = await _listen(served.serve, server_context)
    async with listening:
        async with httpx.AsyncClient(base_url=url, transport=Http11Transport(ssl_context=trusting)) as http:
            answers = [(await http.put("/v3/catalog/variants", json=[n])).json() for n in range(2)]
        async with httpx.AsyncClient(base_url=url, transport=Http11Transport()) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get("/")  # the system's trust store does not know the test's certificate

    assert [answer["received"] for answer in answers] == [3, 3]
    assert served.connections == 1  # kept alive over TLS


async def test_a_large_body_that_keeps_coming_is_not_cut_by_the_read_timeout() -> None:
    body = b"x" * (3 * 1024 * 1024 + 5)

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body))
        for at in range(0, len(body), 1024 * 1024):
            writer.write(body[at : at + 1024 * 1024])
            await writer.drain()
            await asyncio.sleep(0.15)
        writer.close()

    listening, url = await _listen(trickle)
    # 0.6 s in all, never 0.4 s without a byte: the timeout is between bytes, as httpx's.
    async with listening, httpx.AsyncClient(transport=Http11Transport(), timeout=0.4) as http:
        answer = await http.get(url)

    assert len(answer.content) == len(body)
