"""MiraklClient against a fake Mirakl (httpx.MockTransport): paths, bodies, paging, faults and retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from connectors.http import (
    ConfigurationError,
    ConflictError,
    PermanentApiError,
    RetryPolicy,
    TransientApiError,
    UnreadableResponseError,
)
from connectors.mirakl import (
    ApiKeyAuth,
    DebitConfirmation,
    MiraklClient,
    PaginationLoopError,
    RefundConfirmation,
    RefundCreate,
    Tracking,
)
from connectors.mirakl.roles import ROLE_HEADER
from tests.connectors.mirakl.mirakl_fakes import API_KEY, OPERATOR_KEY, load_fixture, order_create
from tests.support.doubles import RecordingSleep

Handler = Callable[[httpx.Request], httpx.Response]
MakeClient = Callable[..., MiraklClient]

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def _query(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.url.query.decode())


# --- transport, auth, faults -------------------------------------------------------------------------------------


async def test_base_url_with_path_prefix_keeps_the_prefix_and_sends_the_raw_api_key(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"carriers": [{"code": "UPS", "label": "UPS"}]})

    client = make_client(handler, base_url="http://sandbox/mirakl")
    carriers = await client.list_carriers()

    assert [carrier.code for carrier in carriers] == ["UPS"]
    assert seen[0].url.path == "/mirakl/api/shipping/carriers"
    assert seen[0].headers["Authorization"] == API_KEY


async def test_429_with_retry_after_waits_exactly_that_long_then_succeeds(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    answers = iter(
        [
            httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "3"}),
            httpx.Response(200, json={"reasons": [], "total_count": 0}),
        ]
    )
    client = make_client(lambda request: next(answers))

    assert await client.list_reasons() == []
    assert sleep.waits == [3.0]
    assert client.transport.calls["RE01"] == 2


async def test_500_then_200_is_retried_once_after_the_base_backoff(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    answers = iter([httpx.Response(500, json={"message": "boom"}), httpx.Response(200, json={"carriers": []})])
    client = make_client(lambda request: next(answers))

    assert await client.list_carriers() == []
    assert sleep.waits == [0.5]
    assert client.transport.calls["SH21"] == 2


async def test_timeouts_are_retried_until_attempts_run_out(make_client: MakeClient, sleep: RecordingSleep) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = make_client(handler, policy=RetryPolicy(max_attempts=3, base_delay=1.0))

    with pytest.raises(TransientApiError, match="timed out"):
        await client.list_carriers()
    assert client.transport.calls["SH21"] == 3
    assert sleep.waits == [1.0, 2.0]


async def test_malformed_json_is_read_again_once_then_raised_as_permanent_when_it_repeats(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    client = make_client(
        lambda request: httpx.Response(200, text='{"carriers": [', headers={"Content-Type": "x"}),
        policy=RetryPolicy(max_attempts=3, base_delay=1.0),
    )

    with pytest.raises(UnreadableResponseError, match="not valid JSON") as caught:
        await client.list_carriers()
    assert isinstance(caught.value, PermanentApiError) and not isinstance(caught.value, TransientApiError)
    assert client.transport.calls["SH21"] == 2
    assert sleep.waits == [1.0]


async def test_400_is_permanent_after_exactly_one_call(make_client: MakeClient, sleep: RecordingSleep) -> None:
    client = make_client(lambda request: httpx.Response(400, json={"message": "Bad field", "status": 400}))

    with pytest.raises(PermanentApiError, match="Bad field") as caught:
        await client.accept_order("BC1001-A", {"BC1001-A-1": True})
    assert type(caught.value) is PermanentApiError
    assert client.transport.calls["OR21"] == 1
    assert sleep.waits == []


def test_create_requires_a_base_url() -> None:
    with pytest.raises(ConfigurationError):
        MiraklClient.create("", front=ApiKeyAuth("k"), operator=ApiKeyAuth("o"))


async def test_each_operation_goes_with_its_roles_credential_and_the_role_marker_never_leaves(
    make_client: MakeClient,
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/orders/refund":
            return httpx.Response(200, json={"refunds": []})
        return httpx.Response(200, json={"carriers": []})

    client = make_client(handler)
    await client.list_carriers()
    await client.create_refunds([])

    assert [request.headers["Authorization"] for request in seen] == [API_KEY, OPERATOR_KEY]
    assert all(ROLE_HEADER not in request.headers for request in seen)


# --- orders ------------------------------------------------------------------------------------------------------


async def test_iter_orders_splits_more_than_100_ids_into_two_calls(make_client: MakeClient) -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = _query(request)
        seen.append(query)
        ids = query["commercial_ids"][0].split(",")
        orders = [{"order_id": f"{cid}-A", "commercial_id": cid} for cid in ids]
        return httpx.Response(200, json={"orders": orders, "total_count": len(orders)})

    client = make_client(handler)
    ids = [f"BC{n}" for n in range(150)]
    pages = [page async for page in client.iter_orders(commercial_ids=ids, order_state_codes=["SHIPPING", "SHIPPED"])]

    assert [len(query["commercial_ids"][0].split(",")) for query in seen] == [100, 50]
    assert all(query["order_state_codes"] == ["SHIPPING,SHIPPED"] for query in seen)
    assert all(query["max"] == ["100"] and query["offset"] == ["0"] for query in seen)
    assert [order.commercial_id for page in pages for order in page] == ids


async def test_iter_orders_pages_by_offset_until_total_count(make_client: MakeClient) -> None:
    offsets: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(_query(request)["offset"][0])
        offsets.append(str(offset))
        count = min(100, 230 - offset)
        orders = [{"order_id": f"O{offset + n}"} for n in range(count)]
        return httpx.Response(200, json={"orders": orders, "total_count": 230})

    client = make_client(handler)
    start = datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    pages = [page async for page in client.iter_orders(start_update_date=start)]

    assert [len(page) for page in pages] == [100, 100, 30]
    assert offsets == ["0", "100", "200"]


async def test_or11_fixture_parses_with_unknown_fields_and_enum_values_kept(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=load_fixture("or11_orders_page.json"))

    client = make_client(handler)
    start = datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    [page] = [page async for page in client.iter_orders(start_update_date=start)]

    first, second = page
    assert _query(seen[0])["start_update_date"] == ["2026-11-02T11:00:00Z"]
    assert first.total_price == Decimal("29.99")
    assert first.order_lines[0].taxes[0].amount == Decimal("2.06")
    assert first.last_updated_date == datetime(2026, 11, 2, 10, 16, 30, 269000, tzinfo=UTC)
    assert first.model_extra == {"can_evaluate": False, "can_shop_ship": True, "some_future_field": {"new": True}}
    assert "c1@example.invalid" not in repr(first)
    assert second.order_lines[0].order_line_state == "BRAND_NEW_STATE"
    assert second.order_lines[0].refunds[0].refund_state == "WAITING_REFUND_PAYMENT"


async def test_create_order_sends_money_as_json_numbers_and_reads_not_shippable_offers(
    make_client: MakeClient,
) -> None:
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        assert (request.method, request.url.path) == ("POST", "/api/orders")
        assert request.headers["Content-Type"] == "application/json"
        return httpx.Response(200, json=load_fixture("or01_created.json"))

    client = make_client(handler)
    created = await client.create_order(order_create())

    text = bodies[0].decode()
    assert '"offer_price":12.50' in text
    assert '"price":25.00' in text
    assert '"shipping_price":4.99' in text
    assert '"amount":2.0625' in text
    assert '"scored":true' in text
    assert '"payment_workflow":"PAY_ON_ACCEPTANCE"' in text
    assert json.loads(text)["offers"][0]["offer_id"] == 3001
    assert [order.order_id for order in created.orders] == ["BC1001-A"]
    assert [(item.offer_id, item.error_code) for item in created.offers_not_shippable] == [
        (3009, "SHIPPING_TYPE_NOT_FOUND")
    ]


async def test_ship_order_is_a_bodyless_put_with_content_length_zero(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = make_client(handler)
    await client.ship_order("BC1001-A")
    await client.cancel_order("BC1001-B")
    await client.validate_order("BC1002")
    await client.invalidate_order("BC1003")

    assert [(r.method, r.url.path) for r in seen] == [
        ("PUT", "/api/orders/BC1001-A/ship"),
        ("PUT", "/api/orders/BC1001-B/cancel"),
        ("PUT", "/api/orders/valid/BC1002"),
        ("PUT", "/api/orders/invalid/BC1003"),
    ]
    assert all(r.headers["Content-Length"] == "0" and r.content == b"" for r in seen)


async def test_ship_order_already_shipped_raises_conflict_after_one_call(make_client: MakeClient) -> None:
    body = {"message": "Unable to ship order BC1001-A. Current status is SHIPPED", "status": 400}
    client = make_client(lambda request: httpx.Response(400, json=body))

    with pytest.raises(ConflictError, match="Current status is SHIPPED"):
        await client.ship_order("BC1001-A")
    assert client.transport.calls["OR24"] == 1


async def test_accept_order_and_tracking_bodies(make_client: MakeClient) -> None:
    bodies: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        bodies[request.url.path] = json.loads(request.content)
        return httpx.Response(204)

    client = make_client(handler)
    await client.accept_order("BC1001-A", {"BC1001-A-1": True, "BC1001-A-2": False})
    await client.set_tracking("BC1001-A", Tracking.registered("UPS", "1Z999"))
    await client.set_tracking("BC1001-B", Tracking.unregistered("Local Courier", "LC-1", "https://lc.example/t/LC-1"))

    assert bodies["/api/orders/BC1001-A/accept"] == {
        "order_lines": [{"id": "BC1001-A-1", "accepted": True}, {"id": "BC1001-A-2", "accepted": False}]
    }
    assert bodies["/api/orders/BC1001-A/tracking"] == {"carrier_code": "UPS", "tracking_number": "1Z999"}
    assert bodies["/api/orders/BC1001-B/tracking"] == {
        "carrier_name": "Local Courier",
        "carrier_url": "https://lc.example/t/LC-1",
        "tracking_number": "LC-1",
    }


def test_tracking_refuses_ambiguous_carriers() -> None:
    with pytest.raises(ValueError, match="either carrier_code"):
        Tracking(tracking_number="1")
    with pytest.raises(ValueError, match="either carrier_code"):
        Tracking(carrier_code="UPS", carrier_name="UPS")
    with pytest.raises(ValueError, match="carrier_url"):
        Tracking(carrier_code="UPS", carrier_url="https://x")


async def test_create_refunds_sends_or28_and_returns_refund_ids(make_client: MakeClient) -> None:
    bodies: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content.decode())
        assert (request.method, request.url.path) == ("PUT", "/api/orders/refund")
        return httpx.Response(
            200,
            json={
                "order_tax_mode": "TAX_EXCLUDED",
                "refunds": [
                    {
                        "refund_id": "1101",
                        "order_refund_id": "G-1",
                        "order_line_id": "BC1001-A-1",
                        "amount": 5.5,
                        "shipping_amount": 0,
                        "quantity": 1,
                        "reason_code": "15",
                    }
                ],
            },
        )

    client = make_client(handler)
    refund = RefundCreate(
        order_line_id="BC1001-A-1", amount=Decimal("5.50"), shipping_amount=Decimal("0.00"), reason_code="15"
    )
    created = await client.create_refunds([refund], order_tax_mode="TAX_EXCLUDED")

    assert bodies[0] == (
        '{"refunds":[{"order_line_id":"BC1001-A-1","amount":5.50,"shipping_amount":0.00,"reason_code":"15"}],'
        '"order_tax_mode":"TAX_EXCLUDED"}'
    )
    assert [(r.refund_id, r.amount) for r in created] == [("1101", Decimal("5.5"))]


# --- payments ----------------------------------------------------------------------------------------------------


async def test_pending_debits_unwrap_the_xml_shaped_json(make_client: MakeClient) -> None:
    client = make_client(lambda request: httpx.Response(200, json=load_fixture("pa11_debits.json")))

    [page] = [page async for page in client.iter_pending_debits()]

    assert [(d.order_id, d.amount) for d in page] == [("BC1001-A", Decimal("29.99")), ("BC1002-A", Decimal("10.0"))]
    assert [line.order_line_id for line in page[1].order_lines] == ["BC1002-A-1"]
    assert page[0].order_lines[0].order_line_amount == Decimal("29.99")
    assert page[0].debit_entity is not None and page[0].debit_entity.type == "ORDER"


async def test_confirm_debits_sends_pa01_with_decimal_amounts_and_utc_dates(make_client: MakeClient) -> None:
    bodies: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content.decode())
        assert (request.method, request.url.path) == ("PUT", "/api/payment/debit")
        return httpx.Response(204)

    client = make_client(handler)
    paid_at = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    await client.confirm_debits(
        [
            DebitConfirmation(
                order_id="BC1001-A",
                customer_id="C-1",
                payment_status="OK",
                amount=Decimal("30.00"),
                currency_iso_code="USD",
                transaction_number="TX-1",
                transaction_date=paid_at,
            ),
            DebitConfirmation(order_id="BC1002-A", customer_id="C-2", payment_status="REFUSED"),
        ]
    )

    assert bodies[0] == (
        '{"orders":[{"order_id":"BC1001-A","customer_id":"C-1","payment_status":"OK","amount":30.00,'
        '"currency_iso_code":"USD","transaction_number":"TX-1","transaction_date":"2026-11-02T12:00:00Z"},'
        '{"order_id":"BC1002-A","customer_id":"C-2","payment_status":"REFUSED"}]}'
    )


def test_debit_confirmation_ok_requires_an_amount() -> None:
    with pytest.raises(ValueError, match="amount is required"):
        DebitConfirmation(order_id="O", customer_id="C", payment_status="OK")


async def test_pending_refunds_list_refunds_per_line_and_pa02_confirms_them(make_client: MakeClient) -> None:
    bodies: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=load_fixture("pa12_refunds.json"))
        bodies.append(json.loads(request.content))
        return httpx.Response(204)

    client = make_client(handler)
    [page] = [page async for page in client.iter_pending_refunds()]
    refunds = [refund for line in page[0].order_lines for refund in line.refunds]
    await client.confirm_refunds(
        [RefundConfirmation(refund_id=r.id, payment_status="OK", amount=r.amount) for r in refunds]
    )

    assert [(r.id, r.amount) for r in refunds] == [("R-1", Decimal("5.0")), ("R-2", Decimal("2.5"))]
    assert bodies == [
        {
            "refunds": [
                {"refund_id": "R-1", "payment_status": "OK", "amount": 5.0},
                {"refund_id": "R-2", "payment_status": "OK", "amount": 2.5},
            ]
        }
    ]


# --- offers ------------------------------------------------------------------------------------------------------


async def test_export_offers_polls_with_doubling_delay_then_downloads_every_chunk(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    statuses = iter(["PENDING", "PENDING", "COMPLETED"])
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/offers/export/async":
            return httpx.Response(200, json={"tracking_id": "trk-1"})
        if request.url.path == "/api/offers/export/async/status/trk-1":
            status = next(statuses)
            urls = [f"https://acme.mirakl.net/api/offers/export/async/file/trk-1/{n}" for n in (1, 2)]
            return httpx.Response(200, json={"status": status, "urls": urls if status == "COMPLETED" else []})
        chunk = load_fixture("of54_chunk.json")
        return httpx.Response(200, json=chunk[:2] if request.url.path.endswith("/1") else chunk[2:])

    client = make_client(handler, clock=lambda: NOW)
    since = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    pages = [page async for page in client.export_offers(since, poll_interval=10.0)]

    assert json.loads(seen[0].content) == {
        "export_type": "application/json",
        "last_request_date": "2026-11-01T08:00:00Z",
    }
    assert sleep.waits == [10.0, 20.0]
    assert [[offer.offer_id for offer in page] for page in pages] == [[3001, 3002], [3003]]
    assert all(request.headers["Authorization"] == API_KEY for request in seen)
    assert dict(client.transport.calls) == {"OF52": 1, "OF53": 3, "OF54": 2}


async def test_failed_offer_export_raises_transient_error(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"tracking_id": "trk-2"})
        return httpx.Response(200, json={"status": "FAILED", "error": {"code": "E1", "detail": "disk full"}})

    client = make_client(handler)

    with pytest.raises(TransientApiError, match="disk full"):
        async for _ in client.export_offers(None):
            pass


async def test_offer_export_still_pending_gives_up_after_max_polls(
    make_client: MakeClient, sleep: RecordingSleep
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"tracking_id": "trk-3"})
        return httpx.Response(200, json={"status": "PENDING"})

    client = make_client(handler)

    with pytest.raises(TransientApiError, match="still pending after 3 polls"):
        async for _ in client.export_offers(None, poll_interval=100.0, max_polls=3):
            pass
    assert sleep.waits == [100.0, 200.0]


async def test_offer_chunk_on_another_host_is_refused_without_sending_credentials(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []
    client = make_client(lambda request: seen.append(request) or httpx.Response(200, json=[]), chunk_hosts=["cdn.acme"])

    for url in ("https://evil.example/chunk/1", "https://cdn.acme.evil.example/chunk/1", "http://cdn.acme/chunk/1"):
        with pytest.raises(PermanentApiError, match="refusing to send credentials"):
            async for _ in client.iter_offer_export_chunk(url):
                pass
    assert seen == []


async def test_offer_chunk_on_a_listed_host_is_downloaded_with_the_front_key(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []
    chunk = load_fixture("of54_chunk.json")
    client = make_client(
        lambda request: seen.append(request) or httpx.Response(200, json=chunk),
        chunk_hosts=["CDN.acme-exports.example"],
        clock=lambda: NOW,
    )

    pages = [page async for page in client.iter_offer_export_chunk("https://cdn.acme-exports.example/trk/0")]

    assert sum(len(page) for page in pages) == len(chunk)
    assert [(request.url.host, request.headers["Authorization"]) for request in seen] == [
        ("cdn.acme-exports.example", API_KEY)
    ]


async def test_of54_price_is_the_default_price_discounted_only_inside_its_window(make_client: MakeClient) -> None:
    chunk = load_fixture("of54_chunk.json")
    inside = make_client(lambda request: httpx.Response(200, json=chunk), clock=lambda: NOW)
    after = make_client(
        lambda request: httpx.Response(200, json=chunk), clock=lambda: datetime(2026, 11, 11, tzinfo=UTC)
    )

    [during] = [page async for page in inside.iter_offer_export_chunk("/api/offers/export/async/file/x")]
    [later] = [page async for page in after.iter_offer_export_chunk("/api/offers/export/async/file/x")]

    assert (during[0].price, during[0].total_price) == (Decimal("9.99"), Decimal("14.98"))
    assert (later[0].price, later[0].total_price) == (Decimal("12.5"), Decimal("17.49"))
    assert during[1].price == Decimal("10.0") and during[1].quantity == 0
    deleted = during[2]
    assert (deleted.deleted, deleted.active, deleted.price, deleted.quantity) == (True, False, None, None)


async def test_of54_chunk_is_yielded_in_pages_of_1000(make_client: MakeClient) -> None:
    offers = [{"offer_id": n, "prices": [{"origin_price": 1}]} for n in range(2500)]
    client = make_client(lambda request: httpx.Response(200, json=offers))

    pages = [page async for page in client.iter_offer_export_chunk("https://acme.mirakl.net/f/1")]

    assert [len(page) for page in pages] == [1000, 1000, 500]


async def test_an_offer_row_that_does_not_fit_is_set_aside_with_a_bounded_raw_copy_and_the_chunk_flows(
    make_client: MakeClient,
) -> None:
    offers = [{"offer_id": n, "quantity": 1, "prices": [{"origin_price": 1}]} for n in range(1, 1500)]
    offers[700] = {"offer_id": 701, "quantity": "lots", "description": "x" * 5000}
    client = make_client(lambda request: httpx.Response(200, json=offers))

    pages = [page async for page in client.iter_offer_export_chunk("https://acme.mirakl.net/f/1")]

    assert sum(len(page) for page in pages) == 1498
    [rejected] = [record for page in pages for record in page.rejected]
    assert (rejected.operation, rejected.key) == ("OF54", "701")
    assert rejected.reason.startswith("quantity:")
    assert rejected.raw is not None and rejected.raw["quantity"] == "lots"
    assert len(rejected.raw["description"]) < 250  # bounded, not the seller's 5,000 characters
    assert client.transport.calls["OF54"] == 1


async def test_of51_csv_delta_parses_active_and_deleted_rows(make_client: MakeClient) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=load_fixture("of51_delta.csv"), headers={"Content-Type": "text/csv"})

    client = make_client(handler)
    since = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    [page] = [page async for page in client.iter_offers_delta_csv(since)]

    live, deleted = page
    assert _query(seen[0]) == {"last_request_date": ["2026-11-01T09:00:00Z"]}
    assert (live.offer_id, live.product_sku, live.shop_id, live.quantity) == (3001, "MP-0001", 2001, 7)
    assert (live.price, live.total_price, live.min_shipping_price) == (
        Decimal("9.99"),
        Decimal("14.98"),
        Decimal("4.99"),
    )
    assert live.last_updated == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert (deleted.offer_id, deleted.shop_sku, deleted.deleted, deleted.active) == (3003, "S1-SKU-3", True, False)
    assert (deleted.price, deleted.quantity, deleted.last_updated) == (None, None, None)


async def test_a_sound_of54_chunk_read_from_its_bytes_gives_the_offers_the_row_by_row_path_gives(
    make_client: MakeClient,
) -> None:
    offers: list[dict[str, Any]] = [
        {
            "offer_id": 1,
            "product_sku": "Crème-1",
            "shop_id": 2001,
            "quantity": 4,
            "active": True,
            "currency_iso_code": "USD",
            "min_shipping_price": 1.5e3,
            "last_updated": "2026-11-01T10:11:12+02:00",
            "prices": [
                {"origin_price": 12.345678901234567, "context": {"channel_codes": ["B2B"]}},
                {"origin_price": "19.99", "discount_price": 0.1, "discount_end_date": "2027-01-01T00:00:00"},
            ],
            "channels": [{"code": "WEB"}],
            "warehouses": [{"code": "W1", "quantity": 4}],
        },
        # OF54 rows carry no top-level price: one on a dropship row (a purchase price) is never read.
        {
            "offer_id": 2,
            "model": "DROPSHIP",
            "price": 1,
            "prices": [{"origin_price": 1}],
            "retail_prices": [{"origin_price": 9.5}],
        },
        {"offer_id": 3, "product_sku": "GONE", "deleted": True},
    ]
    sound = make_client(lambda request: httpx.Response(200, json=offers))
    # The same rows beside one bad row take the row-by-row path (the bad one is set aside, the others flow on).
    faulty = make_client(lambda request: httpx.Response(200, json=[*offers, {"offer_id": "x"}]))

    [fast] = [page async for page in sound.iter_offer_export_chunk("https://acme.mirakl.net/f/1")]
    [slow] = [page async for page in faulty.iter_offer_export_chunk("https://acme.mirakl.net/f/1")]

    assert [o.model_dump() for o in fast] == [o.model_dump() for o in slow]
    assert (fast.rejected, len(slow.rejected)) == ([], 1)
    first, dropship, deleted = fast
    assert (first.price, first.total_price, first.min_shipping_price) == (Decimal("0.1"), Decimal("1500.1"), 1500)
    assert first.last_updated == datetime(2026, 11, 1, 8, 11, 12, tzinfo=UTC)
    assert first.last_updated.tzinfo is UTC  # one timezone object: pandas reads a column of them in bulk
    assert (dropship.price, dropship.total_price) == (Decimal("9.5"), None)
    assert (deleted.deleted, deleted.price) == (True, None)


async def test_an_of51_dropship_row_with_a_malformed_purchase_price_still_reads_at_its_retail_price(
    make_client: MakeClient,
) -> None:
    csv_text = (
        "offer-id;product-sku;shop-id;quantity;active;model;price;total-price;retail-price\n"
        "3001;MP-0001;2001;7;true;DROPSHIP;n/a;n/a;24.90\n"
    )
    client = make_client(lambda request: httpx.Response(200, text=csv_text, headers={"Content-Type": "text/csv"}))

    [page] = [page async for page in client.iter_offers_delta_csv(None)]

    [offer] = page
    assert (offer.price, offer.total_price, page.rejected) == (Decimal("24.90"), None, [])


async def test_offer_imports_follow_seek_tokens_and_refuse_a_loop(make_client: MakeClient) -> None:
    tokens: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = _query(request).get("page_token", [None])[0]
        tokens.append(token)
        row = {"import_id": len(tokens), "shop_id": 2001, "status": "FAILED", "lines_in_error": 3}
        return httpx.Response(200, json={"data": [row], "next_page_token": "t1"})

    client = make_client(handler)
    imported = []
    with pytest.raises(PaginationLoopError):
        async for page in client.iter_offer_imports(shop_id=2001, status="FAILED"):
            imported.extend(page)

    assert tokens == [None, "t1"]
    assert [(i.import_id, i.status, i.lines_in_error) for i in imported] == [(1, "FAILED", 3), (2, "FAILED", 3)]


# --- reference, shops, finance -----------------------------------------------------------------------------------


async def test_list_reasons_filters_by_type_client_side(make_client: MakeClient) -> None:
    reasons = [
        {
            "code": "15",
            "label": "Damaged",
            "type": "REFUND",
            "is_shop_right": True,
            "is_operator_right": True,
            "is_customer_right": False,
        },
        {
            "code": "30",
            "label": "Out of stock",
            "type": "CANCELATION",
            "is_shop_right": True,
            "is_operator_right": True,
            "is_customer_right": False,
        },
    ]
    client = make_client(lambda request: httpx.Response(200, json={"reasons": reasons, "total_count": 2}))

    assert [r.code for r in await client.list_reasons("REFUND")] == ["15"]
    assert [r.code for r in await client.list_reasons()] == ["15", "30"]


async def test_iter_shops_sends_filters_and_pages(make_client: MakeClient) -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_query(request))
        shops = [{"shop_id": 2001, "shop_name": "Seller One", "shop_state": "SUSPENDED", "approval_rate": 0.97}]
        return httpx.Response(200, json={"shops": shops, "total_count": 1})

    client = make_client(handler)
    [page] = [page async for page in client.iter_shops(shop_ids=[2001, 2002], state="SUSPENDED")]

    assert seen == [{"shop_ids": ["2001,2002"], "state": ["SUSPENDED"], "max": ["100"], "offset": ["0"]}]
    assert (page[0].shop_state, page[0].approval_rate) == ("SUSPENDED", Decimal("0.97"))


async def test_iter_transactions_uses_seek_paging_with_limit_2000(make_client: MakeClient) -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = _query(request)
        seen.append(query)
        if "page_token" not in query:
            return httpx.Response(200, json=load_fixture("tl02_page.json"))
        return httpx.Response(200, json={"data": [{"id": "T-3", "amount": 1}]})

    client = make_client(handler)
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    pages = [page async for page in client.iter_transactions(date_created_from=start, date_created_to=end, shop_id=7)]

    assert seen[0] == {
        "date_created_from": ["2026-11-01T00:00:00Z"],
        "date_created_to": ["2026-11-02T00:00:00Z"],
        "shop_id": ["7"],
        "limit": ["2000"],
    }
    assert seen[1]["page_token"] == ["tok-2"]
    first = pages[0][1]
    assert (first.type, first.amount, first.entities.order.id if first.entities and first.entities.order else None) == (
        "COMMISSION_FEE",
        Decimal("-2.5"),
        "BC1001-A",
    )
    assert [t.id for page in pages for t in page] == ["T-1", "T-2", "T-3"]


async def test_iter_billing_cycles_repeats_shop_id_and_uses_limit_1000(make_client: MakeClient) -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(_query(request))
        cycle = {
            "id": "6f1c",
            "shop": {"shop_id": 2001},
            "amount_transferred_to_seller": 120.5,
            "pay_out": {"state": "PAID"},
            "summary": {"total_commissions_incl_tax": -12.05},
        }
        return httpx.Response(200, json={"data": [cycle]})

    client = make_client(handler)
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    [page] = [page async for page in client.iter_billing_cycles(start_date=start, end_date=end, shop_ids=[1, 2])]

    assert seen[0]["shop_id"] == ["1", "2"] and seen[0]["limit"] == ["1000"]
    assert page[0].summary == {"total_commissions_incl_tax": Decimal("-12.05")}
    assert page[0].pay_out is not None and page[0].pay_out.state == "PAID"


async def test_iter_invoices_pages_by_offset(make_client: MakeClient) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert _query(request)["shop"] == ["2001"]
        invoice = {"invoice_id": 9, "type": "AUTO_INVOICE", "total_amount_incl_taxes": 14.4, "shop_id": 2001}
        return httpx.Response(200, json={"invoices": [invoice], "total_count": 1})

    client = make_client(handler)
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    [page] = [page async for page in client.iter_invoices(start_date=start, end_date=end, shop=2001)]

    assert (page[0].invoice_id, page[0].total_amount_incl_taxes) == (9, Decimal("14.4"))
