"""The offer sync flow on the sandbox: stock-outs, deletions and failed feeds become unbuyable, native SKUs
stay untouched, a 429 storm loses no change, a crashed run's queue is drained by the next one, unchanged offers
cost no call, the offer metafield follows the winner, and stock-only changes take one inventory call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bridge.config import BridgeConfig, load_config
from bridge.runtime import Runtime, build_runtime, use_runtime
from bridge.sandbox_settings import SANDBOX_MIRAKL_API_KEY, sandbox_settings
from bridge.simclock import SimulatedClock
from bridge.streams import Stream
from connectors.bigcommerce import BigCommerceClient
from connectors.state import OfferMapping, OutboxItem, queue_depth
from flows.offer_sync import offer_sync
from sandbox.app import Sandbox, create_sandbox
from sandbox.faults import FaultRule
from sandbox.mirakl import MiraklSandboxSettings
from sandbox.seed import SeedConfig
from tests.support.clock import budget_clock_kwargs, budgeted_sandbox

FAILED_SHOP = 2001  # the seeded FAILED import
PARTIAL_SHOP = 2002  # the seeded import with lines in error
GOOD_SHOP = 2000


@pytest.fixture
def bridge_config() -> BridgeConfig:
    config = load_config()
    return config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0})})


async def _no_sleep(seconds: float) -> None:
    return None


async def sandbox_runtime(
    sandbox: Sandbox, tmp_path: Path, config: BridgeConfig, clock: SimulatedClock | None = None
) -> Runtime:
    """A runtime on `sandbox` whose BigCommerce retries and Mirakl budget waits take no real time (on `clock`, by
    default the one the budgeted sandbox enforces its call budgets on)."""
    transport = httpx.ASGITransport(app=sandbox.app)
    settings = sandbox_settings(sandbox.base_url, tmp_path)
    clock = clock or sandbox.extra["budget_clock"]
    rt = build_runtime(settings, config=config, transport=transport, **budget_clock_kwargs(clock))
    await rt.bigcommerce.aclose()
    rt.bigcommerce = BigCommerceClient.create(
        settings.bc_base_url, "sandbox", "sandbox-token", transport=transport, sleep=_no_sleep
    )
    return rt


@pytest.fixture
async def runtime(
    sandbox: Sandbox, tmp_path: Path, bridge_config: BridgeConfig, sim_clock: SimulatedClock
) -> AsyncIterator[Runtime]:
    rt = await sandbox_runtime(sandbox, tmp_path, bridge_config, sim_clock)
    try:
        yield rt
    finally:
        await rt.aclose()


def bc_store(sandbox: Sandbox) -> Any:
    return sandbox.bigcommerce.state.store


def mirakl_store(sandbox: Sandbox) -> Any:
    return sandbox.mirakl.state.store


async def set_offers(sandbox: Sandbox, changes: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url) as c:
        response = await c.post("/mirakl/_sandbox/offers", json={"offers": changes})
        response.raise_for_status()


def variant_for(sandbox: Sandbox, sku: str) -> dict[str, Any]:
    return bc_store(sandbox).variant_by_sku(sku)


def single_good_offer_product(sandbox: Sandbox) -> tuple[str, int]:
    """A listed product whose only buyable offer is from the healthy open shop, and that offer's id."""
    offers = mirakl_store(sandbox).catalog.offers.values()
    by_sku: dict[str, list[Any]] = {}
    for offer in offers:
        by_sku.setdefault(offer.product_sku, []).append(offer)
    listed = {p.product_sku for p in sandbox.world.products if p.listed}
    for sku, group in sorted(by_sku.items()):
        if (
            sku in listed
            and len(group) == 1
            and group[0].shop_id == GOOD_SHOP
            and group[0].quantity > 0
            and group[0].active
        ):
            return sku, group[0].offer_id
    raise AssertionError("the seeded world has no single-offer product from the good shop")


async def test_full_run_pushes_best_offers_and_leaves_failed_sellers_unbuyable_but_not_partial_ones(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    with use_runtime(runtime):
        report = await offer_sync(mode="full")
    assert report.counts["mode"] == "full"
    assert report.counts["pushed"] == report.counts["changed"] > 0
    store = bc_store(sandbox)
    buyable = [v for v in store.variants.values() if not v["purchasing_disabled"] and v["inventory_level"] > 0]
    for variant in buyable:
        assert store.offer_owner(variant["id"]) == "mirakl" or variant["sku"].startswith("NAT-")
    with runtime.sessions() as session:
        rows = {r.product_sku: r for r in session.scalars(select(OfferMapping))}
    sold_by = {r.shop_id for r in rows.values() if r.purchasable}
    assert sold_by == {GOOD_SHOP, PARTIAL_SHOP}  # 2001 failed, 2003 is suspended; 2002's import is only partial
    assert report.counts["sellers_failed"] == 1
    assert report.counts["sellers_partial"] == 1
    assert {a.event for a in report.alerts} == {"bcmirakl.feed.failed"}


async def test_a_store_ignoring_undocumented_filters_maps_only_the_skus_mirakl_offers(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    # The sandbox ignores `sku:in`, `id:in` and `resource_id:in` (not in the catalog spec), so every listing
    # answers with unrelated variants and marks: only rows for the SKUs asked about may reach the offer map.
    listings = runtime.bigcommerce.transport.calls["iter_variants"]
    with use_runtime(runtime):
        await offer_sync(mode="full")
    with runtime.sessions() as session:
        mapped = {row.product_sku: row for row in session.scalars(select(OfferMapping))}
    offered = {offer.product_sku for offer in mirakl_store(sandbox).catalog.offers.values()}
    store = bc_store(sandbox)
    assert mapped and set(mapped) <= offered
    assert any(variant["sku"] not in offered for variant in store.variants.values())  # there were unrelated ones
    for sku, row in mapped.items():
        if row.bc_variant_id is not None:
            assert store.variants[row.bc_variant_id]["sku"] == sku
    # The marked variants' lookup swept the whole listing, which also held the SKUs the marks did not map (the
    # natives): the listing was read once, not once more for them.
    assert any(row.owner == "native" for row in mapped.values())
    assert runtime.bigcommerce.transport.calls["iter_variants"] - listings == -(-len(store.variants) // 250)


class _RecordingTransport(httpx.AsyncBaseTransport):
    """The sandbox's transport, remembering the host and `Authorization` of every request."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.url.host, request.headers.get("Authorization")))
        return await self.inner.handle_async_request(request)


@pytest.mark.parametrize("listed", [False, True], ids=["cdn_not_listed", "cdn_listed"])
async def test_export_chunks_on_another_host_are_fetched_only_when_that_host_is_listed(
    tmp_path: Path, bridge_config: BridgeConfig, listed: bool, sim_clock: SimulatedClock
) -> None:
    cdn = MiraklSandboxSettings(chunk_base_url="http://exports-cdn.example/mirakl", budget_clock=sim_clock.now)
    sandbox = create_sandbox(mirakl=cdn)
    transport = _RecordingTransport(httpx.ASGITransport(app=sandbox.app))
    hosts = ["exports-cdn.example"] if listed else []
    settings = sandbox_settings(sandbox.base_url, tmp_path, mirakl_chunk_hosts=hosts)
    runtime = build_runtime(settings, config=bridge_config, transport=transport, **budget_clock_kwargs(sim_clock))
    try:
        with use_runtime(runtime):
            state = await offer_sync(mode="full", return_state=True)
    finally:
        await runtime.aclose()

    to_cdn = [auth for host, auth in transport.seen if host == "exports-cdn.example"]
    if listed:
        assert state.is_completed() and to_cdn and set(to_cdn) == {SANDBOX_MIRAKL_API_KEY}
    else:
        assert state.is_failed() and to_cdn == []  # refused before any request: the key never left


async def test_stock_out_in_mirakl_makes_variant_unbuyable_after_one_delta(runtime: Runtime, sandbox: Sandbox) -> None:
    sku, offer_id = single_good_offer_product(sandbox)
    with use_runtime(runtime):
        await offer_sync(mode="full")
        assert variant_for(sandbox, sku)["inventory_level"] > 0
        await set_offers(sandbox, [{"offer_id": offer_id, "quantity": 0}])
        report = await offer_sync(mode="delta")
    variant = variant_for(sandbox, sku)
    assert variant["inventory_level"] == 0
    assert variant["purchasing_disabled"] is True
    assert variant["purchasing_disabled_message"] == runtime.config.offers.unbuyable_message
    assert report.counts["pushed"] == report.counts["changed"] == 1


async def test_deleted_offer_makes_variant_unbuyable(runtime: Runtime, sandbox: Sandbox) -> None:
    sku, offer_id = single_good_offer_product(sandbox)
    with use_runtime(runtime):
        await offer_sync(mode="full")
        await set_offers(sandbox, [{"offer_id": offer_id, "deleted": True}])
        report = await offer_sync(mode="delta")
    assert report.counts["offers_deleted"] == 1
    variant = variant_for(sandbox, sku)
    assert (variant["inventory_level"], variant["purchasing_disabled"]) == (0, True)


async def test_seller_whose_feed_failed_goes_unbuyable(runtime: Runtime, sandbox: Sandbox) -> None:
    sku, _ = single_good_offer_product(sandbox)
    with use_runtime(runtime):
        await offer_sync(mode="full")
        assert variant_for(sandbox, sku)["purchasing_disabled"] is False
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url) as c:
            body = {"shop_id": GOOD_SHOP, "status": "FAILED", "lines_read": 10}
            (await c.post("/mirakl/_sandbox/imports", json=body)).raise_for_status()
        report = await offer_sync(mode="delta")
    variant = variant_for(sandbox, sku)
    assert (variant["inventory_level"], variant["purchasing_disabled"]) == (0, True)
    assert any(a.event == "bcmirakl.feed.failed" and a.payload["shop_id"] == GOOD_SHOP for a in report.alerts)


async def test_seller_offering_a_native_sku_never_changes_the_native_product(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    native_sku = sandbox.world.collision_skus[0]
    before = dict(variant_for(sandbox, native_sku))
    with use_runtime(runtime):
        report = await offer_sync(mode="full")
        collision = next(o for o in mirakl_store(sandbox).catalog.offers.values() if o.product_sku == native_sku)
        await set_offers(sandbox, [{"offer_id": collision.offer_id, "price": "1.00", "quantity": 999}])
        again = await offer_sync(mode="delta")
    after = variant_for(sandbox, native_sku)
    assert {k: after[k] for k in ("price", "inventory_level", "purchasing_disabled")} == {
        k: before[k] for k in ("price", "inventory_level", "purchasing_disabled")
    }
    assert report.counts["sku_collisions"] == again.counts["sku_collisions"] == 1
    assert any("SKU collision" in reason for reason in again.quarantined)
    assert report.counts["mapping_errors"] == 2  # the seeded unlisted products


async def test_429_storm_still_pushes_every_change_exactly_once(runtime: Runtime, sandbox: Sandbox) -> None:
    sandbox.bigcommerce.state.faults.add_rule(FaultRule(path=r"/v3/catalog/variants$", method="PUT", burst_429=5))
    with use_runtime(runtime):
        report = await offer_sync(mode="full")
        rerun = await offer_sync(mode="full")
    with runtime.sessions() as session:
        depth = queue_depth(session, Stream.OFFER_SYNC)
        mapped = {r.product_sku: r for r in session.scalars(select(OfferMapping).where(OfferMapping.owner == "mirakl"))}
    assert sandbox.bigcommerce.state.faults.injected_total == 5
    assert depth["pending"] == depth["in_flight"] == 0
    assert depth["done"] == report.counts["changed"] + report.counts["metafields_written"]
    assert rerun.counts["changed"] == rerun.counts["pushed"] == 0
    store = bc_store(sandbox)
    for sku, row in mapped.items():
        variant = variant_for(sandbox, sku)
        assert variant["inventory_level"] == row.quantity
        assert variant["purchasing_disabled"] is (not row.purchasable)
        if row.purchasable:
            assert Decimal(str(variant["price"])) == row.price
    writes = store.variant_writes
    assert sum(writes.values()) == report.counts["changed"]
    assert max(writes.values()) == 1


async def test_run_killed_after_enqueueing_is_drained_by_the_rerun(
    runtime: Runtime, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.offer_sync as module

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker killed")

    with use_runtime(runtime):
        monkeypatch.setattr(module, "drain_outbox", crash)
        state = await offer_sync(mode="full", return_state=True)
        assert state.is_failed()
        with runtime.sessions() as session:
            everything = session.scalars(select(OutboxItem)).all()
        queued = [item for item in everything if item.kind == "variant"]
        assert queued and all(item.status == "pending" for item in everything)
        monkeypatch.undo()
        report = await offer_sync(mode="delta")
    assert report.counts["pushed"] == len(queued)
    assert sum(bc_store(sandbox).variant_writes.values()) == len(queued)
    assert report.counts["metafields_written"] == len(everything) - len(queued)
    with runtime.sessions() as session:
        assert queue_depth(session, Stream.OFFER_SYNC)["done"] == len(everything)


async def test_delta_whose_offers_are_all_unchanged_makes_no_bigcommerce_call(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    unlisted = {p.product_sku for p in sandbox.world.products if not p.listed}
    offers = mirakl_store(sandbox).catalog.offers.values()
    stray = next(o for o in offers if o.product_sku in unlisted)  # a known mapping error
    with use_runtime(runtime):
        await offer_sync(mode="full")
        with runtime.sessions() as session:
            sold = session.scalars(select(OfferMapping).where(OfferMapping.purchasable.is_(True))).first()
        assert sold is not None
        touched = [stray, mirakl_store(sandbox).catalog.offers[sold.offer_id]]
        await set_offers(sandbox, [{"offer_id": o.offer_id, "quantity": o.quantity} for o in touched])
        before = runtime.bigcommerce.transport.total_calls
        report = await offer_sync(mode="delta")
    assert report.counts["offers_read"] == 2  # re-exported, but nothing in them changed
    assert report.counts["mapping_errors"] == 1
    assert report.counts["changed"] == report.counts["metafields_changed"] == 0
    assert runtime.bigcommerce.transport.total_calls == before
    assert report.counts["api_calls_bigcommerce"] == 0


async def test_offer_metafield_carries_winner_and_runners_up_and_is_updated_by_id_only_on_change(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    namespace = runtime.config.offers.metafield_namespace
    store = bc_store(sandbox)
    with use_runtime(runtime):
        await offer_sync(mode="full")
        with runtime.sessions() as session:
            row = session.scalars(
                select(OfferMapping).where(OfferMapping.purchasable.is_(True)).order_by(OfferMapping.id)
            ).first()
        assert row is not None
        record = store.metafields.find("variant", row.bc_variant_id, namespace, "offer")
        assert record["permission_set"] == "read_and_sf_access"
        value = json.loads(record["value"])
        assert (value["offer_id"], value["shop_id"]) == (row.offer_id, row.shop_id)
        assert isinstance(value["runners_up"], list)
        metafield_id = record["id"]
        offer = mirakl_store(sandbox).catalog.offers[row.offer_id]
        await set_offers(sandbox, [{"offer_id": row.offer_id, "quantity": offer.quantity + 5}])
        stock = await offer_sync(mode="delta")
        await set_offers(sandbox, [{"offer_id": row.offer_id, "quantity": 0}])
        gone = await offer_sync(mode="delta")
    assert stock.counts["metafield_calls"] == 0  # same winner, same runners-up: nothing to write
    assert gone.counts["metafields_written"] == 1
    after = store.metafields.find("variant", row.bc_variant_id, namespace, "offer")
    assert after["id"] == metafield_id  # updated in place, never re-created
    assert json.loads(after["value"])["offer_id"] != row.offer_id
    with runtime.sessions() as session:
        mapped = session.scalars(select(OfferMapping).where(OfferMapping.product_sku == row.product_sku)).one()
    assert mapped.offer_id != row.offer_id


async def test_stock_only_changes_go_out_as_one_inventory_adjustment(
    tmp_path: Path, bridge_config: BridgeConfig, sim_clock: SimulatedClock
) -> None:
    sandbox = budgeted_sandbox(sim_clock, seed=SeedConfig(marketplace_products=1000, orders=0))
    rt = await sandbox_runtime(sandbox, tmp_path, bridge_config, sim_clock)
    try:
        with use_runtime(rt):
            await offer_sync(mode="full")
            with rt.sessions() as session:
                rows = session.scalars(select(OfferMapping).where(OfferMapping.purchasable.is_(True))).all()
            assert len(rows) >= 300
            chosen = rows[:300]
            await set_offers(sandbox, [{"offer_id": r.offer_id, "quantity": int(r.quantity or 0) + 7} for r in chosen])
            store = bc_store(sandbox)
            writes_before = sum(store.variant_writes.values())
            report = await offer_sync(mode="delta")
    finally:
        await rt.aclose()
    assert report.counts["stock_only_changes"] == report.counts["pushed"] == 300
    assert (report.counts["inventory_calls"], report.counts["push_batches"]) == (1, 0)
    assert sum(store.variant_writes.values()) == writes_before
    assert store.inventory_transactions[-1]["items"] == 300
    for r in chosen:
        assert variant_for(sandbox, r.product_sku)["inventory_level"] == int(r.quantity or 0) + 7
