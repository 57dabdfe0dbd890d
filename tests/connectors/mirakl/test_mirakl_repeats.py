"""Which Mirakl calls are sent again after which failures: unreadable answers are re-read, creations never doubled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.http import MalformedResponseError, RateLimitError, RetryPolicy, TransientApiError
from connectors.mirakl import LineCancelation, MiraklClient, RefundCreate, Tracking
from tests.connectors.mirakl.mirakl_fakes import load_fixture, order_create
from tests.support.doubles import RecordingSleep
from tests.support.doubles import ScriptedServer as Script

MakeClient = Callable[..., MiraklClient]
Call = Callable[[MiraklClient], Awaitable[Any]]


def truncated(text: str) -> httpx.Response:
    return httpx.Response(200, content=text.encode(), headers={"Content-Type": "application/json"})


# --- unreadable answers are fetched again ------------------------------------------------------------------------


async def test_a_truncated_get_answer_is_fetched_again_after_the_base_backoff(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    server = Script(
        truncated('{"carriers": [{"code": "UP'),
        httpx.Response(200, json={"carriers": [{"code": "UPS", "label": "UPS"}]}),
    )
    client = make_client(server)

    carriers = await client.list_carriers()

    assert [carrier.code for carrier in carriers] == ["UPS"]
    assert client.transport.calls["SH21"] == 2
    assert sleep.waits == [0.5]


async def test_a_truncated_offer_chunk_is_downloaded_again(make_client: MakeClient, sleep: RecordingSleep) -> None:
    offers = [{"offer_id": n, "prices": [{"origin_price": 1}]} for n in (1, 2)]
    server = Script(truncated('[{"offer_id": 1, "pri'), httpx.Response(200, json=offers))
    client = make_client(server)

    pages = [page async for page in client.iter_offer_export_chunk("/api/offers/export/async/file/x")]

    assert [[offer.offer_id for offer in page] for page in pages] == [[1, 2]]
    assert client.transport.calls["OF54"] == 2
    assert sleep.waits == [0.5]


async def test_a_page_missing_its_total_count_is_fetched_again_at_the_same_offset(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    orders = [{"order_id": "BC1001-A"}]
    server = Script(
        httpx.Response(200, json={"orders": orders}), httpx.Response(200, json={"orders": orders, "total_count": 1})
    )
    client = make_client(server)

    pages = [page async for page in client.iter_orders(commercial_ids=["BC1001"])]

    assert [[order.order_id for order in page] for page in pages] == [["BC1001-A"]]
    assert [request.url.params["offset"] for request in server.requests] == ["0", "0"]
    assert sleep.waits == [0.5]


# --- creations are never sent twice after a failure that may have taken effect -----------------------------------


def _create_order(client: MiraklClient) -> Awaitable[Any]:
    return client.create_order(order_create())


def _create_refunds(client: MiraklClient) -> Awaitable[Any]:
    refund = RefundCreate(
        order_line_id="BC1001-A-1", amount=Decimal("5.5"), shipping_amount=Decimal(0), reason_code="15"
    )
    return client.create_refunds([refund])


def _cancel_lines(client: MiraklClient) -> Awaitable[Any]:
    line = LineCancelation(
        order_line_id="BC1001-A-1", quantity=1, amount=Decimal("12.5"), shipping_amount=Decimal(0), reason_code="34"
    )
    return client.cancel_lines([line])


Answer = Callable[[], httpx.Response]
Failure = Callable[[], httpx.Response | Exception]

# operation, the call, a fresh success answer, what to read from the result, what it must be
CREATIONS = [
    pytest.param(
        "OR01",
        _create_order,
        lambda: httpx.Response(201, json=load_fixture("or01_created.json")),
        lambda created: [order.order_id for order in created.orders],
        ["BC1001-A"],
        id="OR01",
    ),
    pytest.param(
        "OR28",
        _create_refunds,
        lambda: httpx.Response(200, json={"refunds": [{"refund_id": "1101", "order_line_id": "BC1001-A-1"}]}),
        lambda created: [refund.refund_id for refund in created],
        ["1101"],
        id="OR28",
    ),
    pytest.param(
        "OR30",
        _cancel_lines,
        lambda: httpx.Response(200, json={"cancelations": [{"cancelation_id": "77", "order_line_id": "BC1001-A-1"}]}),
        lambda created: [item.cancelation_id for item in created],
        ["77"],
        id="OR30",
    ),
]

# a fresh failing answer, the error it must raise, the status that error carries
FAILURES = [
    pytest.param(lambda: httpx.Response(503, json={"message": "Unavailable"}), TransientApiError, 503, id="503"),
    pytest.param(lambda: httpx.Response(500, json={"message": "boom"}), TransientApiError, 500, id="500"),
    pytest.param(lambda: httpx.ReadTimeout("no answer"), TransientApiError, None, id="timeout"),
    pytest.param(lambda: truncated('{"orders": [{"order_id": "BC10'), MalformedResponseError, 200, id="truncated-200"),
]


@pytest.mark.parametrize(("operation", "call", "success", "summary", "expected"), CREATIONS)
@pytest.mark.parametrize(("failure", "error", "status"), FAILURES)
async def test_a_creation_is_sent_once_when_it_may_have_taken_effect(
    make_client: MakeClient,
    sleep: RecordingSleep,
    operation: str,
    call: Call,
    success: Answer,
    summary: Callable[[Any], Any],
    expected: Any,
    failure: Failure,
    error: type[Exception],
    status: int | None,
) -> None:
    server = Script(failure(), success())
    client = make_client(server)

    with pytest.raises(error) as caught:
        await call(client)

    assert isinstance(caught.value, TransientApiError)
    assert (caught.value.operation, caught.value.status) == (operation, status)
    assert len(server.requests) == 1
    assert client.transport.calls[operation] == 1
    assert sleep.waits == []


@pytest.mark.parametrize(("operation", "call", "success", "summary", "expected"), CREATIONS)
async def test_a_creation_refused_with_429_waits_the_retry_after_and_is_sent_again(
    make_client: MakeClient,
    sleep: RecordingSleep,
    operation: str,
    call: Call,
    success: Answer,
    summary: Callable[[Any], Any],
    expected: Any,
) -> None:
    limited = httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "3"})
    server = Script(limited, success())
    client = make_client(server)

    created = await call(client)

    assert summary(created) == expected
    assert client.transport.calls[operation] == 2
    assert server.requests[0].content == server.requests[1].content
    assert sleep.waits == [3.0]


async def test_a_creation_still_refused_with_429_gives_up_after_the_policy_attempts(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    limited = httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "2"})
    client = make_client(Script(limited), policy=RetryPolicy(max_attempts=3))

    with pytest.raises(RateLimitError) as caught:
        await client.create_order(order_create())

    assert caught.value.retry_after == 2.0
    assert client.transport.calls["OR01"] == 3
    assert sleep.waits == [2.0, 2.0]


async def test_a_state_change_is_sent_again_after_a_503(make_client: MakeClient, sleep: RecordingSleep) -> None:
    server = Script(httpx.Response(503, json={"message": "Service unavailable"}), httpx.Response(204))
    client = make_client(server)

    await client.set_tracking("BC1001-A", Tracking(carrier_code="UPS", tracking_number="1Z999"))

    assert [request.url.path for request in server.requests] == ["/api/orders/BC1001-A/tracking"] * 2
    assert client.transport.calls["OR23"] == 2
    assert sleep.waits == [0.5]
