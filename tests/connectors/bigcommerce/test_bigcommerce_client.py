"""The client over scripted servers: retries and waits, fail-fast configuration, pacing, URLs, batch recovery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import httpx
import pytest

from connectors.bigcommerce import (
    BatchRejectedError,
    BigCommerceClient,
    InventoryAdjustment,
    MetafieldCreate,
    MetafieldUpdate,
    ProductCreate,
    RefundItem,
    RefundPaymentRequest,
    ShipmentCreate,
    ShipmentItem,
    VariantUpdate,
)
from connectors.http import (
    ConfigurationError,
    MalformedResponseError,
    PermanentApiError,
    QuotaLimiter,
    RateLimitError,
    TransientApiError,
    UnreadableResponseError,
)
from tests.connectors.bigcommerce.bc_doubles import STORE, load_fixture
from tests.support.doubles import ScriptedServer

ORDER = load_fixture("order_v2.json")
VARIANTS = load_fixture("variants_page.json")


def ok(body: object, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def variant(variant_id: int, **fields: object) -> dict[str, object]:
    return {"id": variant_id, "product_id": 7, "sku": f"SKU-{variant_id}", **fields}


# --- retries and waits -------------------------------------------------------------------------------------


async def test_429_waits_exactly_the_reset_ms_then_succeeds(make_client, clock):
    limited = httpx.Response(
        429,
        json={"status": 429, "title": "Too many requests"},
        headers={"X-Rate-Limit-Time-Reset-Ms": "3000", "X-Rate-Limit-Requests-Left": "0"},
    )
    server = ScriptedServer(limited, ok(ORDER))
    async with make_client(server) as client:
        order = await client.get_order(218)

    assert order.id == 218
    assert clock.waits == [3.0]
    assert client.transport.calls["get_order"] == 2


async def test_header_less_429_backs_off_exponentially(make_client, clock):
    server = ScriptedServer(httpx.Response(429), httpx.Response(429), ok(ORDER))
    async with make_client(server) as client:
        await client.get_order(218)

    assert clock.waits == [0.5, 1.0]


async def test_500_then_200_is_retried_once(make_client, clock):
    server = ScriptedServer(httpx.Response(500), ok(ORDER))
    async with make_client(server) as client:
        order = await client.get_order(218)

    assert order.total_inc_tax == Decimal("62.6793")
    assert (len(server.requests), clock.waits) == (2, [0.5])


async def test_timeout_then_200_is_retried(make_client, clock):
    server = ScriptedServer(httpx.ReadTimeout("slow"), ok(ORDER))
    async with make_client(server) as client:
        await client.get_order(218)

    assert (len(server.requests), clock.waits) == (2, [0.5])


async def test_malformed_json_then_200_is_retried(make_client, clock):
    server = ScriptedServer(httpx.Response(200, content=b'{"id": 218, "status'), ok(ORDER))
    async with make_client(server) as client:
        await client.get_order(218)

    assert (len(server.requests), clock.waits) == (2, [0.5])


async def test_malformed_page_mid_iteration_is_retried_without_skipping_the_page(make_client):
    page = [dict(ORDER, id=i) for i in (1, 2)]
    server = ScriptedServer(ok(page), httpx.Response(200, content=b"[{"), ok([dict(ORDER, id=3)]))
    async with make_client(server) as client:
        pages = [[o.id for o in p] async for p in client.iter_orders(limit=2)]

    assert pages == [[1, 2], [3]]
    assert [r.url.params["page"] for r in server.requests] == ["1", "2", "2"]


async def test_422_is_permanent_and_never_retried(make_client, clock):
    body = {"status": 422, "title": "JSON data is missing or invalid", "errors": {"price": "error.expected"}}
    server = ScriptedServer(ok(body, status=422))
    async with make_client(server) as client:
        with pytest.raises(PermanentApiError) as caught:
            await client.update_order(218, status_id=5)

    assert caught.value.status == 422
    assert len(server.requests) == 1
    assert clock.waits == []


async def test_transient_errors_give_up_after_the_policy_attempts(make_client, clock):
    server = ScriptedServer(httpx.Response(503))
    async with make_client(server) as client:
        with pytest.raises(TransientApiError):
            await client.get_order(218)

    assert len(server.requests) == 6
    assert clock.waits == [0.5, 1.0, 2.0, 4.0, 8.0]


async def test_unsafe_write_is_not_repeated_after_a_5xx(make_client):
    server = ScriptedServer(httpx.Response(502))
    shipment = ShipmentCreate(order_address_id=128, items=[ShipmentItem(order_product_id=194, quantity=1)])
    async with make_client(server) as client:
        with pytest.raises(TransientApiError) as caught:
            await client.create_shipment(218, shipment)

    assert caught.value.status == 502
    assert len(server.requests) == 1


async def test_unsafe_write_is_repeated_after_a_429(make_client, clock):
    limited = httpx.Response(429, headers={"X-Retry-After": "2"})
    server = ScriptedServer(limited, ok(load_fixture("shipment_v2.json"), status=201))
    shipment = ShipmentCreate(order_address_id=128, items=[ShipmentItem(order_product_id=194, quantity=2)])
    async with make_client(server) as client:
        created = await client.create_shipment(218, shipment)

    assert created.id == 12
    assert clock.waits == [2.0]


SHIPMENT = ShipmentCreate(order_address_id=128, items=[ShipmentItem(order_product_id=194, quantity=1)])
REFUND_ITEMS = [RefundItem(item_type="PRODUCT", item_id=194, quantity=1)]
REFUND_PAYMENTS = [RefundPaymentRequest(provider_id="custom", amount=Decimal("14.17"), offline=True)]

# Every write that creates something on BigCommerce, with the operation name its errors carry.
UNSAFE_WRITES = [
    pytest.param(lambda c: c.create_shipment(218, SHIPMENT), "create_shipment", id="create_shipment"),
    pytest.param(lambda c: c.create_refund(218, REFUND_ITEMS, REFUND_PAYMENTS), "create_refund", id="create_refund"),
    pytest.param(lambda c: c.create_product(ProductCreate(name="Draft", sku="MK-1")), "create_product", id="product"),
    pytest.param(lambda c: c.create_webhook("store/order/*", "https://hooks.test/bc"), "create_webhook", id="webhook"),
    pytest.param(
        lambda c: c.create_variant_metafields([MetafieldCreate(namespace="m", key="k", value="v", resource_id=501)]),
        "create_variant_metafields",
        id="variant_metafields",
    ),
    pytest.param(
        lambda c: c.create_order_metafield(218, "mirakl", "commercial_id", "C-1", permission_set="read"),
        "create_order_metafield",
        id="order_metafield",
    ),
]


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        pytest.param(lambda: httpx.Response(503), 503, id="503"),
        pytest.param(lambda: httpx.ReadTimeout("slow"), None, id="timeout"),
        pytest.param(lambda: httpx.Response(200, content=b'{"data": {"id'), 200, id="truncated-200"),
    ],
)
@pytest.mark.parametrize(("call", "operation"), UNSAFE_WRITES)
async def test_every_unsafe_write_is_sent_once_when_it_may_have_taken_effect(
    make_client, clock, call, operation, failure, status
):
    server = ScriptedServer(failure(), ok({"data": {}}, status=201))
    async with make_client(server) as client:
        with pytest.raises(TransientApiError) as caught:
            await call(client)

    assert (caught.value.operation, caught.value.status) == (operation, status)
    assert (len(server.requests), client.transport.calls[operation]) == (1, 1)
    assert clock.waits == []


async def test_updating_metafields_is_repeatable_and_retried_after_a_5xx(make_client, clock):
    saved = {"id": 9, "namespace": "m", "key": "k", "value": "v2", "resource_id": 501}
    server = ScriptedServer(httpx.Response(503), ok({"data": [saved], "meta": {}}))
    async with make_client(server) as client:
        result = await client.update_variant_metafields([MetafieldUpdate(id=9, value="v2")])

    assert [(m.id, m.value) for m in result.saved] == [(9, "v2")]
    assert (len(server.requests), clock.waits) == (2, [0.5])


async def test_wrong_base_url_fails_fast_as_configuration_error(make_client, clock):
    server = ScriptedServer(httpx.ConnectError("name resolution failed"))
    async with make_client(server) as client:
        with pytest.raises(ConfigurationError, match="check the base URL"):
            await client.get_order(218)

    assert len(server.requests) == 1
    assert clock.waits == []


async def test_a_record_not_matching_its_model_is_set_aside_and_the_rest_of_its_page_flows(make_client):
    server = ScriptedServer(ok([ORDER, {"id": 1, "status_id": "not-a-status"}]))
    async with make_client(server) as client:
        page = await anext(aiter(client.iter_orders()))

    assert [order.id for order in page] == [ORDER["id"]]
    assert [(r.operation, r.key, r.raw) for r in page.rejected] == [("iter_orders", "1", None)]  # no customer data
    assert "status_id" in page.rejected[0].reason
    assert client.transport.rejections.take() == page.rejected
    assert len(server.requests) == 1  # not re-read as if the network were at fault


async def test_a_page_body_that_is_not_json_twice_is_not_retried_further(make_client, clock):
    server = ScriptedServer(httpx.Response(200, content=b"<html>"), httpx.Response(200, content=b"<html>"), ok([]))
    async with make_client(server) as client:
        with pytest.raises(UnreadableResponseError, match="not valid JSON"):
            await anext(aiter(client.iter_orders()))

    assert len(server.requests) == 2


# --- pacing --------------------------------------------------------------------------------------------------


async def test_limiter_sleeps_until_reset_when_requests_left_reach_the_reserve(make_client, clock):
    headers = {
        "X-Rate-Limit-Requests-Quota": "150",
        "X-Rate-Limit-Requests-Left": "15",
        "X-Rate-Limit-Time-Window-Ms": "30000",
        "X-Rate-Limit-Time-Reset-Ms": "2500",
    }
    server = ScriptedServer(ok(ORDER, headers=headers))
    async with make_client(server, limiter=QuotaLimiter(reserve_share=0.1, clock=clock, sleep=clock.sleep)) as client:
        await client.get_order(218)
        assert clock.waits == []
        await client.get_order(218)

    assert clock.waits == [2.5]


# --- URLs, headers, parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected_path"),
    [
        ("https://api.bigcommerce.com", f"/stores/{STORE}/v3/catalog/variants"),
        ("http://sandbox.test/bigcommerce", f"/bigcommerce/stores/{STORE}/v3/catalog/variants"),
        ("http://sandbox.test/bigcommerce/", f"/bigcommerce/stores/{STORE}/v3/catalog/variants"),
    ],
)
async def test_paths_join_onto_base_url_keeping_its_prefix(make_client, base_url, expected_path):
    server = ScriptedServer(ok(VARIANTS))
    async with make_client(server, base_url=base_url) as client:
        pages = [page async for page in client.iter_variants(**{"product_id:in": [77, 78]})]

    request = server.requests[0]
    assert request.url.path == expected_path
    assert dict(request.url.params) == {"product_id:in": "77,78", "page": "1", "limit": "250"}
    assert request.headers["X-Auth-Token"] == "test-token"
    assert [v.sku for v in pages[0]] == ["MK-MUG-RED", "NT-TEE-M"]


def test_create_rejects_missing_settings_before_any_call():
    with pytest.raises(ConfigurationError, match="base_url"):
        BigCommerceClient.create("api.bigcommerce.com", STORE, "token")
    with pytest.raises(ConfigurationError, match="access_token"):
        BigCommerceClient.create("https://api.bigcommerce.com", STORE, "")
    with pytest.raises(ConfigurationError, match="store_hash"):
        BigCommerceClient.create("https://api.bigcommerce.com", "", "token")


async def test_iter_orders_sends_an_ascending_modified_window_and_stops_on_a_short_page(make_client):
    server = ScriptedServer(ok([dict(ORDER, id=1), dict(ORDER, id=2)]), ok([dict(ORDER, id=3)]))
    since = datetime(2026, 11, 1, 12, tzinfo=timezone(timedelta(hours=-4)))
    async with make_client(server) as client:
        ids = [[o.id for o in page] async for page in client.iter_orders(min_date_modified=since, limit=2)]

    assert ids == [[1, 2], [3]]
    first = server.requests[0]
    assert first.url.path == f"/stores/{STORE}/v2/orders"
    assert dict(first.url.params) == {
        "min_date_modified": "2026-11-01T12:00:00-04:00",
        "sort": "date_modified:asc",
        "page": "1",
        "limit": "2",
    }


async def test_iter_orders_204_yields_no_page(make_client):
    server = ScriptedServer(httpx.Response(204))
    async with make_client(server) as client:
        pages = [page async for page in client.iter_orders(status_id=11)]

    assert pages == []
    assert server.requests[0].url.params["status_id"] == "11"


async def test_iter_orders_refuses_naive_datetimes(make_client):
    async with make_client(ScriptedServer(ok([]))) as client:
        with pytest.raises(ValueError, match="timezone-aware"):
            await anext(aiter(client.iter_orders(min_date_modified=datetime(2026, 1, 1))))


async def test_list_shipments_204_is_empty(make_client):
    async with make_client(ScriptedServer(httpx.Response(204))) as client:
        assert await client.list_shipments(218) == []


async def test_list_order_products_flattens_every_page(make_client):
    lines = load_fixture("order_products_v2.json")
    full = [dict(lines[0], id=i) for i in range(250)]
    server = ScriptedServer(ok(full), ok(lines[1:]))
    async with make_client(server) as client:
        products = await client.list_order_products(218)

    assert len(products) == 251
    assert products[-1].sku == "NT-TEE-M"
    assert server.requests[1].url.path == f"/stores/{STORE}/v2/orders/218/products"


# --- batches ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "batch_error",
    [
        {"status": 422, "title": "Invalid", "errors": {"1.price": "must be >= 0"}},
        {"status": 422, "title": "Invalid", "errors": {"items[1].price": "must be >= 0"}},
        {"status": 422, "title": "Invalid", "errors": {"1": "must be >= 0"}},
        {"status": 422, "title": "Invalid", "errors": {"502": "must be >= 0"}},
        {"status": 422, "title": "Invalid", "instance": "/catalog/variants/502", "errors": {"price": "must be >= 0"}},
        {
            "status": 422,
            "title": "Invalid (item 1, variant 502)",
            "instance": "/v3/catalog/variants?id=502",
            "errors": {"price": "must be >= 0"},
        },
    ],
    ids=["index-dot-field", "items-bracket", "bare-index", "bare-id", "instance-path", "instance-query"],
)
async def test_update_variants_resubmits_the_good_items_once_after_a_partial_rejection(make_client, batch_error):
    items = [
        VariantUpdate(id=501, price=Decimal("1")),
        VariantUpdate(id=502, price=Decimal("-1")),
        VariantUpdate(id=503, purchasing_disabled=True),
    ]
    server = ScriptedServer(
        ok({"batch_errors": [batch_error]}, status=422),
        ok({"data": [variant(501, price=1.0), variant(503, purchasing_disabled=True)], "meta": {}}),
    )
    async with make_client(server) as client:
        result = await client.update_variants(items)

    assert [v.id for v in result.updated] == [501, 503]
    assert list(result.rejected) == [502]
    assert "must be >= 0" in result.rejected[502]
    assert [[item["id"] for item in body] for body in server.bodies()] == [[501, 502, 503], [501, 503]]


async def test_update_variants_rejects_all_remaining_when_the_resubmission_fails_too(make_client):
    items = [VariantUpdate(id=i, inventory_level=1) for i in (501, 502, 503)]
    server = ScriptedServer(
        ok({"batch_errors": [{"title": "Bad", "errors": {"0.inventory_level": "no"}}]}, status=422),
        ok({"batch_errors": [{"title": "Worse", "errors": {"1.inventory_level": "no"}}]}, status=422),
    )
    async with make_client(server) as client:
        result = await client.update_variants(items)

    assert result.updated == []
    assert sorted(result.rejected) == [501, 502, 503]
    assert result.rejected[503] == "Worse (1.inventory_level: no)"
    assert result.rejected[502].startswith("refused on re-submission")
    assert len(server.requests) == 2


async def test_a_write_answer_is_read_only_for_what_the_caller_reads(make_client):
    # Fields the models do not declare (a metafield's dates, even malformed ones) are skipped, not validated.
    metafield = {"id": 9, "namespace": "n", "key": "k", "value": "v", "resource_id": 501, "date_created": "garbled"}
    server = ScriptedServer(
        ok({"data": [variant(501, price="not a number", option_values=[{"x": 1}])], "meta": {}}),
        ok({"data": [metafield], "meta": {}}),
    )
    async with make_client(server) as client:
        variants = await client.update_variants([VariantUpdate(id=501, price=Decimal("1"))])
        metafields = await client.create_variant_metafields(
            [MetafieldCreate(namespace="n", key="k", value="v", resource_id=501)]
        )

    assert [(v.id, v.product_id) for v in variants.updated] == [(501, 7)]
    assert [(m.id, m.resource_id, m.value) for m in metafields.saved] == [(9, 501, "v")]


async def test_a_write_answer_missing_what_the_caller_reads_is_malformed_as_before(make_client):
    server = ScriptedServer(ok({"data": [{"id": 501}], "meta": {}}), ok({"meta": {}}))
    async with make_client(server) as client:
        with pytest.raises(MalformedResponseError, match="does not match UpdatedVariant"):
            await client.update_variants([VariantUpdate(id=501, price=Decimal("1"))])
        with pytest.raises(MalformedResponseError, match="expected a `data` list"):
            await client.update_variants([VariantUpdate(id=501, price=Decimal("1"))])

    assert len(server.requests) == 2  # judged after the call, as before: not re-sent


async def test_update_variants_raises_when_no_item_can_be_identified(make_client):
    server = ScriptedServer(ok({"batch_errors": [{"title": "Bad", "errors": {"price": "no"}}]}, status=422))
    async with make_client(server) as client:
        with pytest.raises(BatchRejectedError):
            await client.update_variants([VariantUpdate(id=501, price=Decimal("1"))])

    assert len(server.requests) == 1


async def test_batch_limits_are_enforced_before_any_call(make_client):
    server = ScriptedServer(ok({}))
    async with make_client(server) as client:
        with pytest.raises(ValueError, match="at most 50"):
            await client.update_variants([VariantUpdate(id=i) for i in range(51)])
        with pytest.raises(ValueError, match="at most 2000"):
            await client.adjust_inventory_absolute(
                [InventoryAdjustment(location_id=1, sku="A", quantity=1)] * 2001, "x"
            )
        with pytest.raises(ValueError, match="at most 50"):
            await client.create_variant_metafields(
                [MetafieldCreate(namespace="m", key="k", value="v", resource_id=1)] * 51
            )

    assert server.requests == []


async def test_metafield_partial_success_returns_saved_and_rejected_items(make_client):
    items = [
        MetafieldCreate(namespace="mirakl", key="offer_id", value="OF-1", permission_set="read", resource_id=501),
        MetafieldCreate(namespace="mirakl", key="offer_id", value="OF-2", permission_set="read", resource_id=502),
    ]
    server = ScriptedServer(ok(load_fixture("metafields_partial_422.json"), status=422))
    async with make_client(server) as client:
        result = await client.create_variant_metafields(items)

    assert [m.id for m in result.saved] == [9001]
    assert [(item.resource_id, message) for item, message in result.rejected] == [
        (502, "Bulk operation has failed: Metafield with the same key already exists")
    ]
    assert server.bodies()[0][0] == {
        "namespace": "mirakl",
        "key": "offer_id",
        "value": "OF-1",
        "permission_set": "read",
        "resource_id": 501,
    }


async def test_adjust_inventory_absolute_returns_the_transaction_id(make_client):
    server = ScriptedServer(ok({"transaction_id": "3f2a-77"}))
    items = [InventoryAdjustment(location_id=1, variant_id=501, quantity=0)]
    async with make_client(server) as client:
        transaction = await client.adjust_inventory_absolute(items, "mirakl offer sync")

    assert transaction == "3f2a-77"
    assert server.requests[0].method == "PUT"
    assert server.bodies() == [
        {"reason": "mirakl offer sync", "items": [{"location_id": 1, "variant_id": 501, "quantity": 0}]}
    ]


# --- orders v3 -------------------------------------------------------------------------------------------------


async def test_upsert_order_metafield_puts_every_field_the_spec_requires_when_the_value_changed(make_client):
    existing = {
        "id": 44,
        "namespace": "mirakl",
        "key": "commercial_id",
        "value": "OLD",
        "permission_set": "read",
        "resource_id": 218,
    }
    listing = ok({"data": [existing], "meta": {"pagination": {"current_page": 1, "total_pages": 1}}})
    updated = ok({"data": dict(existing, value="NEW"), "meta": {}})
    server = ScriptedServer(listing, updated)
    async with make_client(server) as client:
        result = await client.upsert_order_metafield(218, "mirakl", "commercial_id", "NEW", permission_set="read")

    assert result.value == "NEW"
    assert [(r.method, r.url.path) for r in server.requests] == [
        ("GET", f"/stores/{STORE}/v3/orders/218/metafields"),
        ("PUT", f"/stores/{STORE}/v3/orders/218/metafields/44"),
    ]
    assert server.requests[0].url.params["namespace"] == "mirakl"
    # orders.v3.yml MetafieldPut: permission_set, namespace, key and value are required.
    assert server.bodies()[1] == {
        "namespace": "mirakl",
        "key": "commercial_id",
        "value": "NEW",
        "permission_set": "read",
    }


async def test_upsert_order_metafield_creates_when_missing(make_client):
    created = {"id": 45, "namespace": "mirakl", "key": "commercial_id", "value": "C-1", "resource_id": 218}
    server = ScriptedServer(ok({"data": [], "meta": {}}), ok({"data": created, "meta": {}}))
    async with make_client(server) as client:
        result = await client.upsert_order_metafield(218, "mirakl", "commercial_id", "C-1", permission_set="read")

    assert result.id == 45
    assert server.requests[1].method == "POST"
    assert server.bodies()[1] == {
        "namespace": "mirakl",
        "key": "commercial_id",
        "value": "C-1",
        "permission_set": "read",
    }


async def test_refund_quote_then_refund_send_json_numbers(make_client):
    server = ScriptedServer(ok(load_fixture("refund_quote.json"), 201), ok(load_fixture("refund.json"), 201))
    items = [RefundItem(item_type="PRODUCT", item_id=194, quantity=2)]
    async with make_client(server) as client:
        quote = await client.create_refund_quote(218, items)
        method = quote.refund_methods[1][0]
        refund = await client.create_refund(
            218, items, [RefundPaymentRequest(provider_id=method.provider_id, amount=method.amount, offline=True)]
        )

    assert refund.total_amount == Decimal("28.34")
    assert server.bodies()[1] == {
        "items": [{"item_type": "PRODUCT", "item_id": 194, "quantity": 2}],
        "payments": [{"provider_id": "custom", "amount": 28.34, "offline": True}],
    }
    assert server.requests[1].url.path == f"/stores/{STORE}/v3/orders/218/payment_actions/refunds"


async def test_iter_refunds_pages_until_a_short_page_with_comma_filters(make_client):
    refund = load_fixture("refund.json")["data"]
    server = ScriptedServer(
        ok({"data": [dict(refund, id=1), dict(refund, id=2)], "meta": {}}),
        ok({"data": [dict(refund, id=3)], "meta": {}}),
    )
    since = datetime(2026, 11, 1, tzinfo=UTC)
    async with make_client(server) as client:
        pages = [
            [r.id for r in page]
            async for page in client.iter_refunds(**{"order_id:in": [218, 219], "created:min": since, "limit": 2})
        ]

    assert pages == [[1, 2], [3]]
    assert dict(server.requests[0].url.params) == {
        "order_id:in": "218,219",
        "created:min": "2026-11-01T00:00:00+00:00",
        "page": "1",
        "limit": "2",
    }


async def test_create_webhook_keeps_its_secret_header_out_of_repr(make_client):
    server = ScriptedServer(ok(load_fixture("webhook.json")))
    async with make_client(server) as client:
        hook = await client.create_webhook(
            "store/order/statusUpdated", "https://bridge.example.invalid/hooks/bigcommerce", {"X-Bridge-Secret": "s"}
        )

    assert hook.is_active
    assert "not-a-real-secret" not in repr(hook)
    assert json.loads(server.requests[0].content)["headers"] == {"X-Bridge-Secret": "s"}


async def test_default_location_is_id_1_read_once(make_client):
    locations = {"data": [{"id": 3, "enabled": True}, {"id": 1, "enabled": True}], "meta": {}}
    server = ScriptedServer(ok(locations))
    async with make_client(server) as client:
        assert await client.default_location_id() == 1
        assert await client.default_location_id() == 1

    assert len(server.requests) == 1


async def test_a_configured_location_is_used_and_a_disabled_one_is_refused_not_guessed(make_client):
    locations = {"data": [{"id": 1, "enabled": False}, {"id": 3, "enabled": True}], "meta": {}}
    async with make_client(ScriptedServer(ok(locations)), location_id=3) as client:
        assert await client.default_location_id() == 3
    async with make_client(ScriptedServer(ok(locations))) as client:
        with pytest.raises(ConfigurationError, match="BCMIRAKL_BC_LOCATION_ID"):
            await client.default_location_id()


async def test_rate_limit_error_surfaces_after_attempts_with_retry_after(make_client):
    server = ScriptedServer(httpx.Response(429, headers={"X-Rate-Limit-Time-Reset-Ms": "100"}))
    async with make_client(server) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.list_order_statuses()

    assert caught.value.retry_after == 0.1
