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
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.config import OfferSyncConfig
from bridge.runtime import Runtime
from expectations import run_gate
from tasks.offers.ownership import Ownership
from tasks.offers.sources import OfferRead, SellerHealth
from tasks.reporting import Tally, emit_alert

__all__ = [
    "COLLISION",
    "SUITE",
    "GatedOffers",
    "SellerVerdicts",
    "alert_tripped",
    "gate_by_seller",
    "gate_flags",
    "gate_offers",
]

SUITE = "offers"
COLLISION = "SKU collision: a native product has this SKU"


@dataclass
class SellerVerdicts:
    """Offers refused by the gate (with reasons), and the sellers whose batch tripped the breaker."""

    failed: pd.DataFrame
    tripped: dict[int, tuple[int, int]] = field(default_factory=dict)  # shop id -> (failed rows, rows)


@dataclass
class GatedOffers:
    """The offers read with the gate's verdict: `offers` (SKU collisions taken out) carry `blocked_reason` where
    the gate refused them, `refused` are the quarantine records (collisions and refusals, with their reasons),
    and `tripped` the sellers whose batch tripped the breaker (shop id -> failed rows, rows)."""

    offers: pd.DataFrame
    refused: list[dict[str, object]] = field(default_factory=list)
    tripped: dict[int, tuple[int, int]] = field(default_factory=dict)


@task(cache_policy=NO_CACHE)
def gate_offers(rt: Runtime, read: OfferRead, health: SellerHealth, ownership: Ownership) -> GatedOffers:
    """Gate each seller's active offers read; a SKU that collides with a native product is refused outright.

    Nothing is written here: the decision step records the verdicts (book, quarantine) in its transaction.
    """
    offers = read.offers
    collided = offers["product_sku"].isin(ownership.collisions)
    refused = _records(offers[collided], COLLISION)
    offers = offers[~collided].reset_index(drop=True)
    mapping = ownership.mapping
    last_price = mapping.drop_duplicates("product_sku").set_index("product_sku")["price"]
    active = offers.loc[offers["active"].astype(bool)]
    flags = gate_flags(active, last_price, health.open_shops, rt.config.offers, rt.config.currency)
    verdicts = gate_by_seller(flags)
    if not verdicts.failed.empty:
        reasons = verdicts.failed.set_index("offer_id")["reason"]
        offers["blocked_reason"] = offers["offer_id"].map(reasons)
        refused += _records(offers[offers["blocked_reason"].notna()])
    return GatedOffers(offers, refused, verdicts.tripped)


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
    """Run the suite once over every seller's rows; failed rows carry `reason`, tripped sellers are named.

    One validation per run, not one per seller: Great Expectations costs about a tenth of a second of CPU per
    validation whatever the batch size, which a marketplace of hundreds of sellers would pay on every run
    (100,000 rows of 50 sellers: 4.5 s one per seller, 0.23 s at once; `benchmarks/README.md`). The suite's
    uniqueness rule is per seller and product, so one batch judges each row as the seller's own batch did; the
    breaker is then judged per seller, on that seller's share of failed rows. A rule Great Expectations cannot
    pin to rows (a column's type, an evaluation that crashed) fails every row, so every seller trips: the
    columns' types are the whole read's, and a crash now stops all sellers' offers rather than one seller's
    (offer rows are typed by the reader, so none is expected).
    """
    result = run_gate(flags.reset_index(drop=True), SUITE)
    failed = result.failed if not result.failed.empty else flags.iloc[0:0].assign(reason=[])
    rows = flags["shop_id"].value_counts()
    failures = result.failed["shop_id"].value_counts() if not result.failed.empty else rows.iloc[0:0]
    tripped = {
        int(shop_id): (int(count), int(rows[shop_id]))
        for shop_id, count in sorted(failures.items())
        if count / rows[shop_id] > result.threshold
    }
    return SellerVerdicts(failed, tripped)


def alert_tripped(tally: Tally, tripped: dict[int, tuple[int, int]]) -> None:
    """One circuit-breaker alert per seller whose batch tripped (shop id -> failed rows, rows)."""
    for shop_id, (failed, total) in sorted(tripped.items()):
        emit_alert(
            tally,
            "bcmirakl.gate.circuit-breaker",
            f"bcmirakl.shop.{shop_id}",
            {"suite": SUITE, "shop_id": shop_id, "failed_rows": failed, "total_rows": total},
        )


def _records(rows: pd.DataFrame, reason: str | None = None) -> list[dict[str, object]]:
    """Quarantine records of refused offers: `reason`, or each row's own `blocked_reason`."""
    return [
        {"record_key": str(r.product_sku), "reason": reason or str(r.blocked_reason), "payload": _payload(r)}
        for r in rows.itertuples(index=False)
    ]


def _payload(row: object) -> dict[str, object]:
    return {
        "offer_id": int(getattr(row, "offer_id")),  # noqa: B009
        "shop_id": None if pd.isna(getattr(row, "shop_id")) else int(getattr(row, "shop_id")),  # noqa: B009
        "price": None if getattr(row, "price") is None else str(getattr(row, "price")),  # noqa: B009
        "quantity": None if pd.isna(getattr(row, "quantity")) else int(getattr(row, "quantity")),  # noqa: B009
    }
