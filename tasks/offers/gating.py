"""The offers gate, per seller: flags the `offers` suite reads, and the verdict on each seller's batch.

The suite holds the fixed rules; the bounds that are configuration (price ceiling, store currency, allowed
price change against the last pushed price) become boolean columns here. Each seller's offers are gated as
one batch, because a feed is a seller's: when most of one seller's rows are bad the breaker trips for that
seller alone, whose offers then become unbuyable, while the other sellers' offers still go through.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pandas as pd

from bridge.config import OfferSyncConfig
from expectations import run_gate

__all__ = ["SUITE", "SellerVerdicts", "gate_by_seller", "gate_flags"]

SUITE = "offers"


@dataclass
class SellerVerdicts:
    """Offers refused by the gate (with reasons), and the sellers whose batch tripped the breaker."""

    failed: pd.DataFrame
    tripped: dict[int, tuple[int, int]] = field(default_factory=dict)  # shop id -> (failed rows, rows)


def gate_flags(
    offers: pd.DataFrame,
    last_price: pd.Series,
    open_shops: set[int],
    config: OfferSyncConfig,
    currency: str,
) -> pd.DataFrame:
    """The suite's input: one row per offer with the configuration-dependent checks as booleans."""
    previous = last_price.reindex(offers["product_sku"]).to_numpy()
    drop_floor = Decimal(str(1 - config.max_price_drop))
    rise_cap = Decimal(str(config.max_price_rise))
    below, change_ok = [], []
    for price, last in zip(offers["price"], previous, strict=True):
        known = price is not None and not pd.isna(price)
        below.append(bool(known and price <= config.price_ceiling) if known else None)
        if not known:
            change_ok.append(None)
        elif last is None or pd.isna(last) or last <= 0:
            change_ok.append(True)
        else:
            change_ok.append(bool(last * drop_floor <= price <= last * rise_cap))
    quantity = offers["quantity"]
    quantity = quantity.astype("int64") if quantity.notna().all() else quantity.astype(object)
    return pd.DataFrame(
        {
            "offer_id": offers["offer_id"].to_numpy(),
            "shop_id": offers["shop_id"].to_numpy(),
            "product_sku": offers["product_sku"].to_numpy(),
            "price": offers["price"].to_numpy(),
            "price_below_ceiling": below,
            "quantity": quantity.to_numpy(),
            "currency_ok": (offers["currency"] == currency).to_numpy(),
            "shop_active": offers["shop_id"].isin(list(open_shops)).to_numpy(),
            "price_change_ok": change_ok,
        }
    )


def gate_by_seller(flags: pd.DataFrame) -> SellerVerdicts:
    """Run the suite on each seller's rows; failed rows carry `reason`, tripped sellers are named."""
    failed: list[pd.DataFrame] = []
    tripped: dict[int, tuple[int, int]] = {}
    for shop_id, rows in flags.groupby("shop_id", sort=True, dropna=False):
        result = run_gate(rows.reset_index(drop=True), SUITE)
        if not result.failed.empty:
            failed.append(result.failed)
        if result.tripped and not pd.isna(shop_id):
            tripped[int(shop_id)] = (len(result.failed), len(rows))
    frame = pd.concat(failed, ignore_index=True) if failed else flags.iloc[0:0].assign(reason=[])
    return SellerVerdicts(frame, tripped)
