"""The control endpoints benchmarks use to drive a sandbox served from another process: sellers churning
offers, products selling out, and the BigCommerce quota window rescaled and read."""

from __future__ import annotations

import httpx
import pytest

from sandbox.bigcommerce import BigCommerceSandboxSettings, create_bigcommerce_app
from sandbox.mirakl import MiraklSandboxSettings, create_mirakl_app
from sandbox.seed import World, build_world
from tests.support.clock import FakeClock

V3 = "/stores/sandbox/v3"
TOKEN = {"X-Auth-Token": "sandbox-token"}


@pytest.fixture
def world() -> World:
    return build_world()


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


async def test_churn_changes_the_requested_share_of_live_offers_and_moves_them_into_the_delta(world: World) -> None:
    app = create_mirakl_app(world, MiraklSandboxSettings())
    catalog = app.state.store.catalog
    live = [o for o in catalog.offers.values() if not o.deleted]
    before = {o.offer_id: o.quantity for o in live}
    since = max(o.last_updated for o in catalog.offers.values())
    async with _client(app) as client:
        answer = await client.post("/_sandbox/offers/churn", json={"share": 0.5, "stock_out_share": 0.5, "seed": 3})
    assert answer.status_code == 200
    touched = [o for o in live if o.last_updated > since]
    assert answer.json()["changed"] == int(len(live) * 0.5) == len(touched)
    assert all(o.quantity in (0, before[o.offer_id] + 1) for o in touched)
    assert any(o.quantity == 0 for o in touched) and any(o.quantity > 0 for o in touched)
    assert {o.offer_id for o in catalog.select(since)} >= {o.offer_id for o in touched}


async def test_stock_out_sets_every_offer_of_the_products_to_zero_and_leaves_others(world: World) -> None:
    app = create_mirakl_app(world, MiraklSandboxSettings())
    catalog = app.state.store.catalog
    by_sku: dict[str, list[int]] = {}
    for offer in catalog.offers.values():
        if not offer.deleted:
            by_sku.setdefault(offer.product_sku, []).append(offer.offer_id)
    sku = next(s for s, ids in by_sku.items() if len(ids) > 1)
    untouched = {o.offer_id: o.quantity for o in catalog.offers.values() if o.product_sku != sku}
    async with _client(app) as client:
        answer = await client.post("/_sandbox/offers/stock-out", json={"product_skus": [sku]})
    assert answer.status_code == 200
    assert sorted(answer.json()["offer_ids"]) == sorted(by_sku[sku])
    assert all(catalog.offers[i].quantity == 0 for i in by_sku[sku])
    assert {o.offer_id: o.quantity for o in catalog.offers.values() if o.product_sku != sku} == untouched


async def test_rescaled_rate_window_is_enforced_from_the_next_request_and_reported(world: World) -> None:
    app = create_bigcommerce_app(world, BigCommerceSandboxSettings(quota=10_000, clock=FakeClock()))
    async with _client(app) as client:
        rescaled = await client.put("/_sandbox/rate-window", json={"quota": 2, "window_ms": 500})
        assert rescaled.json() == {"quota": 2, "window_ms": 500, "requests_served": 0}
        statuses = [(await client.get(f"{V3}/inventory/locations", headers=TOKEN)).status_code for _ in range(3)]
        state = (await client.get("/_sandbox/rate-window")).json()
    assert statuses == [200, 200, 429]
    assert state == {"quota": 2, "window_ms": 500, "requests_served": 2}
