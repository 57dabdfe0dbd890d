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


# --- the JSON on the wire ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b'{"id": 123456789012345678901234567890}', {"id": 123456789012345678901234567890}, id="big-int"),
        pytest.param(b"[0.1, 12.340, 1e400, -0]", [0.1, 12.34, float("inf"), 0], id="numbers"),
        pytest.param(b'\xef\xbb\xbf{"id": 7}', {"id": 7}, id="utf8-bom"),
        pytest.param('{"sku": "é"}'.encode("utf-16"), {"sku": "é"}, id="utf16"),
        pytest.param(b'{"sku": "\\ud800"}', {"sku": "\ud800"}, id="lone-surrogate"),
    ],
)
def test_decode_json_reads_what_the_standard_library_reads(content: bytes, expected: object) -> None:
    decoded = decode_json(httpx.Response(200, content=content), system="test", operation="get")

    assert decoded == expected
    assert [type(value) for value in (decoded.values() if isinstance(decoded, dict) else decoded)] == [
        type(value) for value in (expected.values() if isinstance(expected, dict) else expected)
    ]


def test_decode_json_reads_nan_as_a_float_and_refuses_what_is_not_json() -> None:
    (nan,) = decode_json(httpx.Response(200, content=b"[NaN]"), system="test", operation="get")

    assert nan != nan
    for content in (b'{"items": [{"id": 1', b'"\xff"', b"", b'{"a": 1} trailing'):
        with pytest.raises(MalformedResponseError, match="not valid JSON"):
            decode_json(httpx.Response(200, content=content), system="test", operation="get")


async def test_a_json_body_is_sent_compact_utf8_with_its_content_type() -> None:
    server = Script(httpx.Response(204))
    body = {"name": "Crème ☕", "price": 12.5, "big": 2**70, "tiny": 1e-7, "items": [True, None]}

    await transport(server, Recorder()).request_json("PUT", "/things/7", operation="put", json_body=body)

    sent = server.requests[0]
    assert sent.headers["content-type"] == "application/json"
    assert (
        sent.content
        == '{"name":"Crème ☕","price":12.5,"big":1180591620717411303424,"tiny":1e-7,"items":[true,null]}'.encode()
    )


async def test_a_json_body_keeps_the_callers_content_type_and_a_raw_body_wins() -> None:
    server = Script(httpx.Response(204), httpx.Response(204))
    api = transport(server, Recorder())

    await api.request("PUT", "/a", operation="put", json_body={"a": 1}, headers={"content-type": "application/merge"})
    await api.request("PUT", "/b", operation="put", json_body={"a": 1}, content=b"raw")

    assert server.requests[0].headers.get_list("content-type") == ["application/merge"]
    assert server.requests[1].content == b"raw"


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
async def test_a_json_body_with_a_non_finite_number_is_refused_before_it_is_sent(number: float) -> None:
    server = Script(httpx.Response(204))

    with pytest.raises(ValueError, match="not JSON compliant"):
        await transport(server, Recorder()).request_json("PUT", "/p", operation="put", json_body={"price": number})

    assert server.requests == []


async def test_a_json_body_whose_text_mentions_nan_is_sent_as_written() -> None:
    server = Script(httpx.Response(204))

    await transport(server, Recorder()).request_json(
        "PUT", "/p", operation="put", json_body={"note": "NaN or Infinity", "price": 1.0}
    )

    assert server.requests[0].content == b'{"note":"NaN or Infinity","price":1.0}'


# --- request URLs --------------------------------------------------------------------------------------------------


async def test_paths_are_joined_to_the_base_url_as_httpx_joins_them_with_their_params() -> None:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={})

    http = httpx.AsyncClient(base_url="https://api.test/stores/abc/", transport=httpx.MockTransport(record))
    api = ApiTransport(http, system="test", error_mapper=map_error, retry_policy=POLICY)
    calls = [
        ("v3/catalog/variants", {"page": 2}),
        ("v3/catalog/variants", {"page": 3}),
        ("/v2/orders?status_id=11", None),
        ("/v2/orders?status_id=11", {"limit": 50}),  # httpx: given params replace the path's query
        ("https://chunks.test/of54/1.json", None),
    ]
    for path, params in calls:
        await api.request_json("GET", path, operation="op", params=params)

    assert seen == [str(http.build_request("GET", path, params=params).url) for path, params in calls]
    assert seen[0] == "https://api.test/stores/abc/v3/catalog/variants?page=2"
    assert seen[2] == "https://api.test/stores/abc/v2/orders?status_id=11"
    assert len(api._urls) == 2  # each relative path is joined once; the absolute one is not kept
