"""On a hybrid tenant a dropship offer's `prices[]` are purchase prices: the storefront never shows one.

By default the bridge asks Mirakl for marketplace offers only (OF52/OF51 `models`), as Mirakl's own connectors
do; an operator who also sells dropship offers gets them at their retail price (`retail_prices[]` in OF54,
`retail-price` in OF51). The sandbox seeds one DROPSHIP seller whose purchase price undercuts every seller and
whose retail price is just below the best marketplace price, so reading the wrong price shows at once.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.config import BridgeConfig, load_config
from bridge.runtime import use_runtime
from connectors.state import OfferBookEntry, OfferMapping
from flows.offer_sync import offer_sync
from sandbox.app import Sandbox
from tests.flows.test_offer_sync import mirakl_store, sandbox_runtime, variant_for


def config_with(**offers: Any) -> BridgeConfig:
    config = load_config()
    return config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0, **offers})})


def dropship_offer(sandbox: Sandbox) -> Any:
    [offer] = [o for o in mirakl_store(sandbox).catalog.offers.values() if o.model == "DROPSHIP"]
    rivals = [o for o in mirakl_store(sandbox).catalog.offers.values() if o.product_sku == offer.product_sku]
    assert offer.price < offer.retail_price  # purchase below retail, and below every rival's price
    assert all(o.price > offer.retail_price for o in rivals if o is not offer)
    return offer


async def test_by_default_only_marketplace_offers_are_requested_and_no_purchase_price_is_pushed(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    offer = dropship_offer(sandbox)
    rt = await sandbox_runtime(sandbox, tmp_path, config_with())
    try:
        with use_runtime(rt):
            await offer_sync(mode="full")
    finally:
        await rt.aclose()

    requests = [json.loads(export.request_key) for export in mirakl_store(sandbox).exports.values()]
    assert [r["models"] for r in requests] == [["MARKETPLACE"]]
    with rt.sessions() as session:
        assert session.get(OfferBookEntry, offer.offer_id) is None
        row = session.scalars(select(OfferMapping).where(OfferMapping.product_sku == offer.product_sku)).one()
    variant = variant_for(sandbox, offer.product_sku)
    assert row.purchasable and row.offer_id != offer.offer_id  # a marketplace seller sells it
    assert Decimal(str(variant["price"])) == row.price > offer.retail_price > offer.price


@pytest.mark.parametrize("export", ["OF52", "OF51"])
async def test_a_dropship_offer_sells_at_its_retail_price_never_its_purchase_price(
    sandbox: Sandbox, tmp_path: Path, export: str
) -> None:
    offer = dropship_offer(sandbox)
    rt = await sandbox_runtime(sandbox, tmp_path, config_with(export=export, models=("MARKETPLACE", "DROPSHIP")))
    try:
        with use_runtime(rt):
            await offer_sync(mode="full")
    finally:
        await rt.aclose()

    with rt.sessions() as session:
        row = session.scalars(select(OfferMapping).where(OfferMapping.product_sku == offer.product_sku)).one()
    variant = variant_for(sandbox, offer.product_sku)
    assert row.offer_id == offer.offer_id  # the retail price is the best price on offer
    assert Decimal(str(variant["price"])) == offer.retail_price != offer.price
    assert variant["purchasing_disabled"] is False
