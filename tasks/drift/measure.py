"""Drift measures: how far BigCommerce's Mirakl-owned variants are from what Mirakl says, in pure pandas.

Buyable means purchasing is enabled and stock is above zero. A buyable variant whose product has no sellable
Mirakl offer is the costly drift (value at risk = price x daily orders, or the price when that is unknown);
a buyable variant whose price differs from the best offer is a price mismatch; a variant whose Mirakl offer
changed after our last acknowledged push, longer ago than the threshold, is stale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pandas as pd

from connectors.money import round_money

__all__ = ["LATENCY_WINDOW", "DriftFindings", "measure_drift"]

# Latency is measured on stock-outs Mirakl recorded this recently; older ones predate the bridge's watch.
LATENCY_WINDOW = timedelta(hours=24)


@dataclass
class DriftFindings:
    oos_buyable: pd.DataFrame
    value_at_risk: Decimal
    price_mismatches: pd.DataFrame
    stale: int
    latency_p50_s: float
    latency_p95_s: float
    mapping_errors_by_shop: dict[int, int] = field(default_factory=dict)


def _price(value: object, currency: str) -> Decimal | None:
    """Prices compared to the currency's minor unit (a yen, a cent, a fils), whatever type each side arrived as."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return round_money(Decimal(str(value)), currency)


def measure_drift(
    variants: pd.DataFrame,
    winners: pd.DataFrame,
    mapping: pd.DataFrame,
    stale_after: timedelta,
    now: datetime,
    daily_orders: pd.Series | None = None,
    *,
    currency: str,
) -> DriftFindings:
    """`variants`: product_sku, variant_id, price, inventory_level, purchasing_disabled (BigCommerce now)."""
    frame = variants.set_index("product_sku")
    buyable = (~frame["purchasing_disabled"].astype(bool)) & (frame["inventory_level"].fillna(0) > 0)
    has_offer = frame.index.isin(winners.index)
    oos = frame[buyable & ~has_offer].copy()
    per_day = (daily_orders if daily_orders is not None else pd.Series(dtype=object)).reindex(oos.index)
    oos["value_at_risk"] = [
        (price or Decimal(0)) * (Decimal(int(n)) if n is not None and not pd.isna(n) else Decimal(1))
        for price, n in zip(oos["price"], per_day, strict=True)
    ]
    sold = frame[buyable & has_offer]
    best = winners["price"].reindex(sold.index)
    differs = pd.Series(
        [_price(bc, currency) != _price(mk, currency) for bc, mk in zip(sold["price"], best, strict=True)],
        index=sold.index,
        dtype=bool,
    )
    mismatched = sold.loc[differs].assign(mirakl_price=best[differs])
    owned = mapping[mapping["owner"] == "mirakl"]
    updated = pd.Series(pd.to_datetime(winners["last_updated"], utc=True).reindex(owned["product_sku"]).to_numpy())
    acked = pd.Series(pd.to_datetime(owned["bc_acknowledged_at"], utc=True).to_numpy())
    cutoff = pd.Timestamp(now - stale_after)
    stale = int((updated.notna() & (acked.isna() | (updated > acked)) & (updated < cutoff)).sum())
    stopped = owned[(owned["purchasable"] == False) & owned["bc_acknowledged_at"].notna()]  # noqa: E712
    recent = pd.Timestamp(now - LATENCY_WINDOW)
    stopped = stopped[pd.to_datetime(stopped["mirakl_updated_at"], utc=True) >= recent]
    latency = (
        (
            pd.to_datetime(stopped["bc_acknowledged_at"], utc=True)
            - pd.to_datetime(stopped["mirakl_updated_at"], utc=True)
        )
        .dt.total_seconds()
        .clip(lower=0)
    )
    return DriftFindings(
        oos_buyable=oos.reset_index(),
        value_at_risk=sum(oos["value_at_risk"], Decimal(0)),
        price_mismatches=mismatched.reset_index(),
        stale=stale,
        latency_p50_s=float(latency.quantile(0.5)) if len(latency) else 0.0,
        latency_p95_s=float(latency.quantile(0.95)) if len(latency) else 0.0,
    )
