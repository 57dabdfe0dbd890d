"""A partial seller import (lines in error beside lines in success) is not a failed feed: the seller's good offers
stay buyable, and the lines in error are reported per seller with Mirakl's OF03 error report summarised (read once
per import). Only a FAILED import, or one whose error share reaches the configured threshold, fails the feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.config import BridgeConfig, load_config
from bridge.runtime import Runtime, use_runtime
from bridge.streams import Stream
from connectors.state import unresolved_cs_cases
from flows.offer_sync import offer_sync
from sandbox.app import Sandbox
from tasks.offers.partial_imports import CASE_KIND
from tests.flows.test_offer_sync import PARTIAL_SHOP, mirakl_store, sandbox_runtime, variant_for


def config_with(**offers: Any) -> BridgeConfig:
    config = load_config()
    update = {"export_poll_seconds": 0.0, **offers}
    return config.model_copy(update={"offers": config.offers.model_copy(update=update)})


@pytest.fixture
def bridge_config() -> BridgeConfig:
    return config_with()


@pytest.fixture
async def runtime(sandbox: Sandbox, tmp_path: Path, bridge_config: BridgeConfig) -> AsyncIterator[Runtime]:
    rt = await sandbox_runtime(sandbox, tmp_path, bridge_config)
    try:
        yield rt
    finally:
        await rt.aclose()


def sole_offer_of(sandbox: Sandbox, shop_id: int) -> str:
    """A listed product whose only offer is a buyable one of `shop_id`."""
    by_sku: dict[str, list[Any]] = {}
    for offer in mirakl_store(sandbox).catalog.offers.values():
        by_sku.setdefault(offer.product_sku, []).append(offer)
    listed = {p.product_sku for p in sandbox.world.products if p.listed}
    for sku, group in sorted(by_sku.items()):
        only = group[0]
        if sku in listed and len(group) == 1 and only.shop_id == shop_id and only.quantity > 0 and only.active:
            return sku
    raise AssertionError(f"the seeded world has no single-offer product from shop {shop_id}")


async def post_import(sandbox: Sandbox, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url) as c:
        (await c.post("/mirakl/_sandbox/imports", json=body)).raise_for_status()


def partial_cases(rt: Runtime) -> dict[str, dict[str, Any]]:
    with rt.sessions() as session:
        return {
            c.key: dict(c.detail or {}) for c in unresolved_cs_cases(session, Stream.OFFER_SYNC) if c.kind == CASE_KIND
        }


async def test_a_routine_partial_import_keeps_the_sellers_good_offers_buyable_and_reports_its_lines_in_error(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    sku = sole_offer_of(sandbox, PARTIAL_SHOP)
    seeded = next(i for i in mirakl_store(sandbox).imports.imports.values() if i.shop_id == PARTIAL_SHOP)
    assert 0 < seeded.lines_in_error < seeded.lines_read
    with use_runtime(runtime):
        first = await offer_sync(mode="full")
        again = await offer_sync(mode="delta")

    variant = variant_for(sandbox, sku)
    assert variant["purchasing_disabled"] is False and variant["inventory_level"] > 0
    assert not [a for a in first.alerts if a.event == "bcmirakl.feed.failed" and a.payload["shop_id"] == PARTIAL_SHOP]
    [row] = first.tables["partial-imports"]
    assert (row["shop_id"], row["import_id"], row["lines_in_error"]) == (
        PARTIAL_SHOP,
        seeded.import_id,
        seeded.lines_in_error,
    )
    assert row["error_report"] == f"/api/offers/imports/{seeded.import_id}/error_report"
    assert "The product does not exist" in row["top_errors"]
    assert row["error_lines"].startswith("2,5")
    assert again.tables["partial-imports"] == first.tables["partial-imports"]
    assert runtime.mirakl.transport.calls["OF03"] == 1  # the report is read once per import, not every run
    assert set(partial_cases(runtime)) == {f"shop:{PARTIAL_SHOP}"}
    assert any(f"shop {PARTIAL_SHOP}: import {seeded.import_id} is partial" in note for note in first.notes)


async def test_a_clean_import_closes_the_partial_case_and_a_new_partial_one_is_read_again(
    runtime: Runtime, sandbox: Sandbox
) -> None:
    with use_runtime(runtime):
        await offer_sync(mode="full")
        await post_import(sandbox, {"shop_id": PARTIAL_SHOP, "status": "COMPLETE", "lines_read": 12})
        clean = await offer_sync(mode="delta")
        assert partial_cases(runtime) == {}
        await post_import(
            sandbox, {"shop_id": PARTIAL_SHOP, "status": "COMPLETE", "lines_read": 12, "lines_in_error": 2}
        )
        newer = await offer_sync(mode="delta")

    assert clean.counts["sellers_partial"] == 0
    assert [r["lines_in_error"] for r in newer.tables["partial-imports"]] == [2]
    assert runtime.mirakl.transport.calls["OF03"] == 2
    assert partial_cases(runtime)[f"shop:{PARTIAL_SHOP}"]["lines_in_error"] == 2


async def test_an_error_share_at_the_configured_threshold_fails_the_feed_and_its_offers_go_unbuyable(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sku = sole_offer_of(sandbox, PARTIAL_SHOP)
    rt = await sandbox_runtime(sandbox, tmp_path, config_with(feed_failure_error_share=0.2))
    try:
        with use_runtime(rt):
            report = await offer_sync(mode="full")
    finally:
        await rt.aclose()

    variant = variant_for(sandbox, sku)
    assert (variant["inventory_level"], variant["purchasing_disabled"]) == (0, True)
    assert any(a.event == "bcmirakl.feed.failed" and a.payload["shop_id"] == PARTIAL_SHOP for a in report.alerts)
    assert report.tables["partial-imports"] == []
