"""The drift monitor on the sandbox: a planted buyable-but-out-of-stock variant is counted and raises its event,
each step says in one log line what it read and decided, and mapping errors read as offer sync counts them."""

from __future__ import annotations

import logging

import pytest

from bridge.config import BridgeConfig, load_config
from bridge.runtime import Runtime, use_runtime
from flows.drift_monitor import drift_monitor
from flows.offer_sync import offer_sync
from sandbox.app import Sandbox
from tests.handbook import handbook_columns


@pytest.fixture
def bridge_config() -> BridgeConfig:
    config = load_config()
    return config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0})})


async def test_drift_monitor_counts_a_planted_oos_buyable_variant_and_emits_its_event(
    runtime: Runtime, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with use_runtime(runtime):
        synced = await offer_sync(mode="full")
        clean = await drift_monitor()
        store = sandbox.bigcommerce.state.store
        offers = sandbox.mirakl.state.store.catalog.offers.values()
        sellable = {o.product_sku for o in offers if o.active and o.quantity > 0 and o.shop_id == 2000}
        planted = next(p for p in sandbox.world.products if p.listed and p.product_sku not in sellable)
        variant = store.variant(planted.bc_variant_id)
        store.set_variant_fields(variant, {"inventory_level": 7, "purchasing_disabled": False})
        caplog.clear()
        report = await drift_monitor()
    steps = [r.getMessage().split(":", 1)[0] for r in caplog.records if r.name.startswith("prefect.flow_runs")]
    for step in (
        "Mirakl offers and seller health read",
        "BigCommerce variants read",
        "drift measured",
        "drift thresholds checked",
    ):
        assert steps.count(step) == 1, step  # each step tells its own line, once
    assert clean.counts["oos_buyable"] == 0
    assert report.counts["oos_buyable"] == 1
    assert report.tables["oos-buyable"][0]["product_sku"] == planted.product_sku
    assert report.counts["value_at_risk"] == str(variant["price"])
    assert [a.payload["count"] for a in report.alerts if a.event == "bcmirakl.drift.oos-buyable"] == [1]
    assert (report.counts["sellers_feed_failed"], report.counts["sellers_feed_partial"]) == (1, 1)
    # One figure, one value: both streams count products (SKUs) without a listing, those offer sync lists.
    assert synced.counts["mapping_errors"] > 0
    assert clean.counts["mapping_errors"] == synced.counts["mapping_errors"]
    assert clean.counts["mapping_errors"] == len({row["product_sku"] for row in synced.tables["mapping-errors"]})
    # Per seller, its own SKUs: one offered by two sellers counts under each, never above the distinct figure.
    assert 0 < max(row["mapping_errors"] for row in clean.tables["sellers"]) <= clean.counts["mapping_errors"]
    # The handbook lists the columns these tables really have, and per-seller tables name the seller.
    tables = {
        "drift-monitor-sellers": report.tables["sellers"],
        "drift-monitor-oos-buyable": report.tables["oos-buyable"],
        "offer-sync-delta-changes": synced.tables["changes"],
        "offer-sync-delta-sellers-failed": synced.tables["sellers-failed"],
    }
    for key, rows in tables.items():
        assert rows and list(rows[0]) == handbook_columns(key), key
    assert all(row["seller"] for row in report.tables["sellers"] + synced.tables["sellers-failed"])
