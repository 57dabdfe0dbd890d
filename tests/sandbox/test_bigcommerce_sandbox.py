"""The BigCommerce emulator serves the real API's shapes, paging, limits, errors and side effects.

Every test drives the FastAPI app in-process through `httpx.ASGITransport`, with an injected clock so rate-limit
windows advance without waiting.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from sandbox.bigcommerce import BigCommerceSandboxSettings, BigCommerceStore, create_bigcommerce_app
from sandbox.seed import World, build_world
from tests.support.clock import FakeClock

V3 = "/stores/sandbox/v3"
V2 = "/stores/sandbox/v2"
TOKEN = {"X-Auth-Token": "sandbox-token"}
RATE_HEADERS = (
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
)


@pytest.fixture
def bc_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bc_world() -> World:
    return build_world()


@pytest.fixture
def bc_app(bc_world: World, bc_clock: FakeClock) -> FastAPI:
    return create_bigcommerce_app(bc_world, BigCommerceSandboxSettings(quota=10_000, clock=bc_clock))


@pytest.fixture
def bc_store(bc_app: FastAPI) -> BigCommerceStore:
    return bc_app.state.store


@pytest.fixture
async def bc_client(bc_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=bc_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=TOKEN) as client:
        yield client


def _client_for(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=headers)


def _marketplace_variant_ids(world: World) -> list[int]:
    return [p.bc_variant_id for p in world.products if p.listed and p.bc_variant_id is not None]


async def _order_with_lines(
    client: httpx.AsyncClient, status_id: int, at_least: int
) -> tuple[int, list[dict[str, Any]]]:
    orders = (await client.get(f"{V2}/orders", params={"status_id": status_id, "limit": 250})).json()
    for order in orders:
        lines = (await client.get(f"{V2}/orders/{order['id']}/products")).json()
        if len(lines) >= at_least:
            return order["id"], lines
    raise AssertionError(f"no seeded order in status {status_id} with {at_least} lines")


# -- seeding -------------------------------------------------------------------------------------------------


async def test_seeding_marks_marketplace_variants_as_mirakl_owned_and_leaves_natives_unmarked(
    bc_client: httpx.AsyncClient, bc_world: World
) -> None:
    marketplace = _marketplace_variant_ids(bc_world)
    natives = [n.bc_variant_id for n in bc_world.natives]
    params = {"namespace": "bcmirakl", "key": "owner", "limit": 250}
    response = await bc_client.get(f"{V3}/catalog/variants/metafields", params=params)
    owned = {m["resource_id"]: m for m in response.json()["data"]}
    assert set(owned) == set(marketplace) and not set(owned) & set(natives)
    sample = owned[marketplace[0]]
    assert (sample["namespace"], sample["key"], sample["value"], sample["permission_set"]) == (
        "bcmirakl",
        "owner",
        "mirakl",
        "app_only",
    )
    variant = (await bc_client.get(f"{V3}/catalog/variants", params={"id": marketplace[0]})).json()["data"][0]
    assert (variant["price"], variant["inventory_level"]) == (0, 0)
    unlisted = next(p.product_sku for p in bc_world.products if not p.listed)
    absent = await bc_client.get(f"{V3}/catalog/variants", params={"sku": unlisted})
    assert absent.json()["data"] == []


async def test_undocumented_list_filters_on_variants_and_their_metafields_are_ignored(
    bc_client: httpx.AsyncClient, bc_world: World
) -> None:
    first = _marketplace_variant_ids(bc_world)[0]
    everything = (await bc_client.get(f"{V3}/catalog/variants", params={"limit": 250})).json()["meta"]
    for name in ("id:in", "sku:in"):
        listed = await bc_client.get(f"{V3}/catalog/variants", params={name: str(first), "limit": 250})
        assert listed.json()["meta"]["pagination"]["total"] == everything["pagination"]["total"] > 1
    marks = await bc_client.get(f"{V3}/catalog/variants/metafields", params={"resource_id:in": str(first)})
    assert {m["resource_id"] for m in marks.json()["data"]} > {first}


# -- paging --------------------------------------------------------------------------------------------------


async def test_v3_pagination_meta_and_query_string_links_walk_every_product_once(
    bc_client: httpx.AsyncClient, bc_world: World
) -> None:
    first = (await bc_client.get(f"{V3}/catalog/products", params={"limit": 20, "page": 2})).json()
    pagination = first["meta"]["pagination"]
    total = len(bc_world.natives) + len(_marketplace_variant_ids(bc_world))
    assert pagination == {
        "total": total,
        "count": 20,
        "per_page": 20,
        "current_page": 2,
        "total_pages": 3,
        "links": {"previous": "?page=1&limit=20", "current": "?page=2&limit=20", "next": "?page=3&limit=20"},
    }
    seen: list[int] = []
    link: str | None = "?limit=20"
    while link:
        body = (await bc_client.get(f"{V3}/catalog/products{link}")).json()
        seen += [p["id"] for p in body["data"]]
        link = body["meta"]["pagination"]["links"].get("next")
    assert len(seen) == len(set(seen)) == total


async def test_v2_order_paging_ends_with_an_empty_204(bc_client: httpx.AsyncClient, bc_world: World) -> None:
    sizes = []
    for page in range(1, 5):
        response = await bc_client.get(f"{V2}/orders", params={"limit": 5, "page": page})
        if response.status_code == 204:
            assert response.content == b""
            break
        sizes.append(len(response.json()))
    assert sizes == [5, 5, len(bc_world.orders) - 10]
    assert response.status_code == 204


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"{V3}/catalog/variants", {"status": 413}),
        (f"{V2}/orders", [{"status": 413, "details": {"max_limit": 250}}]),
    ],
)
async def test_limit_above_250_answers_413_in_the_api_generation_shape(
    bc_client: httpx.AsyncClient, path: str, expected: Any
) -> None:
    response = await bc_client.get(path, params={"limit": 251})
    assert response.status_code == 413
    body = response.json()
    if isinstance(expected, list):
        assert body[0]["status"] == 413 and body[0]["details"] == {"max_limit": 250} and body[0]["message"]
    else:
        assert body["status"] == 413 and body["title"] and body["type"]


async def test_variant_metafield_cursor_paging_returns_each_metafield_once(
    bc_client: httpx.AsyncClient, bc_world: World
) -> None:
    params: dict[str, Any] = {"namespace": "bcmirakl", "key": "owner", "limit": 15}
    seen: list[int] = []
    while True:
        body = (await bc_client.get(f"{V3}/catalog/variants/metafields", params=params)).json()
        seen += [m["id"] for m in body["data"]]
        cursor = body["meta"]["cursor_pagination"]
        if "next" not in cursor["links"]:
            break
        params["after"] = cursor["end_cursor"]
    assert len(seen) == len(set(seen)) == len(_marketplace_variant_ids(bc_world))
    assert seen == sorted(seen)


# -- gateway: auth and quota ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "headers", "status", "shape"),
    [
        (f"{V3}/catalog/products", {}, 401, "v3"),
        (f"{V3}/catalog/products", {"X-Auth-Token": "wrong"}, 401, "v3"),
        (f"{V2}/orders", {}, 401, "v2"),
        (f"{V2}/orders", {"X-Auth-Token": "wrong"}, 401, "v2"),
        ("/stores/otherstore/v3/catalog/products", TOKEN, 404, "v3"),
        ("/stores/otherstore/v2/orders", TOKEN, 404, "v2"),
    ],
)
async def test_gateway_rejects_bad_credentials_and_unknown_stores_with_real_bodies(
    bc_app: FastAPI, path: str, headers: dict[str, str], status: int, shape: str
) -> None:
    async with _client_for(bc_app, headers) as client:
        response = await client.get(path)
    assert response.status_code == status
    body = response.json()
    if shape == "v2":
        assert isinstance(body, list) and body[0]["status"] == status and body[0]["message"]
    else:
        assert body["status"] == status and body["title"] and body["type"].startswith("https://")
    assert all(name in response.headers for name in RATE_HEADERS)
    assert bc_app.state.store.request_count == 0


async def test_quota_headers_count_down_to_a_429_and_recover_after_the_window(bc_world: World) -> None:
    clock = FakeClock()
    app = create_bigcommerce_app(bc_world, BigCommerceSandboxSettings(quota=3, window_ms=1000, clock=clock))
    async with _client_for(app, TOKEN) as client:
        lefts = []
        for _ in range(3):
            response = await client.get(f"{V3}/inventory/locations")
            assert response.status_code == 200
            lefts.append(int(response.headers["X-Rate-Limit-Requests-Left"]))
            clock.advance(0.1)
        assert lefts == [2, 1, 0]
        limited = await client.get(f"{V3}/inventory/locations")
        assert limited.status_code == 429
        assert limited.headers["X-Rate-Limit-Requests-Quota"] == "3"
        assert limited.headers["X-Rate-Limit-Requests-Left"] == "0"
        assert limited.headers["X-Rate-Limit-Time-Window-Ms"] == "1000"
        assert int(limited.headers["X-Rate-Limit-Time-Reset-Ms"]) == 700
        assert limited.headers["X-Retry-After"] == "1"
        assert limited.json()["status"] == 429
        clock.advance(0.7)
        recovered = await client.get(f"{V3}/inventory/locations")
    assert recovered.status_code == 200
    assert recovered.headers["X-Rate-Limit-Requests-Left"] == "2"
    assert app.state.store.request_count == 4


# -- catalog batch writes ------------------------------------------------------------------------------------


async def test_variant_batch_above_50_answers_413_with_the_documented_body(
    bc_client: httpx.AsyncClient, bc_world: World
) -> None:
    items = [{"id": v, "price": 1} for v in _marketplace_variant_ids(bc_world)[:40]] * 2
    response = await bc_client.put(f"{V3}/catalog/variants", json=items[:51])
    assert response.status_code == 413
    assert response.json() == {
        "status": 413,
        "title": "The request payload is too large. The maximum items allowed in the array is 50",
        "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
        "errors": {},
    }


async def test_variant_batch_update_applies_price_and_purchasability(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore, bc_world: World
) -> None:
    first, second = _marketplace_variant_ids(bc_world)[:2]
    items = [
        {"id": first, "price": 19.99, "purchasing_disabled": False},
        {"id": second, "purchasing_disabled": True, "purchasing_disabled_message": "Out of stock at the seller"},
    ]
    response = await bc_client.put(f"{V3}/catalog/variants", json=items)
    assert response.status_code == 200
    assert [v["id"] for v in response.json()["data"]] == [first, second]
    assert bc_store.variant(first)["price"] == Decimal("19.99")
    assert bc_store.variant(first)["calculated_price"] == Decimal("19.99")
    assert bc_store.variant(second)["purchasing_disabled"] is True
    listed = [
        (await bc_client.get(f"{V3}/catalog/variants", params={"id": i})).json()["data"][0] for i in (first, second)
    ]
    assert [(v["price"], v["purchasing_disabled"]) for v in listed] == [(19.99, False), (0, True)]


async def test_variant_batch_with_one_invalid_item_answers_422_naming_it_and_applies_nothing(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore, bc_world: World
) -> None:
    first, second, third = _marketplace_variant_ids(bc_world)[:3]
    items = [
        {"id": first, "price": 10},
        {"id": second, "price": -1},
        {"id": third, "inventory_level": 3, "purchasing_disabled_message": "x" * 256},
    ]
    response = await bc_client.put(f"{V3}/catalog/variants", json=items)
    assert response.status_code == 422
    errors = response.json()["batch_errors"]
    assert [e["status"] for e in errors] == [422, 422]
    assert set(errors[0]["errors"]) == {"1.price"}
    assert parse_qs(urlsplit(errors[0]["instance"]).query)["id"] == [str(second)]
    assert set(errors[1]["errors"]) == {"2.purchasing_disabled_message"}
    assert parse_qs(urlsplit(errors[1]["instance"]).query)["id"] == [str(third)]
    assert bc_store.variant(first)["price"] == 0
    assert bc_store.variant(third)["inventory_level"] == 0


async def test_injected_partial_failure_rejects_the_whole_variant_batch(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore, bc_world: World
) -> None:
    rule = {"path": "/v3/catalog/variants$", "method": "PUT", "partial_failure_rate": 1.0}
    assert (await bc_client.post("/_sandbox/faults", json=rule)).status_code == 204
    variant_ids = _marketplace_variant_ids(bc_world)[:2]
    response = await bc_client.put(f"{V3}/catalog/variants", json=[{"id": v, "price": 5} for v in variant_ids])
    assert response.status_code == 422
    assert [set(e["errors"]) for e in response.json()["batch_errors"]] == [{"0.id"}, {"1.id"}]
    assert all(bc_store.variant(v)["price"] == 0 for v in variant_ids)


# -- inventory -----------------------------------------------------------------------------------------------


async def test_absolute_adjustment_sets_variant_inventory_level_by_variant_id_or_sku(
    bc_client: httpx.AsyncClient, bc_world: World
) -> None:
    mkp = [p for p in bc_world.products if p.listed][:2]
    body = {
        "reason": "offer sync",
        "items": [
            {"location_id": 1, "variant_id": mkp[0].bc_variant_id, "quantity": 12},
            {"location_id": 1, "sku": mkp[1].product_sku, "quantity": 7},
        ],
    }
    response = await bc_client.put(f"{V3}/inventory/adjustments/absolute", json=body)
    assert response.status_code == 200 and response.json()["transaction_id"]
    ids = f"{mkp[0].bc_variant_id},{mkp[1].bc_variant_id}"
    variants = [
        (await bc_client.get(f"{V3}/catalog/variants", params={"id": m.bc_variant_id})).json()["data"][0]
        for m in mkp[:2]
    ]
    assert [v["inventory_level"] for v in variants] == [12, 7]
    items = (await bc_client.get(f"{V3}/inventory/items", params={"variant_id:in": ids})).json()["data"]
    assert [i["locations"][0]["available_to_sell"] for i in items] == [12, 7]
    product = (await bc_client.get(f"{V3}/catalog/products/{mkp[0].bc_product_id}")).json()["data"]
    assert product["inventory_level"] == 12


async def test_absolute_adjustment_rejects_oversized_and_unknown_items_as_problem_json(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore, bc_world: World
) -> None:
    variant_id = _marketplace_variant_ids(bc_world)[0]
    too_many = {"items": [{"location_id": 1, "variant_id": variant_id, "quantity": 1}] * 2001}
    oversized = await bc_client.put(f"{V3}/inventory/adjustments/absolute", json=too_many)
    assert oversized.status_code == 413
    body = {
        "items": [
            {"location_id": 1, "variant_id": variant_id, "quantity": 5},
            {"location_id": 1, "sku": "NO-SUCH-SKU", "quantity": 5},
        ]
    }
    unknown = await bc_client.put(f"{V3}/inventory/adjustments/absolute", json=body)
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert "NO-SUCH-SKU" in unknown.json()["title"]
    assert bc_store.variant(variant_id)["inventory_level"] == 0


# -- orders, shipments, refunds ------------------------------------------------------------------------------


async def test_status_change_bumps_date_modified_for_iso_and_rfc2822_sweeps(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore
) -> None:
    latest = max(o.date_modified for o in bc_store.orders.values())
    assert (await bc_client.post("/_sandbox/orders/101/status", json={"status_id": 5})).status_code == 204
    for since in (latest.isoformat(), latest.strftime("%a, %d %b %Y %H:%M:%S +0000")):
        params = {"min_date_modified": since, "sort": "date_modified:asc"}
        orders = (await bc_client.get(f"{V2}/orders", params=params)).json()
        assert orders[-1]["id"] == 101
        assert (orders[-1]["status_id"], orders[-1]["status"], orders[-1]["payment_status"]) == (
            5,
            "Cancelled",
            "void",
        )
    updated = await bc_client.put(f"{V2}/orders/101", json={"external_order_id": "MIRAKL-101"})
    assert updated.json()["external_order_id"] == "MIRAKL-101"
    rejected = await bc_client.put(f"{V2}/orders/101", json={"date_modified": "now"})
    assert rejected.status_code == 400 and "date_modified" in rejected.json()[0]["message"]


async def test_v2_order_money_is_4_decimal_strings_and_dates_rfc2822(bc_client: httpx.AsyncClient) -> None:
    order = (await bc_client.get(f"{V2}/orders/100")).json()
    lines = (await bc_client.get(f"{V2}/orders/100/products")).json()
    assert order["total_inc_tax"].count(".") == 1 and len(order["total_inc_tax"].split(".")[1]) == 4
    assert order["date_created"] == "Sun, 01 Nov 2026 00:00:00 +0000"
    assert (order["currency_code"], order["default_currency_code"], order["payment_status"]) == (
        "USD",
        "USD",
        "captured",
    )
    subtotal = sum(Decimal(line["total_inc_tax"]) for line in lines)
    assert Decimal(order["subtotal_inc_tax"]) == subtotal
    assert Decimal(order["total_inc_tax"]) == subtotal + Decimal(order["shipping_cost_inc_tax"])


async def test_shipments_move_the_order_to_partially_shipped_then_shipped_and_refuse_over_shipping(
    bc_client: httpx.AsyncClient,
) -> None:
    order_id, lines = await _order_with_lines(bc_client, 11, 2)
    address_id = lines[0]["order_address_id"]
    first = {"order_product_id": lines[0]["id"], "quantity": lines[0]["quantity"]}
    body = {"order_address_id": address_id, "shipping_provider": "ups", "tracking_number": "1Z1", "items": [first]}
    created = await bc_client.post(f"{V2}/orders/{order_id}/shipments", json=body)
    assert created.status_code == 201
    assert created.json()["items"] == [{**first, "product_id": lines[0]["product_id"]}]
    assert (await bc_client.get(f"{V2}/orders/{order_id}")).json()["status_id"] == 3

    again = await bc_client.post(f"{V2}/orders/{order_id}/shipments", json=body)
    assert again.status_code == 400 and again.json()[0]["status"] == 400
    bad_provider = {
        **body,
        "shipping_provider": "dhl-express",
        "items": [{"order_product_id": lines[1]["id"], "quantity": 1}],
    }
    assert (await bc_client.post(f"{V2}/orders/{order_id}/shipments", json=bad_provider)).status_code == 400

    rest = [{"order_product_id": line["id"], "quantity": line["quantity"]} for line in lines[1:]]
    final = {
        "order_address_id": address_id,
        "shipping_provider": "",
        "tracking_link": "https://t.example/1",
        "items": rest,
    }
    assert (await bc_client.post(f"{V2}/orders/{order_id}/shipments", json=final)).status_code == 201
    order = (await bc_client.get(f"{V2}/orders/{order_id}")).json()
    assert (order["status_id"], order["items_shipped"]) == (2, order["items_total"])
    assert order["date_shipped"]
    shipments = (await bc_client.get(f"{V2}/orders/{order_id}/shipments")).json()
    assert len(shipments) == 2
    shipped = (await bc_client.get(f"{V2}/orders/{order_id}/products")).json()
    assert all(line["quantity_shipped"] == line["quantity"] for line in shipped)


async def test_refunds_follow_the_quote_and_refuse_more_than_was_paid(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore
) -> None:
    order_id, lines = await _order_with_lines(bc_client, 11, 2)
    total = Decimal((await bc_client.get(f"{V2}/orders/{order_id}")).json()["total_inc_tax"])
    actions = f"{V3}/orders/{order_id}/payment_actions"

    too_much = {"items": [{"item_type": "ORDER", "item_id": order_id, "amount": float(total) + 1}]}
    quote_error = await bc_client.post(f"{actions}/refund_quotes", json=too_much)
    assert quote_error.status_code == 422 and quote_error.json()["errors"]
    payments = [{"provider_id": "custom", "amount": float(total) + 1, "offline": True}]
    refund_error = await bc_client.post(f"{actions}/refunds", json={**too_much, "payments": payments})
    assert refund_error.status_code == 422 and refund_error.json()["data"][0]["status"] == 422

    items = [{"item_type": "PRODUCT", "item_id": lines[0]["id"], "quantity": 1}]
    quote = (await bc_client.post(f"{actions}/refund_quotes", json={"items": items})).json()["data"]
    amount = quote["total_refund_amount"]
    assert Decimal(str(amount)) == Decimal(lines[0]["price_inc_tax"])
    method = quote["refund_methods"][0][0]
    wrong = [{"provider_id": method["provider_id"], "amount": amount - 1, "offline": False}]
    assert (await bc_client.post(f"{actions}/refunds", json={"items": items, "payments": wrong})).status_code == 422
    right = [{"provider_id": method["provider_id"], "amount": amount, "offline": False}]
    created = await bc_client.post(f"{actions}/refunds", json={"items": items, "payments": right})
    assert created.status_code == 201 and created.json()["data"]["total_amount"] == amount
    order = (await bc_client.get(f"{V2}/orders/{order_id}")).json()
    assert (order["status_id"], order["payment_status"]) == (14, "partially refunded")

    rest = [
        {"item_type": "PRODUCT", "item_id": line["id"], "quantity": line["quantity"] - (1 if i == 0 else 0)}
        for i, line in enumerate(lines)
        if line["quantity"] - (1 if i == 0 else 0) > 0
    ]
    rest.append(
        {
            "item_type": "SHIPPING",
            "item_id": lines[0]["order_address_id"],
            "amount": float(order["shipping_cost_inc_tax"]),
        }
    )
    final_quote = (await bc_client.post(f"{actions}/refund_quotes", json={"items": rest})).json()["data"]
    final_payment = [{"provider_id": "custom", "amount": final_quote["total_refund_amount"], "offline": True}]
    assert (
        await bc_client.post(f"{actions}/refunds", json={"items": rest, "payments": final_payment})
    ).status_code == 201
    assert (await bc_client.get(f"{V2}/orders/{order_id}")).json()["status_id"] == 4
    listed = (await bc_client.get(f"{V3}/orders/payment_actions/refunds", params={"order_id:in": order_id})).json()
    assert [r["order_id"] for r in listed["data"]] == [order_id, order_id]
    assert sum(Decimal(str(r["total_amount"])) for r in listed["data"]) == total


async def test_order_metafields_are_created_once_and_updated_in_place(bc_client: httpx.AsyncClient) -> None:
    body = {"namespace": "bcmirakl", "key": "mirakl_order_id", "value": "M-1", "permission_set": "read"}
    created = await bc_client.post(f"{V3}/orders/100/metafields", json=body)
    assert created.status_code == 200
    assert (await bc_client.post(f"{V3}/orders/100/metafields", json=body)).status_code == 409
    metafield_id = created.json()["data"]["id"]
    # orders.v3.yml MetafieldPut (allOf MetafieldBase_Post): permission_set, namespace, key and value required.
    value_only = await bc_client.put(f"{V3}/orders/100/metafields/{metafield_id}", json={"value": "M-2"})
    assert value_only.status_code == 422 and set(value_only.json()["errors"]) == {"namespace", "key", "permission_set"}
    updated = await bc_client.put(f"{V3}/orders/100/metafields/{metafield_id}", json={**body, "value": "M-2"})
    assert updated.json()["data"]["value"] == "M-2"
    listed = (await bc_client.get(f"{V3}/orders/100/metafields")).json()["data"]
    assert [(m["key"], m["value"]) for m in listed] == [("mirakl_order_id", "M-2")]


async def test_app_only_metafields_are_hidden_from_other_apps_of_the_store(
    bc_client: httpx.AsyncClient, bc_app: FastAPI
) -> None:
    private = {"namespace": "bcmirakl", "key": "private", "value": "p", "permission_set": "app_only"}
    shared = {"namespace": "bcmirakl", "key": "shared", "value": "s", "permission_set": "read"}
    for body in (private, shared):
        assert (await bc_client.post(f"{V3}/orders/100/metafields", json=body)).status_code == 200
    own = (await bc_client.get(f"{V3}/orders/100/metafields")).json()["data"]
    async with _client_for(bc_app, {"X-Auth-Token": "sandbox-other-app-token"}) as other_app:
        seen = (await other_app.get(f"{V3}/orders/100/metafields")).json()["data"]
        shared_id = next(m["id"] for m in seen if m["key"] == "shared")
        change = {**shared, "value": "changed by another app"}
        refused = await other_app.put(f"{V3}/orders/100/metafields/{shared_id}", json=change)
    assert {m["key"] for m in own} >= {"private", "shared"}
    assert "private" not in {m["key"] for m in seen} and "shared" in {m["key"] for m in seen}
    assert refused.status_code == 403  # `read` is visible to other API consumers, not writable by them


async def test_metafield_cursor_pages_skip_other_apps_private_fields_in_every_direction(
    bc_client: httpx.AsyncClient, bc_app: FastAPI
) -> None:
    """Cursor pages are walked from the cursor (a page costs its length): forward and back, ascending and
    descending, each page holds the next `limit` metafields this app may see, in the listing's order."""
    async with _client_for(bc_app, {"X-Auth-Token": "sandbox-other-app-token"}) as other_app:
        for n in range(6):
            private = {"namespace": "probe", "key": f"k{n}", "value": "v", "permission_set": "app_only"}
            assert (await other_app.post(f"{V3}/orders/101/metafields", json=private)).status_code == 200
            shared = {**private, "key": f"s{n}", "permission_set": "read"}
            assert (await bc_client.post(f"{V3}/orders/101/metafields", json=shared)).status_code == 200
        everything = (await other_app.get(f"{V3}/orders/101/metafields", params={"limit": 250})).json()["data"]
    visible = [m["id"] for m in (await bc_client.get(f"{V3}/orders/101/metafields")).json()["data"]]
    assert len(everything) == 12 and len(visible) == 6  # the other app's private ones are not listed to the bridge

    async def walk(direction: str, cursor_name: str, first_cursor: str) -> list[int]:
        params = {"limit": 2, "direction": direction}
        body = (await bc_client.get(f"{V3}/orders/101/metafields", params=params)).json()
        pages = [[m["id"] for m in body["data"]]]
        while "next" in body["meta"]["cursor_pagination"]["links"]:
            params[cursor_name] = body["meta"]["cursor_pagination"][first_cursor]
            body = (await bc_client.get(f"{V3}/orders/101/metafields", params=params)).json()
            pages.append([m["id"] for m in body["data"]])
        return [i for page in pages for i in page]

    assert await walk("asc", "after", "end_cursor") == visible
    assert await walk("desc", "after", "end_cursor") == visible[::-1]
    last = {"limit": 2, "after": _cursor(visible[3])}
    tail = (await bc_client.get(f"{V3}/orders/101/metafields", params=last)).json()
    assert [m["id"] for m in tail["data"]] == visible[4:]
    assert "next" not in tail["meta"]["cursor_pagination"]["links"]
    back = {"limit": 2, "before": _cursor(visible[4])}
    assert [m["id"] for m in (await bc_client.get(f"{V3}/orders/101/metafields", params=back)).json()["data"]] == (
        visible[2:4]
    )
    back_desc = {"limit": 2, "before": _cursor(visible[1]), "direction": "desc"}
    page = (await bc_client.get(f"{V3}/orders/101/metafields", params=back_desc)).json()["data"]
    assert [m["id"] for m in page] == visible[3:1:-1]


def _cursor(metafield_id: int) -> str:
    return base64.b64encode(f"id:{metafield_id}".encode()).decode()


async def test_webhooks_require_an_https_destination_and_are_listed(bc_client: httpx.AsyncClient) -> None:
    insecure = {"scope": "store/order/statusUpdated", "destination": "http://bridge.example/hooks"}
    assert (await bc_client.post(f"{V3}/hooks", json=insecure)).status_code == 422
    hook = {**insecure, "destination": "https://bridge.example/hooks", "headers": {"X-Bridge-Secret": "s"}}
    created = (await bc_client.post(f"{V3}/hooks", json=hook)).json()["data"]
    assert (created["scope"], created["is_active"], created["store_hash"]) == (hook["scope"], True, "sandbox")
    listed = (await bc_client.get(f"{V3}/hooks")).json()
    assert [h["id"] for h in listed["data"]] == [created["id"]]


# -- fault injection -----------------------------------------------------------------------------------------


async def test_injected_errors_use_the_configured_status_and_keep_rate_limit_headers(
    bc_client: httpx.AsyncClient,
) -> None:
    rules = {"rules": [{"path": "/v2/orders$", "error_rate": 1.0, "status": 503}]}
    assert (await bc_client.put("/_sandbox/faults", json=rules)).status_code == 204
    response = await bc_client.get(f"{V2}/orders")
    assert response.status_code == 503
    assert response.json()[0]["status"] == 503
    assert all(name in response.headers for name in RATE_HEADERS)
    assert (await bc_client.delete("/_sandbox/faults")).status_code == 204
    assert (await bc_client.get(f"{V2}/orders")).status_code == 200


async def test_injected_429_and_malformed_bodies(bc_client: httpx.AsyncClient) -> None:
    await bc_client.post("/_sandbox/faults", json={"path": "/catalog/products", "burst_429": 1})
    limited = await bc_client.get(f"{V3}/catalog/products")
    assert limited.status_code == 429 and limited.headers["X-Retry-After"]
    assert limited.headers["X-Rate-Limit-Requests-Left"] == "0"
    await bc_client.put("/_sandbox/faults", json={"rules": [{"path": "/catalog/products", "malformed_rate": 1.0}]})
    broken = await bc_client.get(f"{V3}/catalog/products")
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        broken.json()


# -- catalog creation, seeded history, mounting ----------------------------------------------------------------


async def test_created_product_is_found_by_variant_sku_with_only_the_requested_fields(
    bc_client: httpx.AsyncClient,
) -> None:
    body = {
        "name": "Seller bundle",
        "type": "physical",
        "weight": 1,
        "price": 0,
        "inventory_tracking": "variant",
        "variants": [{"sku": "MKP-NEW-1", "price": 12.5, "option_values": []}],
    }
    created = await bc_client.post(f"{V3}/catalog/products", json=body)
    assert created.status_code == 200
    product = created.json()["data"]
    assert [v["sku"] for v in product["variants"]] == ["MKP-NEW-1"]
    duplicate = await bc_client.post(f"{V3}/catalog/products", json={**body, "name": "Other"})
    assert duplicate.status_code == 409 and "variants.0.sku" in duplicate.json()["errors"]
    params = {"sku": "MKP-NEW-1", "include_fields": "sku,price"}
    found = (await bc_client.get(f"{V3}/catalog/variants", params=params)).json()["data"]
    assert found == [{"id": product["variants"][0]["id"], "sku": "MKP-NEW-1", "price": 12.5}]


async def test_seeded_orders_carry_the_history_their_status_implies(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore
) -> None:
    for order in bc_store.orders.values():
        shipments = [s for s in bc_store.shipments if s["order_id"] == order.id]
        refunds = [r for r in bc_store.refunds if r["order_id"] == order.id]
        if order.status_id == 2:
            assert shipments and order.items_shipped == order.items_total
        if order.status_id == 4:
            assert sum(r["total_amount"] for r in refunds) == order.total_inc_tax
        if order.status_id in (7, 11):
            assert not shipments and not refunds
    statuses = {o.status_id: o.payment_status for o in bc_store.orders.values()}
    assert (statuses[11], statuses[7], statuses[5], statuses[4]) == ("captured", "pending", "void", "refunded")


async def test_the_app_serves_the_same_api_when_mounted_under_a_prefix(bc_app: FastAPI) -> None:
    root = FastAPI()
    root.mount("/bigcommerce", bc_app)
    async with _client_for(root, TOKEN) as client:
        listed = await client.get(f"/bigcommerce{V2}/orders/100")
        missing = await client.get(f"/bigcommerce{V2}/orders/999999")
        status = await client.post("/bigcommerce/_sandbox/orders/100/status", json={"status_id": 9})
    assert listed.status_code == 200 and listed.json()["id"] == 100
    assert missing.status_code == 404 and missing.json()[0]["status"] == 404
    assert status.status_code == 204 and bc_app.state.store.orders[100].status_id == 9


async def test_product_refund_adjustments_lower_the_item_amount_and_must_be_negative_and_not_exceed_it(
    bc_client: httpx.AsyncClient, bc_store: BigCommerceStore
) -> None:
    order_id, [line, *_] = await _order_with_lines(bc_client, 11, 1)
    actions = f"{V3}/orders/{order_id}/payment_actions"
    unit = Decimal(line["price_inc_tax"])

    def item(*amounts: float) -> dict[str, Any]:
        adjustments = [{"amount": a, "description": "Restocking fee"} for a in amounts]
        return {"item_type": "PRODUCT", "item_id": line["id"], "quantity": 1, "adjustments": adjustments}

    positive = await bc_client.post(f"{actions}/refund_quotes", json={"items": [item(5.0)]})
    assert positive.status_code == 422
    assert positive.json()["title"] == "JSON data is missing or invalid"
    assert positive.json()["errors"] == {"items.0.adjustments.0.amount": "must be a number < 0"}
    too_large = await bc_client.post(f"{actions}/refund_quotes", json={"items": [item(-float(unit), -0.01)]})
    assert too_large.status_code == 422 and set(too_large.json()["errors"]) == {"items.0.adjustments"}
    on_shipping = {"item_type": "SHIPPING", "item_id": line["order_address_id"], "amount": 1, "adjustments": []}
    assert (await bc_client.post(f"{actions}/refund_quotes", json={"items": [on_shipping]})).status_code == 422

    quote = (await bc_client.post(f"{actions}/refund_quotes", json={"items": [item(-3.0, -2.0)]})).json()["data"]
    assert Decimal(str(quote["total_refund_amount"])) == unit - Decimal("5.00")
    payments = [{"provider_id": "custom", "amount": quote["total_refund_amount"], "offline": True}]
    refused = await bc_client.post(f"{actions}/refunds", json={"items": [item(0.0)], "payments": payments})
    assert refused.status_code == 422 and refused.json()["data"][0]["errors"]
    created = await bc_client.post(f"{actions}/refunds", json={"items": [item(-3.0, -2.0)], "payments": payments})

    assert created.status_code == 201
    refund = created.json()["data"]
    assert Decimal(str(refund["total_amount"])) == unit - Decimal("5.00")
    assert refund["items"][0]["adjustments"] == [
        {"amount": -3, "description": "Restocking fee"},
        {"amount": -2, "description": "Restocking fee"},
    ]
    assert bc_store.orders[order_id].line(line["id"]).quantity_refunded == 1
    assert bc_store.orders[order_id].refunded_total == unit - Decimal("5.00")
