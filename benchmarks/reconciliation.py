"""Benchmark of the reconciliation core and the finance CSV export on a synthetic period of N transaction lines.

The issue's target (#15 §4) is 10,000,000 lines in at most 3 minutes wall and 2 GiB peak RSS on 2 cores, with
the totals balancing. No API is involved: the period is generated page by page as the fetch tasks would hand it
over (int64 minor units), with ~1 % planted gaps so the classification paths are exercised, not only the
matched ones. Each page is spilled into partitions by line key as it arrives (`--engine partitioned`, the
default) and the period is reconciled partition by partition; `--engine whole` holds the period in one frame
as the engine did before, for comparison.

    python -m benchmarks.reconciliation --lines 10000000 --json PATH
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tasks.reconciliation.export import write_csv_export
from tasks.reconciliation.partitions import PartitionStore
from tasks.reconciliation.reconcile import Partition, Reconciliation, Terms, reconcile_partitions

__all__ = ["RATES_PPM", "PhaseClock", "main", "publish", "synthetic_pages"]

# TL02 lines per order line in the synthetic period (amount, tax, shipping, commission, commission tax).
_LINE_TYPES = ("ORDER_AMOUNT", "ORDER_AMOUNT_TAX", "ORDER_SHIPPING_AMOUNT", "COMMISSION_FEE", "COMMISSION_VAT")
_SHOPS = np.array([2000, 2001, 2002, 2003])
RATES_PPM = {2000: 100_000, 2001: 120_000, 2002: 150_000, 2003: 80_000}
_PAGE_LINES = 250_000  # TL02 lines per spilled page (the fetch buffers its 100-line API pages up to this)
_PARTITION_LINES = 250_000  # TL02 lines per partition: its reconcile then peaks at a few hundred MiB


def synthetic_pages(lines: int, page_lines: int = _PAGE_LINES, seed: int = 11) -> Iterator[Partition]:
    """About `lines` TL02 lines (five per order line) with their BigCommerce side and ~1 % planted gaps, as pages
    of about `page_lines`; each page is its own order lines' TL02 lines, BigCommerce lines and refunds."""
    orders = max(1, lines // len(_LINE_TYPES))
    step = max(1, page_lines // len(_LINE_TYPES))
    for number, first in enumerate(range(0, orders, step)):
        yield _page(np.arange(first, min(first + step, orders)), np.random.default_rng([seed, number]))


def _page(ids: np.ndarray, rng: np.random.Generator) -> Partition:
    n = len(ids)
    shop = _SHOPS[ids % len(_SHOPS)]
    amount = rng.integers(500, 50_000, n)
    tax = amount * 8 // 100
    shipping = rng.integers(0, 1_500, n)
    rate = pd.Series(shop).map(RATES_PPM).to_numpy()
    fee = ((amount + shipping) * rate + 500_000) // 1_000_000
    line_id = pd.Series(ids).astype(str).radd("M").add("-A-1").to_numpy()
    order_id = pd.Series(ids).astype(str).radd("M").add("-A").to_numpy()
    values = np.stack([amount, tax, shipping, -fee, -(fee // 5)], axis=1).reshape(-1)
    first_tx = int(ids[0]) * len(_LINE_TYPES)
    transactions = pd.DataFrame(
        {
            "transaction_id": pd.RangeIndex(first_tx, first_tx + len(values)).astype(str),
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
    bc_lines = pd.DataFrame(
        {
            "bc_order_id": ids + 100,
            "bc_order_product_id": ids + 1_000_000,
            "order_line_id": line_id,
            "mirakl_order_id": order_id,
            "shop_id": shop,
            "currency": "USD",
            "bc_amount": np.where(gap, amount + rng.integers(-300, 300, n), amount).astype("int64"),
            "bc_tax": tax.astype("int64"),
            "in_period": True,
        }
    )
    refunded = ids[rng.random(n) < 0.02]
    bc_refunds = pd.DataFrame(
        {"bc_order_id": refunded + 100, "bc_order_product_id": refunded + 1_000_000, "amount": 1_000}
    )
    return Partition(transactions, bc_lines, bc_refunds)


def _payouts(booked: Counter[tuple[str, int]]) -> pd.DataFrame:
    """SBC11 as Mirakl computes it: each cycle pays its lines' sum."""
    rows = [{"cycle_id": c, "shop_id": s, "currency": "USD", "payout": v} for (c, s), v in sorted(booked.items())]
    return pd.DataFrame(rows, columns=["cycle_id", "shop_id", "currency", "payout"])


def _book(booked: Counter[tuple[str, int]], transactions: pd.DataFrame) -> None:
    for (cycle, shop), value in transactions.groupby(["cycle_id", "shop_id"])["amount"].sum().items():
        booked[(cycle, int(shop))] += int(value)


class PhaseClock:
    """Wall seconds per phase; the generator's own time (the stand-in for the API) is kept apart."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    def figures(self, wall: float, cpu: float) -> dict[str, float]:
        """The run's totals since `wall` (perf_counter) and `cpu` (process_time), and the machine's load."""
        return {
            "generate_seconds": round(self.seconds["generate"], 3),
            # The bridge's part: the generator stands in for the API and is not counted.
            "wall_seconds": round(time.perf_counter() - wall - self.seconds["generate"], 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),  # every thread of this process
            # The 1-minute load average at the end: on 2 shared cores, wall time means little above 2.
            "load_average": round(os.getloadavg()[0], 1),
            # ru_maxrss is in KiB on Linux; peak of the whole process, generator included.
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }

    def timed(self, phase: str, items: Iterator[Partition]) -> Iterator[Partition]:
        while True:
            start = time.perf_counter()
            item = next(items, None)
            self.seconds[phase] += time.perf_counter() - start
            if item is None:
                return
            yield item


def _run_partitioned(lines: int, partitions: int, folder: Path, clock: PhaseClock) -> tuple[Reconciliation, int]:
    store = PartitionStore(folder / "partitions", partitions)
    booked: Counter[tuple[str, int]] = Counter()
    for page in clock.timed("generate", synthetic_pages(lines)):
        start = time.perf_counter()
        store.add_transactions(page.transactions)
        store.add_bigcommerce(page.bc_lines, page.bc_refunds)
        _book(booked, page.transactions)
        clock.seconds["spill"] += time.perf_counter() - start
    start = time.perf_counter()
    result = reconcile_partitions(store.partitions(), Terms(cycles=_payouts(booked), rates_ppm=RATES_PPM))
    clock.seconds["reconcile"] += time.perf_counter() - start
    return result, store.rows["transactions"]


def _run_whole(lines: int, clock: PhaseClock) -> tuple[Reconciliation, int]:
    pages = list(clock.timed("generate", synthetic_pages(lines)))
    start = time.perf_counter()
    whole = Partition(*(pd.concat(frames, ignore_index=True) for frames in zip(*pages, strict=True)))
    del pages
    booked: Counter[tuple[str, int]] = Counter()
    _book(booked, whole.transactions)
    result = reconcile_partitions([whole], Terms(cycles=_payouts(booked), rates_ppm=RATES_PPM))
    clock.seconds["reconcile"] += time.perf_counter() - start
    return result, len(whole.transactions)


def _export(result: Reconciliation, folder: Path, rows: int) -> None:
    """The finance CSVs through `write_csv_export`, `rows` lines per call, the parts joined into one file.

    `write_csv_export` formats every amount column of the table it is given as strings before writing: for two
    million order lines that alone is over a GiB. Called on slices, it writes the same bytes with one slice
    formatted at a time (the header once, the exceptions with the first slice).
    """
    target = folder / "export"
    target.mkdir(parents=True)
    step = rows or max(1, len(result.lines))
    with (target / "benchmark-lines.csv").open("wb") as joined:
        for number, first in enumerate(range(0, max(1, len(result.lines)), step)):
            exceptions = result.exceptions if number == 0 else result.exceptions.iloc[:0]
            part = folder / f"export-part-{number}"
            write_csv_export(
                replace(result, lines=result.lines.iloc[first : first + step], exceptions=exceptions),
                part,
                "benchmark",
                "USD",
            )
            with (part / "benchmark-lines.csv").open("rb") as written:
                if number:
                    written.readline()  # the header, already written by the first part
                shutil.copyfileobj(written, joined)
            if number == 0:
                shutil.move(part / "benchmark-exceptions.csv", target / "benchmark-exceptions.csv")
            shutil.rmtree(part)


def publish(figures: dict[str, Any], path: Path | None) -> None:
    """Print the figures as JSON, and write them to `path` when given."""
    text = json.dumps(figures, indent=2, default=str)
    if path is not None:
        path.write_text(text + "\n", encoding="utf-8")
    print(text)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="synthetic TL02 lines in the period")
    parser.add_argument("--engine", choices=("partitioned", "whole"), default="partitioned")
    parser.add_argument("--partitions", type=int, default=None, help=f"default: one per {_PARTITION_LINES:,} lines")
    parser.add_argument(
        "--export-rows", type=int, default=_PARTITION_LINES, help="lines per export call; 0: one call for all"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    partitions = args.partitions or max(1, math.ceil(args.lines / _PARTITION_LINES))

    clock = PhaseClock()
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.engine == "partitioned":
            result, tl02_lines = _run_partitioned(args.lines, partitions, folder, clock)
        else:
            result, tl02_lines = _run_whole(args.lines, clock)
        start = time.perf_counter()
        _export(result, folder, args.export_rows)
        clock.seconds["export"] += time.perf_counter() - start
    unexplained = int(result.totals["unexplained"].abs().sum())
    figures: dict[str, Any] = {
        "lines": tl02_lines,
        "engine": args.engine,
        "partitions": partitions if args.engine == "partitioned" else 1,
        "export_rows": args.export_rows,
        "order_lines": len(result.lines),
        "exceptions": len(result.exceptions),
        "gaps": int(sum(count for name, count in result.class_counts().items() if name != "rounding")),
        # The totals balance: every difference is listed as an exception (the planted gaps are, by class).
        "balanced": int(unexplained == 0),
        "unexplained": unexplained,
        "spill_seconds": round(clock.seconds["spill"], 3),
        "reconcile_wall_seconds": round(clock.seconds["reconcile"], 3),
        "export_seconds": round(clock.seconds["export"], 3),
        **clock.figures(wall, cpu),
    }
    publish(figures, args.json)
    return figures


if __name__ == "__main__":
    main()
