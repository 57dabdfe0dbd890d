"""The shared request path: `read` runs inside every attempt, and `repeatable=False` keeps unsafe writes single."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from connectors.http import (
    ApiError,
    ApiTransport,
    ConfigurationError,
    MalformedResponseError,
    PermanentApiError,
    RateLimitError,
    RetryPolicy,
    TransientApiError,
    UnreadableResponseError,
    decode_json,
    retry_after_seconds,
)
from tests.support.doubles import RecordingSleep as Recorder
from tests.support.doubles import ScriptedServer as Script

POLICY = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=4.0, jitter=0.25)


def map_error(response: httpx.Response, operation: str) -> ApiError:
    context = {"system": "test", "operation": operation, "status": response.status_code}
    if response.status_code == 429:
        return RateLimitError("slow down", retry_after=retry_after_seconds(response.headers), **context)
    if response.status_code >= 500:
        return TransientApiError("server error", **context)
    return PermanentApiError("refused", **context)


def transport(server: Script, sleep: Recorder) -> ApiTransport:
    http = httpx.AsyncClient(base_url="https://api.test", transport=httpx.MockTransport(server))
    return ApiTransport(http, system="test", error_mapper=map_error, retry_policy=POLICY, sleep=sleep, rand=lambda: 0.0)


def ids_reader(operation: str) -> Callable[[httpx.Response], list[int]]:
    def read(response: httpx.Response) -> list[int]:
        body = decode_json(response, system="test", operation=operation)
        return [item["id"] for item in body["items"]]

    return read


def garbled() -> httpx.Response:
    return httpx.Response(200, content=b'{"items": [{"id": 1', headers={"Content-Type": "application/json"})


# --- read ----------------------------------------------------------------------------------------------------------


async def test_without_read_the_response_itself_is_returned() -> None:
    api = transport(Script(httpx.Response(200, json={"items": []})), Recorder())

    response = await api.request("GET", "/things", operation="list")

    assert isinstance(response, httpx.Response)
    assert response.json() == {"items": []}


async def test_a_garbled_body_is_read_again_in_a_new_attempt_and_the_read_value_returned() -> None:
    server, sleep = Script(garbled(), httpx.Response(200, json={"items": [{"id": 1}, {"id": 2}]})), Recorder()
    api = transport(server, sleep)

    ids = await api.request("GET", "/things", operation="list", read=ids_reader("list"))

    assert ids == [1, 2]
    assert len(server.requests) == 2
    assert api.calls["list"] == 2
    assert sleep.waits == [0.5]


async def test_a_body_garbled_again_when_read_again_is_permanent_and_not_retried_further() -> None:
    server, sleep = Script(garbled()), Recorder()

    with pytest.raises(UnreadableResponseError, match="not valid JSON"):
        await transport(server, sleep).request("GET", "/things", operation="list", read=ids_reader("list"))

    assert len(server.requests) == 2
    assert sleep.waits == [0.5]


async def test_read_is_not_called_for_an_error_status_and_a_permanent_error_is_not_retried() -> None:
    server, sleep, read_calls = Script(httpx.Response(422, json={})), Recorder(), []

    def read(response: httpx.Response) -> None:
        read_calls.append(response)

    with pytest.raises(PermanentApiError) as caught:
        await transport(server, sleep).request("GET", "/things", operation="list", read=read)

    assert (caught.value.status, read_calls, len(server.requests), sleep.waits) == (422, [], 1, [])


async def test_a_bug_in_read_is_raised_as_is_and_never_retried() -> None:
    server, sleep = Script(httpx.Response(200, json={"items": [{"name": "no id"}]})), Recorder()

    with pytest.raises(KeyError, match="id"):
        await transport(server, sleep).request("GET", "/things", operation="list", read=ids_reader("list"))

    assert (len(server.requests), sleep.waits) == (1, [])


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param(httpx.Response(200, json={"id": 7}), {"id": 7}, id="json"),
        pytest.param(httpx.Response(204), None, id="204-no-content"),
    ],
)
async def test_request_json_decodes_the_body_and_reads_204_as_none(answer: httpx.Response, expected: object) -> None:
    server = Script(answer)

    body = await transport(server, Recorder()).request_json("PUT", "/things/7", operation="put", json_body={"a": 1})

    assert body == expected
    assert server.requests[0].content == b'{"a":1}'


async def test_request_json_retries_a_garbled_body() -> None:
    server, sleep = Script(garbled(), httpx.Response(200, json={"items": []})), Recorder()

    assert await transport(server, sleep).request_json("GET", "/things", operation="list") == {"items": []}
    assert (len(server.requests), sleep.waits) == (2, [0.5])


# --- repeatable ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "error", "status"),
    [
        pytest.param(httpx.Response(503), TransientApiError, 503, id="503"),
        pytest.param(httpx.ReadTimeout("no answer"), TransientApiError, None, id="read-timeout"),
        pytest.param(httpx.RemoteProtocolError("reset"), TransientApiError, None, id="reset"),
        pytest.param(garbled(), MalformedResponseError, 200, id="garbled-200"),
    ],
)
async def test_a_write_that_is_not_repeatable_fails_after_one_attempt_when_it_may_have_taken_effect(
    failure: httpx.Response | Exception, error: type[TransientApiError], status: int | None
) -> None:
    server, sleep = Script(failure, httpx.Response(201, json={"items": [{"id": 9}]})), Recorder()

    with pytest.raises(error) as caught:
        await transport(server, sleep).request(
            "POST", "/things", operation="create", json_body={"n": 1}, read=ids_reader("create"), repeatable=False
        )

    assert (caught.value.operation, caught.value.status) == ("create", status)
    assert (len(server.requests), sleep.waits) == (1, [])


async def test_the_same_failure_is_retried_when_the_write_is_repeatable() -> None:
    server, sleep = Script(httpx.Response(503), httpx.Response(201, json={"items": [{"id": 9}]})), Recorder()

    ids = await transport(server, sleep).request("POST", "/things", operation="create", read=ids_reader("create"))

    assert (ids, len(server.requests), sleep.waits) == ([9], 2, [0.5])


async def test_a_429_is_waited_out_and_repeated_even_when_the_write_is_not_repeatable() -> None:
    limited = httpx.Response(429, headers={"Retry-After": "3"})
    server, sleep = Script(limited, httpx.Response(201, json={"items": [{"id": 9}]})), Recorder()

    ids = await transport(server, sleep).request(
        "POST", "/things", operation="create", json_body={"n": 1}, read=ids_reader("create"), repeatable=False
    )

    assert ids == [9]
    assert [request.content for request in server.requests] == [b'{"n":1}', b'{"n":1}']
    assert sleep.waits == [3.0]


async def test_a_connection_never_opened_is_repeated_even_when_the_write_is_not_repeatable() -> None:
    server = Script(
        httpx.Response(200, json={"items": []}),
        httpx.ConnectError("connection refused"),
        httpx.Response(201, json={"items": [{"id": 9}]}),
    )
    sleep = Recorder()
    api = transport(server, sleep)
    await api.request("GET", "/things", operation="list")

    ids = await api.request("POST", "/things", operation="create", read=ids_reader("create"), repeatable=False)

    assert (ids, api.calls["create"], sleep.waits) == ([9], 2, [0.5])


async def test_the_first_connection_failing_is_a_configuration_error_even_for_a_write() -> None:
    server, sleep = Script(httpx.ConnectError("name resolution failed")), Recorder()

    with pytest.raises(ConfigurationError, match="check the base URL"):
        await transport(server, sleep).request("POST", "/things", operation="create", repeatable=False)

    assert (len(server.requests), sleep.waits) == (1, [])
