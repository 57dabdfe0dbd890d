"""One bad offer row never stops the offer sync: it is quarantined with its reason, its offer stops selling, and
every other offer of the same export (another seller's stock-out above all) still reaches BigCommerce in the run.

The bad rows are planted in the sandbox's export as a hostile feed would send them: text where a number belongs,
quantities of 2^31 and 2^63 (the spec says int32), a 300-character SKU and one with a zero-width character. The
same scenario runs on SQLite and, when `BCMIRAKL_TEST_POSTGRES_URL` is set, on PostgreSQL, whose column types
are what a 2^31 quantity or a 300-character SKU used to break.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bridge.config import BridgeConfig, load_config
from bridge.runtime import Runtime, use_runtime
from bridge.simclock import SimulatedClock
from connectors.state import OfferMapping, QuarantineRecord
from flows.offer_sync import offer_sync
from sandbox.app import Sandbox
from sandbox.seed import SeedConfig
from tests.flows.test_offer_sync import GOOD_SHOP, bc_store, sandbox_runtime, set_offers, variant_for
from tests.support.clock import budget_clock_kwargs, budgeted_sandbox
from tests.support.postgres import postgres_schema

REJECTED_EVENT = "bcmirakl.gate.records-rejected"


@pytest.fixture
def bridge_config() -> BridgeConfig:
    config = load_config()
    return config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0})})


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None (the runtime's SQLite file), or a fresh schema on the test PostgreSQL."""
    if request.param == "sqlite":
        yield None
        return
    with postgres_schema(f"bcmirakl_bad_records_{os.getpid()}") as url:
        yield url


async def plant_defects(sandbox: Sandbox, defects: dict[int, dict[str, Any]]) -> None:
    body = {"defects": [{"offer_id": offer_id, "fields": fields} for offer_id, fields in defects.items()]}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url) as c:
        (await c.post("/mirakl/_sandbox/offers/defects", json=body)).raise_for_status()


def winners(rt: Runtime) -> dict[str, OfferMapping]:
    with rt.sessions() as session:
        rows = session.scalars(select(OfferMapping).where(OfferMapping.purchasable.is_(True))).all()
    return {row.product_sku: row for row in rows}


def quarantined(rt: Runtime) -> list[QuarantineRecord]:
    with rt.sessions() as session:
        return list(session.scalars(select(QuarantineRecord).where(QuarantineRecord.reason.contains("rejected"))))


def assert_storefront_follows_the_bridge(sandbox: Sandbox, rt: Runtime, skus: list[str]) -> None:
    with rt.sessions() as session:
        rows = {
            r.product_sku: r for r in session.scalars(select(OfferMapping).where(OfferMapping.product_sku.in_(skus)))
        }
    for sku in skus:
        variant = variant_for(sandbox, sku)
        assert variant["purchasing_disabled"] is (not rows[sku].purchasable), sku
        assert variant["inventory_level"] == (rows[sku].quantity or 0), sku


async def test_one_malformed_offer_among_thousands_is_quarantined_and_every_other_stock_out_is_pushed(
    tmp_path: Path, bridge_config: BridgeConfig, sim_clock: SimulatedClock
) -> None:
    sandbox = budgeted_sandbox(sim_clock, seed=SeedConfig(marketplace_products=1000, orders=0))
    rt = await sandbox_runtime(sandbox, tmp_path, bridge_config, sim_clock)
    try:
        with use_runtime(rt):
            await offer_sync(mode="full")
            sold = sorted(winners(rt).values(), key=lambda r: r.product_sku)
            assert len(sold) >= 300
            broken, stocked_out = sold[0], sold[1:301]
            await plant_defects(sandbox, {broken.offer_id: {"quantity": "lots"}})
            await set_offers(sandbox, [{"offer_id": r.offer_id, "quantity": 0} for r in stocked_out])
            report = await offer_sync(mode="full")  # one chunk of every offer: the malformed one among ~2,000
            await plant_defects(sandbox, {broken.offer_id: {"quantity": "still lots"}})
            again = await offer_sync(mode="delta")
    finally:
        await rt.aclose()

    now_sold = winners(rt)
    assert all(
        now_sold.get(r.product_sku) is None or now_sold[r.product_sku].offer_id != r.offer_id for r in stocked_out
    )
    assert_storefront_follows_the_bridge(sandbox, rt, [r.product_sku for r in stocked_out])
    assert report.counts["changed"] >= len(stocked_out)
    assert report.counts["queue_left"] == 0
    # The malformed offer no longer sells its product, whatever it said: its seller's row is blocked (fail safe).
    assert now_sold.get(broken.product_sku) is None or now_sold[broken.product_sku].offer_id != broken.offer_id
    assert_storefront_follows_the_bridge(sandbox, rt, [broken.product_sku])
    assert report.counts["records_rejected"] == again.counts["records_rejected"] == 1
    assert report.tables["rejected-records"] == [
        {
            "operation": "OF54",
            "record_key": str(broken.offer_id),
            "reason": report.tables["rejected-records"][0]["reason"],
        }
    ]
    assert "quantity" in report.tables["rejected-records"][0]["reason"]
    rows = quarantined(rt)
    assert [r.record_key for r in rows] == [str(broken.offer_id)] * 2
    assert rows[0].payload["raw"]["quantity"] == "lots" and rows[0].payload["raw"]["product_sku"] == broken.product_sku
    assert [a.event for a in report.alerts].count(REJECTED_EVENT) == 1
    assert REJECTED_EVENT not in [a.event for a in again.alerts]  # the same episode: alerted once


async def test_values_no_storefront_can_hold_are_quarantined_per_record_and_another_sellers_stock_out_applies(
    tmp_path: Path, bridge_config: BridgeConfig, database_url: str | None, sim_clock: SimulatedClock
) -> None:
    from bridge.runtime import build_runtime
    from bridge.sandbox_settings import sandbox_settings

    sandbox = budgeted_sandbox(sim_clock)
    transport = httpx.ASGITransport(app=sandbox.app)
    rt = build_runtime(
        sandbox_settings(sandbox.base_url, tmp_path, database_url),
        config=bridge_config,
        transport=transport,
        **budget_clock_kwargs(sim_clock),
    )
    try:
        with use_runtime(rt):
            await offer_sync(mode="full")
            sold = sorted(winners(rt).values(), key=lambda r: r.product_sku)
            good = [r for r in sold if r.shop_id == GOOD_SHOP]
            others = [r for r in sold if r.shop_id != GOOD_SHOP] or good[4:]
            hostile = {
                good[0].offer_id: {"quantity": 2**31},
                good[1].offer_id: {"quantity": 2**63},
                good[2].offer_id: {"product_sku": "X" * 300},
                good[3].offer_id: {"product_sku": "MKP\u200b-000001"},
            }
            await plant_defects(sandbox, hostile)
            stock_out = others[-1]
            await set_offers(sandbox, [{"offer_id": stock_out.offer_id, "quantity": 0}])
            report = await offer_sync(mode="delta")
    finally:
        await rt.aclose()

    assert report.counts["records_rejected"] == len(hostile)
    reasons = {row["record_key"]: row["reason"] for row in report.tables["rejected-records"]}
    assert set(reasons) == {str(offer_id) for offer_id in hostile}
    assert "less than or equal to 2147483647" in reasons[str(good[0].offer_id)]
    assert "less than or equal to 2147483647" in reasons[str(good[1].offer_id)]
    assert "1 to 255 characters, got 300" in reasons[str(good[2].offer_id)]
    assert "invisible characters (U+200B)" in reasons[str(good[3].offer_id)]
    assert len(quarantined(rt)) == len(hostile)
    now_sold = winners(rt)
    assert now_sold.get(stock_out.product_sku) is None or now_sold[stock_out.product_sku].offer_id != stock_out.offer_id
    assert_storefront_follows_the_bridge(sandbox, rt, [stock_out.product_sku] + [r.product_sku for r in good[:4]])
    assert all(now_sold.get(r.product_sku) is None or now_sold[r.product_sku].offer_id != r.offer_id for r in good[:4])
    assert bc_store(sandbox).variant_by_sku(stock_out.product_sku)["inventory_level"] == (
        now_sold[stock_out.product_sku].quantity if stock_out.product_sku in now_sold else 0
    )
