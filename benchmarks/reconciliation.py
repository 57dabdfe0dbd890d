"""Benchmark of the reconciliation core and the finance CSV export on a synthetic period of N transaction lines.

The issue's target is 1,000,000 lines in at most 60 s and 4 GiB on 2 cores. No API is involved: the period is
generated in memory as the fetch tasks would hand it over (int64 minor units), with a small share of planted
gaps so the classification paths are exercised, not only the matched ones.

    python -m benchmarks.reconciliation --lines 1000000 --json PATH
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.reconciliation.export import write_csv_export
from tasks.reconciliation.reconcile import ReconciliationInputs, reconcile

__all__ = ["main", "synthetic_period"]

# TL02 lines per order line in the synthetic period (amount, tax, shipping, commission, commission tax).
_LINE_TYPES = ("ORDER_AMOUNT", "ORDER_AMOUNT_TAX", "ORDER_SHIPPING_AMOUNT", "COMMISSION_FEE", "COMMISSION_VAT")
_SHOPS = np.array([2000, 2001, 2002, 2003])
_RATES_PPM = {2000: 100_000, 2001: 120_000, 2002: 150_000, 2003: 80_000}


def synthetic_period(lines: int, seed: int = 11) -> ReconciliationInputs:
    """About `lines` TL02 lines (five per order line) with their BigCommerce side and ~1 % planted gaps."""
    rng = np.random.default_rng(seed)
    n = max(1, lines // len(_LINE_TYPES))
    ids = np.arange(n)
    shop = _SHOPS[ids % len(_SHOPS)]
    amount = rng.integers(500, 50_000, n)
    tax = amount * 8 // 100
    shipping = rng.integers(0, 1_500, n)
    rate = pd.Series(shop).map(_RATES_PPM).to_numpy()
    fee = ((amount + shipping) * rate + 500_000) // 1_000_000
    line_id = pd.Series(ids).astype(str).radd("M").add("-A-1").to_numpy()
    order_id = pd.Series(ids).astype(str).radd("M").add("-A").to_numpy()
    values = np.stack([amount, tax, shipping, -fee, -(fee // 5)], axis=1).reshape(-1)
    transactions = pd.DataFrame(
        {
            "transaction_id": pd.RangeIndex(len(values)).astype(str),
            "type": np.tile(np.array(_LINE_TYPES), n),
            "amount": values.astype("int64"),
            "currency": "USD",
            "shop_id": np.repeat(shop, len(_LINE_TYPES)),
            "order_id": np.repeat(order_id, len(_LINE_TYPES)),
            "order_line_id": np.repeat(line_id, len(_LINE_TYPES)),
            "cycle_id": pd.Series(np.repeat(shop, len(_LINE_TYPES))).astype(str).radd("cycle-").to_numpy(),
        }
    )
    gap = rng.random(n) < 0.01
    bc_amount = np.where(gap, amount + rng.integers(-300, 300, n), amount)
    bc_lines = pd.DataFrame(
        {
            "bc_order_id": ids + 100,
            "bc_order_product_id": ids + 1_000_000,
            "order_line_id": line_id,
            "mirakl_order_id": order_id,
            "shop_id": shop,
            "currency": "USD",
            "bc_amount": bc_amount.astype("int64"),
            "bc_tax": tax.astype("int64"),
            "in_period": True,
        }
    )
    refunded = ids[rng.random(n) < 0.02]
    bc_refunds = pd.DataFrame(
        {"bc_order_id": refunded + 100, "bc_order_product_id": refunded + 1_000_000, "amount": 1_000}
    )
    cycles = transactions.groupby(["cycle_id", "shop_id", "currency"])["amount"].sum().rename("payout").reset_index()
    return ReconciliationInputs(transactions, bc_lines, bc_refunds, cycles=cycles, rates_ppm=_RATES_PPM)


def main(argv: list[str] | None = None) -> dict[str, float | int]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="synthetic TL02 lines in the period")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args(argv)

    inputs = synthetic_period(args.lines)
    wall, cpu = time.perf_counter(), time.process_time()
    result = reconcile(inputs)
    reconcile_wall = time.perf_counter() - wall
    with tempfile.TemporaryDirectory() as folder:
        write_csv_export(result, Path(folder), "benchmark", "USD")
    figures: dict[str, float | int] = {
        "lines": len(inputs.transactions),
        "order_lines": len(result.lines),
        "exceptions": len(result.exceptions),
        "balanced": int(result.balanced),
        "reconcile_wall_seconds": round(reconcile_wall, 3),
        "wall_seconds": round(time.perf_counter() - wall, 3),
        "cpu_seconds": round(time.process_time() - cpu, 3),
        # ru_maxrss is in KiB on Linux; peak of the whole process, synthetic inputs included.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    text = json.dumps(figures, indent=2)
    if args.json is not None:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return figures


if __name__ == "__main__":
    main()
