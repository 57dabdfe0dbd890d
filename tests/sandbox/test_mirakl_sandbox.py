"""The Mirakl emulator honours the platform's contract: auth, both paging schemes, exports, the order state
machine, payments, refunds and the ledger."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from sandbox.mirakl import MiraklSandboxSettings, MiraklStore, create_mirakl_app
from sandbox.mirakl import routes as api_routes
from sandbox.mirakl.roles import ROUTE_ROLES
from sandbox.seed import World, build_world

KEY = {"Authorization": "sandbox-mirakl-key"}
OPERATOR_KEY = {"Authorization": "sandbox-mirakl-operator-key"}
OPEN_SHOP, SECOND_SHOP, REFUSING_SHOP = 2000, 2001, 2002


class Clock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(world: World, clock: Clock) -> Any:
    # Call budgets have their own tests (test_mirakl_call_budgets.py); these read the same routes many times.
    settings = MiraklSandboxSettings(base_url="http://sandbox", now=clock, enforce_call_budgets=False)
    return create_mirakl_app(world, settings)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=KEY) as http:
        yield http


def store(app: Any) -> MiraklStore:
    return app.state.store


def orderable(app: Any, shop_id: int) -> Any:
    catalog = store(app).catalog
    return next(o for o in catalog.offers.values() if o.shop_id == shop_id and catalog.is_orderable(o, 1))


def zero_stock(app: Any) -> Any:
    catalog = store(app).catalog
    return next(o for o in catalog.offers.values() if catalog.is_active(o) and o.quantity == 0)


def address() -> dict[str, str]:
    return {
        "lastname": "Doe",
        "street_1": "1 Main Street",
        "zip_code": "78701",
        "city": "Austin",
        "country": "United States",
        "country_iso_code": "USA",
    }


def order_body(commercial_id: str, offers: list[Any], scored: bool = True) -> dict[str, Any]:
    lines = []
    for offer in offers:
        price = str(offer.price)
        lines.append(
            {
                "offer_id": offer.offer_id,
                "quantity": 1,
                "offer_price": price,
                "price": price,
                "shipping_price": "5.00",
                "shipping_type_code": "EXP",  # every seeded shop ships EXP in the US, not all STD
                "taxes": [{"code": "SALES", "amount": "1.00", "rate": 8}],
                "shipping_taxes": [{"code": "SALES", "amount": "0.40", "rate": 8}],
            }
        )
    return {
        "commercial_id": commercial_id,
        "scored": scored,
        "shipping_zone_code": "US",
        "payment_workflow": "PAY_ON_ACCEPTANCE",
        "payment_info": {"payment_type": "card", "imprint_number": "PSP-1"},
        "customer": {
            "customer_id": "C-1",
            "email": "c1@example.com",
            "firstname": "Jo",
            "lastname": "Doe",
            "billing_address": address(),
            "shipping_address": address(),
        },
        "offers": lines,
    }


async def shipping_order(client: httpx.AsyncClient, app: Any, commercial_id: str = "BC100") -> str:
    """Create, accept and debit a one-line order; returns its logistic order id, now in SHIPPING."""
    response = await client.post("/api/orders", json=order_body(commercial_id, [orderable(app, OPEN_SHOP)]))
    order_id = response.json()["orders"][0]["order_id"]
    await client.post("/_sandbox/tick")
    debit = (await client.get("/api/payment/debit")).json()["orders"]["order"][0]
    paid = {"order_id": order_id, "customer_id": "C-1", "payment_status": "OK", "amount": debit["amount"]}
    assert (await client.put("/api/payment/debit", json={"orders": [paid]})).status_code == 204
    return order_id


# --- auth -------------------------------------------------------------------------------------------------------


async def test_requests_without_or_with_a_wrong_key_get_mirakl_401(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/shops", headers={"Authorization": ""})
    wrong = await client.get("/api/shops", headers={"Authorization": "nope"})
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json() == {"message": "Unauthorized: the API key is invalid", "status": 401}


async def test_oauth_token_authorizes_as_bearer_until_it_expires(client: httpx.AsyncClient, clock: Clock) -> None:
    form = {"grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    token = (await client.post("/oauth/token", data=form)).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3599
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await client.get("/api/shops", headers=bearer)).status_code == 200
    clock.advance(seconds=3600)
    assert (await client.get("/api/shops", headers=bearer)).status_code == 401
    bad = await client.post("/oauth/token", data=form | {"client_secret": "wrong"})
    assert bad.status_code == 401 and bad.json()["status"] == 401


def test_every_api_route_declares_the_roles_the_specs_allow() -> None:
    routes = {
        (method, route.path)
        for module in (
            api_routes.offers,
            api_routes.orders,
            api_routes.payments,
            api_routes.reference,
            api_routes.shipping,
            api_routes.finance,
        )
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert routes == set(ROUTE_ROLES)


async def test_a_front_key_on_an_operator_only_operation_is_forbidden(client: httpx.AsyncClient) -> None:
    refused = await client.get("/api/offers/imports")  # OF04: operator spec only
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden", "status": 403})
    assert (await client.get("/api/offers/imports", headers=OPERATOR_KEY)).status_code == 200


async def test_an_operator_key_on_a_front_only_operation_is_forbidden(client: httpx.AsyncClient) -> None:
    refused = await client.post("/api/orders", json={}, headers=OPERATOR_KEY)  # OR01: front spec only
    assert (refused.status_code, refused.json()) == (403, {"message": "Forbidden", "status": 403})
    assert (await client.get("/api/shops", headers=OPERATOR_KEY)).status_code == 200  # S20: both specs


async def test_oauth_tokens_and_generated_tokens_carry_their_clients_role(client: httpx.AsyncClient) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-operator-client",
        "client_secret": "sandbox-operator-secret",
    }
    operator = {"Authorization": f"Bearer {(await client.post('/oauth/token', data=form)).json()['access_token']}"}
    assert (await client.get("/api/offers/imports", headers=operator)).status_code == 200
    assert (await client.post("/api/orders", json={}, headers=operator)).status_code == 403
    front_token = {"Authorization": "Bearer sandbox-mirakl-front-token"}
    assert (await client.get("/api/payment/debit", headers=front_token)).status_code == 200
    assert (await client.get("/api/offers/imports", headers=front_token)).status_code == 403


# --- paging -----------------------------------------------------------------------------------------------------


async def test_shops_offset_paging_covers_every_shop_once_and_caps_max(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/shops", params={"max": 3})
    second = await client.get("/api/shops", params={"max": 3, "offset": 3})
    assert first.json()["total_count"] == 5
    assert 'rel="next"' in first.headers["Link"] and "Link" not in second.headers
    ids = [s["shop_id"] for s in first.json()["shops"] + second.json()["shops"]]
    assert sorted(ids) == [2000, 2001, 2002, 2003, 2004]  # 2004: the dropship supplier
    suspended = (await client.get("/api/shops", params={"state": "SUSPENDED"})).json()["shops"]
    assert [s["shop_id"] for s in suspended] == [2003]
    big = await client.get("/api/shops", params={"max": 500})
    assert len(big.json()["shops"]) == 5


async def test_offer_imports_seek_paging_lists_newest_first_with_planted_failures(client: httpx.AsyncClient) -> None:
    pages, token = [], None
    while True:
        params = {"limit": 3} | ({"page_token": token} if token else {})
        body = (await client.get("/api/offers/imports", params=params, headers=OPERATOR_KEY)).json()
        pages.append(body["data"])
        token = body.get("next_page_token")
        if not token:
            break
    rows = [row for page in pages for row in page]
    assert [len(p) for p in pages] == [3, 2]
    assert [r["date_created"] for r in rows] == sorted((r["date_created"] for r in rows), reverse=True)
    by_shop = {r["shop_id"]: r for r in rows}
    assert by_shop[2001]["status"] == "FAILED" and by_shop[2001]["has_error_report"]
    assert by_shop[2002]["status"] == "COMPLETE" and by_shop[2002]["lines_in_error"] > 0
    failed = (await client.get("/api/offers/imports", params={"status": "FAILED"}, headers=OPERATOR_KEY)).json()["data"]
    assert [r["shop_id"] for r in failed] == [2001]
    one = await client.get(f"/api/offers/imports/{by_shop[2001]['import_id']}", headers=OPERATOR_KEY)
    assert one.json()["status"] == "FAILED"


# --- offers -----------------------------------------------------------------------------------------------------


async def test_async_export_delta_carries_changed_offers_and_deleted_ones_with_ids_only(
    client: httpx.AsyncClient, app: Any, clock: Clock
) -> None:
    watermark = clock().isoformat()
    clock.advance(minutes=1)
    gone, repriced = orderable(app, OPEN_SHOP), orderable(app, SECOND_SHOP)
    changes = [{"offer_id": gone.offer_id, "deleted": True}, {"offer_id": repriced.offer_id, "price": "12.34"}]
    assert (await client.post("/_sandbox/offers", json={"offers": changes})).status_code == 200
    request = {"export_type": "application/json", "last_request_date": watermark, "items_per_chunk": 1}
    tracking_id = (await client.post("/api/offers/export/async", json=request)).json()["tracking_id"]
    assert (await client.get(f"/api/offers/export/async/status/{tracking_id}")).json()["status"] == "PENDING"
    done = (await client.get(f"/api/offers/export/async/status/{tracking_id}")).json()
    assert done["status"] == "COMPLETED" and len(done["urls"]) == 2
    assert all(url.startswith("http://sandbox/api/offers/export/async/file/") for url in done["urls"])
    rows = [row for url in done["urls"] for row in (await client.get(url)).json()]
    by_id = {row["offer_id"]: row for row in rows}
    assert set(by_id) == {gone.offer_id, repriced.offer_id}
    assert by_id[gone.offer_id] == {
        "offer_id": gone.offer_id,
        "product_sku": gone.product_sku,
        "shop_id": gone.shop_id,
        "shop_sku": gone.shop_sku,
        "active": False,
        "deleted": True,
    }
    assert by_id[repriced.offer_id]["prices"][0]["origin_price"] == 12.34
    assert by_id[repriced.offer_id]["last_updated"] == "2026-11-10T12:01:00Z"


async def test_an_export_serves_the_offers_as_they_were_when_it_was_requested(
    client: httpx.AsyncClient, app: Any, clock: Clock
) -> None:
    """OF52 answers at once and the chunks are rendered at OF54, from a copy taken at the request: a change made
    in between does not reach the export (it belongs to the next one)."""
    offer = orderable(app, OPEN_SHOP)
    request = {"export_type": "application/json", "items_per_chunk": 100_000}
    tracking_id = (await client.post("/api/offers/export/async", json=request)).json()["tracking_id"]
    before = offer.quantity
    change = [{"offer_id": offer.offer_id, "quantity": before + 7}]
    assert (await client.post("/_sandbox/offers", json={"offers": change})).status_code == 200
    for _ in range(2):
        status = (await client.get(f"/api/offers/export/async/status/{tracking_id}")).json()
    rows = [row for url in status["urls"] for row in (await client.get(url)).json()]
    assert {row["offer_id"]: row["quantity"] for row in rows}[offer.offer_id] == before


async def test_csv_export_full_has_active_offers_and_delta_has_deleted_rows(
    client: httpx.AsyncClient, app: Any, clock: Clock
) -> None:
    full = list(csv.DictReader(io.StringIO((await client.get("/api/offers/export")).text), delimiter=";"))
    catalog = store(app).catalog
    assert {int(r["offer-id"]) for r in full} == {o.offer_id for o in catalog.offers.values() if catalog.is_active(o)}
    assert [int(r["offer-id"]) for r in full] == sorted(int(r["offer-id"]) for r in full)
    sample = full[0]
    assert Decimal(sample["total-price"]) == Decimal(sample["price"]) + Decimal(sample["min-shipping-price"])
    watermark = clock().isoformat()
    gone = orderable(app, OPEN_SHOP)
    await client.post("/_sandbox/offers", json={"offers": [{"offer_id": gone.offer_id, "deleted": True}]})
    delta_text = (await client.get("/api/offers/export", params={"last_request_date": watermark})).text
    delta = list(csv.DictReader(io.StringIO(delta_text), delimiter=";"))
    assert len(delta) == 1 and delta[0]["deleted"] == "true" and delta[0]["price"] == ""
    assert delta[0]["shop-sku"] == gone.shop_sku


async def test_partial_import_serves_its_of03_error_report_as_csv_and_a_clean_one_has_none(
    client: httpx.AsyncClient, app: Any
) -> None:
    imports = store(app).imports.imports.values()
    partial = next(i for i in imports if i.shop_id == 2002)
    clean = next(i for i in imports if i.shop_id == 2000)
    answer = await client.get(f"/api/offers/imports/{partial.import_id}/error_report", headers=OPERATOR_KEY)
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/octet-stream"
    lines = list(csv.DictReader(io.StringIO(answer.text), delimiter=";"))
    assert len(lines) == partial.lines_in_error
    assert {"error-line", "error-message", "sku"} <= set(lines[0]) and lines[0]["error-message"]
    no_report = await client.get(f"/api/offers/imports/{clean.import_id}/error_report", headers=OPERATOR_KEY)
    assert no_report.status_code == 404


async def test_exports_honour_the_models_filter_and_carry_a_dropship_offers_retail_price(
    client: httpx.AsyncClient,
) -> None:
    def models_of(rows: list[dict[str, Any]], key: str) -> set[str]:
        return {row[key] for row in rows}

    everything = list(csv.DictReader(io.StringIO((await client.get("/api/offers/export")).text), delimiter=";"))
    marketplace_only = (await client.get("/api/offers/export", params={"models": "MARKETPLACE"})).text
    assert models_of(everything, "model") == {"MARKETPLACE", "DROPSHIP"}
    assert models_of(list(csv.DictReader(io.StringIO(marketplace_only), delimiter=";")), "model") == {"MARKETPLACE"}
    [dropship] = [row for row in everything if row["model"] == "DROPSHIP"]
    assert Decimal(dropship["price"]) < Decimal(dropship["retail-price"])  # purchase price, then selling price
    assert (await client.get("/api/offers/export", params={"models": "RETAIL"})).status_code == 400

    request = {"export_type": "application/json", "models": ["DROPSHIP"]}
    tracking_id = (await client.post("/api/offers/export/async", json=request)).json()["tracking_id"]
    await client.get(f"/api/offers/export/async/status/{tracking_id}")
    done = (await client.get(f"/api/offers/export/async/status/{tracking_id}")).json()
    [row] = [row for url in done["urls"] for row in (await client.get(url)).json()]
    assert row["model"] == "DROPSHIP"
    assert row["prices"][0]["origin_price"] < row["retail_prices"][0]["origin_price"]


async def test_a_planted_defect_rides_on_the_offers_export_row_until_removed(
    client: httpx.AsyncClient, app: Any, clock: Clock
) -> None:
    target = orderable(app, OPEN_SHOP)
    watermark = clock().isoformat()
    body = {"defects": [{"offer_id": target.offer_id, "fields": {"quantity": "lots"}}]}
    assert (await client.post("/_sandbox/offers/defects", json=body)).status_code == 200
    delta = (await client.get("/api/offers/export", params={"last_request_date": watermark})).text
    [row] = list(csv.DictReader(io.StringIO(delta), delimiter=";"))
    assert (int(row["offer-id"]), row["quantity"]) == (target.offer_id, "lots")
    body["defects"][0]["fields"] = {}
    await client.post("/_sandbox/offers/defects", json=body)
    full = list(csv.DictReader(io.StringIO((await client.get("/api/offers/export")).text), delimiter=";"))
    assert next(r for r in full if int(r["offer-id"]) == target.offer_id)["quantity"] == str(target.quantity)


# --- orders -----------------------------------------------------------------------------------------------------


async def test_or01_splits_by_shop_and_reports_the_zero_stock_offer(client: httpx.AsyncClient, app: Any) -> None:
    a, b, empty = orderable(app, OPEN_SHOP), orderable(app, SECOND_SHOP), zero_stock(app)
    stock_before = a.quantity
    response = await client.post("/api/orders", json=order_body("BC200", [b, empty, a]))
    body = response.json()
    assert response.status_code == 200
    assert body["offers_not_shippable"] == [{"offer_id": empty.offer_id, "error_code": "OFFER_NOT_FOUND"}]
    assert [(o["order_id"], o["shop_id"]) for o in body["orders"]] == [("BC200-A", OPEN_SHOP), ("BC200-B", SECOND_SHOP)]
    first = body["orders"][0]
    line = first["order_lines"][0]
    assert first["order_state"] == "WAITING_ACCEPTANCE" and line["order_line_id"] == "BC200-A-1"
    assert Decimal(str(first["total_price"])) == a.price + Decimal("5.00")
    assert Decimal(str(line["commission_fee"])) == ((a.price + 5) * Decimal("0.10")).quantize(Decimal("0.01"))
    assert line["commission_taxes"][0]["amount"] == pytest.approx(line["commission_fee"] * 0.2, abs=0.01)
    assert store(app).offer(a.offer_id).quantity == stock_before - 1


async def test_or01_answers_a_shipping_type_the_shop_does_not_ship_in_the_zone_as_not_shippable(
    client: httpx.AsyncClient, app: Any
) -> None:
    a, express_only = orderable(app, OPEN_SHOP), orderable(app, SECOND_SHOP)
    body = order_body("BC210", [a, express_only])
    for line in body["offers"]:
        line["shipping_type_code"] = "STD"
    answer = (await client.post("/api/orders", json=body)).json()

    assert answer["offers_not_shippable"] == [
        {"offer_id": express_only.offer_id, "error_code": "SHIPPING_TYPE_NOT_FOUND"}
    ]
    assert [(o["shop_id"], o["shipping_type_code"]) for o in answer["orders"]] == [(OPEN_SHOP, "STD")]


async def test_or01_makes_one_logistic_order_per_shop_and_shipping_type(client: httpx.AsyncClient, app: Any) -> None:
    catalog = store(app).catalog
    first, second = [o for o in catalog.offers.values() if o.shop_id == OPEN_SHOP and catalog.is_orderable(o, 1)][:2]
    body = order_body("BC220", [first, second])
    body["offers"][0]["shipping_type_code"] = "STD"
    answer = (await client.post("/api/orders", json=body)).json()

    assert [(o["order_id"], o["shipping_type_code"]) for o in answer["orders"]] == [
        ("BC220-A", "EXP"),
        ("BC220-B", "STD"),
    ]


async def test_sh02_lists_the_types_each_offer_ships_in_the_zone_and_the_errors(
    client: httpx.AsyncClient, app: Any
) -> None:
    a, express_only = orderable(app, OPEN_SHOP), orderable(app, SECOND_SHOP)
    offers = f"{a.offer_id}|2,{express_only.offer_id}|1,999999|1,{express_only.offer_id}|1|STD"
    us = (await client.get("/api/shipping/rates", params={"shipping_zone_code": "US", "offers": offers})).json()
    nowhere = (await client.get("/api/shipping/rates", params={"shipping_zone_code": "MARS", "offers": offers})).json()
    missing = await client.get("/api/shipping/rates", params={"shipping_zone_code": "US"})

    allowed = {
        o["offer_id"]: [t["code"] for t in o["allowed_shipping_types"]] for x in us["orders"] for o in x["offers"]
    }
    assert allowed == {a.offer_id: ["STD", "EXP", "NXT"], express_only.offer_id: ["EXP"]}
    assert [(x["shop_id"], x["selected_shipping_type"]["code"]) for x in us["orders"]] == [
        (OPEN_SHOP, "STD"),
        (SECOND_SHOP, "EXP"),
    ]
    assert us["orders"][0]["offers"][0]["line_shipping_price"] == float(a.min_shipping_price * 2)
    assert [(e["offer_id"], e["error_code"]) for e in us["errors"]] == [
        (999999, "OFFER_NOT_FOUND"),
        (express_only.offer_id, "SHIPPING_TYPE_NOT_ALLOWED"),
    ]
    assert {e["error_code"] for e in nowhere["errors"]} == {"OFFER_NOT_FOUND", "SHIPPING_ZONE_NOT_ALLOWED"}
    assert missing.status_code == 400 and "offers" in missing.json()["message"]


async def test_or01_rejects_a_reused_order_line_id_and_missing_fields(client: httpx.AsyncClient, app: Any) -> None:
    body = order_body("BC300", [orderable(app, OPEN_SHOP), orderable(app, SECOND_SHOP)])
    for line in body["offers"]:
        line["order_line_id"] = "BC-LINE-1"
    duplicate = await client.post("/api/orders", json=body)
    assert duplicate.status_code == 400 and "BC-LINE-1" in duplicate.json()["message"]
    incomplete = order_body("BC301", [orderable(app, OPEN_SHOP)])
    del incomplete["customer"]["email"]
    missing = await client.post("/api/orders", json=incomplete)
    assert missing.status_code == 400 and "customer.email" in missing.json()["message"]


async def test_staging_orders_wait_for_or02(client: httpx.AsyncClient, app: Any) -> None:
    await client.post("/api/orders", json=order_body("BC310", [orderable(app, OPEN_SHOP)], scored=False))
    assert store(app).order("BC310-A").state == "STAGING"
    assert (await client.put("/api/orders/valid/BC310")).status_code == 204
    assert store(app).order("BC310-A").state == "WAITING_ACCEPTANCE"


async def test_or11_filters_by_commercial_ids_and_rejects_more_than_100(client: httpx.AsyncClient, app: Any) -> None:
    await client.post("/api/orders", json=order_body("BC400", [orderable(app, OPEN_SHOP), orderable(app, SECOND_SHOP)]))
    await client.post("/api/orders", json=order_body("BC401", [orderable(app, OPEN_SHOP)]))
    listed = (await client.get("/api/orders", params={"commercial_ids": "BC400"})).json()
    assert listed["total_count"] == 2 and {o["order_id"] for o in listed["orders"]} == {"BC400-A", "BC400-B"}
    too_many = await client.get("/api/orders", params={"commercial_ids": ",".join(f"X{i}" for i in range(101))})
    assert too_many.status_code == 400
    assert too_many.json()["message"] == "The limit of 100 is exceeded for the parameter : commercial_ids"
    unknown = await client.put("/api/orders/NOPE-A/ship")
    assert unknown.status_code == 404 and unknown.json()["status"] == 404


async def test_tick_accepts_for_answering_sellers_and_auto_refuses_for_the_silent_one(
    client: httpx.AsyncClient, app: Any
) -> None:
    offers = [orderable(app, OPEN_SHOP), orderable(app, REFUSING_SHOP)]
    await client.post("/api/orders", json=order_body("BC500", offers))
    result = (await client.post("/_sandbox/tick")).json()
    assert result == {"accepted": ["BC500-A"], "refused": ["BC500-B"]}
    orders = {o["order_id"]: o for o in (await client.get("/api/orders")).json()["orders"]}
    assert orders["BC500-A"]["order_state"] == "WAITING_DEBIT_PAYMENT"
    assert orders["BC500-A"]["acceptance_decision_date"] == "2026-11-10T12:00:00Z"
    assert orders["BC500-B"]["order_state"] == "REFUSED" and orders["BC500-B"]["acceptance_decision_date"] is None


# --- payments, shipping, refunds, ledger ------------------------------------------------------------------------


async def test_pa01_rejects_a_wrong_amount_and_ok_moves_the_order_to_shipping(
    client: httpx.AsyncClient, app: Any
) -> None:
    offer = orderable(app, OPEN_SHOP)
    await client.post("/api/orders", json=order_body("BC600", [offer]))
    await client.post("/_sandbox/tick")
    debits = (await client.get("/api/payment/debit")).json()
    debit = debits["orders"]["order"][0]
    assert debits["total_count"] == 1 and debit["order_commercial_id"] == "BC600"
    assert Decimal(str(debit["amount"])) == offer.price + Decimal("5.00") + Decimal("1.40")
    wrong = {"order_id": "BC600-A", "customer_id": "C-1", "payment_status": "OK", "amount": "1.00"}
    refused = await client.put("/api/payment/debit", json={"orders": [wrong]})
    assert refused.status_code == 400 and "debitable amount" in refused.json()["message"]
    assert store(app).order("BC600-A").state == "WAITING_DEBIT_PAYMENT"
    paid = wrong | {"amount": debit["amount"], "transaction_number": "TX-9"}
    assert (await client.put("/api/payment/debit", json={"orders": [paid]})).status_code == 204
    order = (await client.get("/api/orders", params={"order_ids": "BC600-A"})).json()["orders"][0]
    assert order["order_state"] == "SHIPPING" and order["customer_debited_date"] == "2026-11-10T12:00:00Z"
    assert (await client.get("/api/payment/debit")).json()["total_count"] == 0


async def test_debit_books_transaction_lines_that_page_and_sum_into_the_billing_cycle(
    client: httpx.AsyncClient, app: Any
) -> None:
    order_id = await shipping_order(client, app)
    first = (await client.get("/api/sellerpayment/transactions_logs", params={"limit": 4})).json()
    rest = (
        await client.get("/api/sellerpayment/transactions_logs", params={"page_token": first["next_page_token"]})
    ).json()
    lines = first["data"] + rest["data"]
    assert "next_page_token" not in rest
    assert [line["type"] for line in lines] == [
        "ORDER_AMOUNT",
        "ORDER_AMOUNT_TAX",
        "ORDER_SHIPPING_AMOUNT",
        "ORDER_SHIPPING_AMOUNT_TAX",
        "COMMISSION_FEE",
        "COMMISSION_VAT",
    ]
    assert all(line["entities"]["order"]["id"] == order_id for line in lines)
    assert all(line["entities"]["order"]["commercial_id"] == "BC100" for line in lines)
    assert lines[4]["amount"] < 0 and lines[4]["amount_debited"] == -lines[4]["amount"]
    cycles = (await client.get("/api/seller-billing-cycles", params={"shop_id": OPEN_SHOP})).json()["data"]
    total = sum(Decimal(str(line["amount"])) for line in lines)
    assert Decimal(str(cycles[0]["amount_transferred_to_seller"])) == total
    assert cycles[0]["id"] == lines[0]["seller_billing_cycle_id"]
    too_big = await client.get("/api/sellerpayment/transactions_logs", params={"limit": 2001})
    assert too_big.status_code == 400


async def test_tracking_needs_a_known_carrier_and_shipping_twice_says_current_status(
    client: httpx.AsyncClient, app: Any
) -> None:
    order_id = await shipping_order(client, app)
    unknown = await client.put(f"/api/orders/{order_id}/tracking", json={"carrier_code": "PIGEON"})
    assert unknown.status_code == 400 and "PIGEON" in unknown.json()["message"]
    tracking = {"carrier_code": "UPS", "tracking_number": "1Z999"}
    assert (await client.put(f"/api/orders/{order_id}/tracking", json=tracking)).status_code == 204
    assert (await client.put(f"/api/orders/{order_id}/ship")).status_code == 204
    again = await client.put(f"/api/orders/{order_id}/ship")
    assert again.status_code == 400 and "Current status is SHIPPED" in again.json()["message"]
    order = (await client.get("/api/orders", params={"order_ids": order_id})).json()["orders"][0]
    assert order["shipping_tracking_url"] == "https://www.ups.com/track?tracknum=1Z999"
    assert order["order_lines"][0]["shipped_date"] is not None


async def test_refund_over_the_line_is_400_and_a_valid_one_loops_through_pa12_and_pa02(
    client: httpx.AsyncClient, app: Any
) -> None:
    order_id = await shipping_order(client, app)
    line = store(app).order(order_id).lines[0]
    too_much = {
        "order_line_id": line.order_line_id,
        "amount": str(line.price + 1),
        "shipping_amount": "0",
        "reason_code": "11",
    }
    refund = "/api/orders/refund"
    assert (await client.put(refund, json={"refunds": [too_much]}, headers=OPERATOR_KEY)).status_code == 400
    partial = too_much | {"amount": "2.00"}
    created = (await client.put(refund, json={"refunds": [partial]}, headers=OPERATOR_KEY)).json()["refunds"]
    refund_id = created[0]["refund_id"]
    pending = (await client.get("/api/payment/refund")).json()
    refund = pending["orders"]["order"][0]["order_lines"]["order_line"][0]["refunds"]["refund"][0]
    assert pending["total_count"] == 1 and refund["id"] == refund_id
    wrong = {"refund_id": refund_id, "payment_status": "OK", "amount": "2.00"}
    assert (await client.put("/api/payment/refund", json={"refunds": [wrong]})).status_code == 400
    ok = wrong | {"amount": refund["amount"]}
    assert (await client.put("/api/payment/refund", json={"refunds": [ok]})).status_code == 204
    assert (await client.get("/api/payment/refund")).json()["total_count"] == 0
    order = (await client.get("/api/orders", params={"order_ids": order_id})).json()["orders"][0]
    assert order["order_lines"][0]["refunds"][0]["refund_state"] == "REFUNDED"
    types = [t.type for t in store(app).transactions(order_id)]
    assert "REFUND_ORDER_AMOUNT" in types and "REFUND_COMMISSION_FEE" in types


async def test_seller_raised_refund_lands_in_pa12(client: httpx.AsyncClient, app: Any) -> None:
    order_id = await shipping_order(client, app)
    response = await client.post(f"/_sandbox/orders/{order_id}/refund", json={"amount": "1.50"})
    assert response.status_code == 201
    pending = (await client.get("/api/payment/refund")).json()["orders"]["order"]
    assert [p["order_id"] for p in pending] == [order_id]


async def test_injected_rate_limit_answers_429_with_retry_after_and_mirakl_body(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"path": "^/api/orders$", "burst_429": 1})
    limited = await client.get("/api/orders")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json() == {"message": "Too Many Requests", "status": 429}
    assert (await client.get("/api/orders")).status_code == 200


async def test_refused_debit_cancels_and_restocks_while_cancel_after_debit_is_400(
    client: httpx.AsyncClient, app: Any
) -> None:
    offer = orderable(app, OPEN_SHOP)
    stock = offer.quantity
    await client.post("/api/orders", json=order_body("BC700", [offer]))
    await client.post("/_sandbox/tick")
    refusal = {"order_id": "BC700-A", "customer_id": "C-1", "payment_status": "REFUSED"}
    assert (await client.put("/api/payment/debit", json={"orders": [refusal]})).status_code == 204
    assert store(app).order("BC700-A").state == "CANCELED" and offer.quantity == stock
    debited = await shipping_order(client, app, "BC701")
    late = await client.put(f"/api/orders/{debited}/cancel")
    assert late.status_code == 400 and "Current status is SHIPPING" in late.json()["message"]


async def test_or21_partial_acceptance_refuses_only_the_refused_line(client: httpx.AsyncClient, app: Any) -> None:
    offers = [o for o in store(app).catalog.offers.values() if o.shop_id == OPEN_SHOP and o.quantity > 0]
    catalog = store(app).catalog
    first, second = [o for o in offers if catalog.is_active(o)][:2]
    await client.post("/api/orders", json=order_body("BC800", [first, second]))
    missing = await client.put(
        "/api/orders/BC800-A/accept", json={"order_lines": [{"id": "BC800-A-1", "accepted": True}]}
    )
    assert missing.status_code == 400 and "DECISION_MISSING" in missing.json()["message"]
    decisions = [{"id": "BC800-A-1", "accepted": True}, {"id": "BC800-A-2", "accepted": False}]
    assert (await client.put("/api/orders/BC800-A/accept", json={"order_lines": decisions})).status_code == 204
    order = store(app).order("BC800-A")
    assert order.state == "WAITING_DEBIT_PAYMENT"
    assert [line.state for line in order.lines] == ["WAITING_DEBIT_PAYMENT", "REFUSED"]
    assert order.debitable() == first.price + Decimal("5.00") + Decimal("1.40")
