"""Benchmark of the reconciliation flow's own steps on a synthetic period of N transaction lines.

The issue's target (#15 §4) is 10,000,000 lines in at most 3 minutes wall and 2 GiB peak RSS on 2 cores, with
the totals balancing. No API is involved: the period is generated page by page as the fetch tasks would hand it
over (int64 minor units), with ~1 % planted gaps so the classification paths are exercised, not only the
matched ones. From there on it is the flow's code path (`--engine partitioned`, the default): each page is
spilled into the flow's partition store (`PartitionStore` with the flow's hash partitions and slice size) as
it arrives, the gate runs on the flow's gate frames slice by slice (`gate_frames`, `run_gate`), the period is
reconciled by the flow's task (`reconcile_period`) with each slice's lines spilled back, and the finance CSVs
are written slice by slice by the flow's `write_csv_export`. Not measured: the API reads, the quarantine (a
clean period quarantines nothing) and the state store's insert of the lines. `--engine whole` holds the period
in one frame and reconciles it in memory, as the engine did before, for comparison.

    python -m benchmarks.reconciliation --lines 10000000 --json PATH
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from expectations import run_gate
from tasks.reconciliation.export import write_csv_export
from tasks.reconciliation.fetch import SPILL_ROWS, PeriodRead
from tasks.reconciliation.frames import DayFetch
from tasks.reconciliation.partitions import HASH_PARTITIONS, SLICE_LINES, PartitionStore
from tasks.reconciliation.reconcile import Partition, Reconciliation, Terms, reconcile_partitions
from tasks.reconciliation.record import gate_frames, reconcile_period

__all__ = ["RATES_PPM", "PhaseClock", "export", "main", "publish", "synthetic_pages"]

# TL02 lines per order line in the synthetic period (amount, tax, shipping, commission, commission tax).
_LINE_TYPES = ("ORDER_AMOUNT", "ORDER_AMOUNT_TAX", "ORDER_SHIPPING_AMOUNT", "COMMISSION_FEE", "COMMISSION_VAT")
_SHOPS = np.array([2000, 2001, 2002, 2003])
RATES_PPM = {2000: 100_000, 2001: 120_000, 2002: 150_000, 2003: 80_000}
_PAGE_LINES = SPILL_ROWS  # TL02 lines per spilled page, as the fetch buffers its 100-line API pages


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
    """Wall and CPU seconds per phase; the generator's own time (the stand-in for the API) is kept apart."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Add the block's wall and CPU seconds to phase `name` (CPU barely moves with the machine's load)."""
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - wall
            self.cpu[name] += time.process_time() - cpu

    def figures(self, wall: float, cpu: float) -> dict[str, float]:
        """The run's totals since `wall` (perf_counter) and `cpu` (process_time), and the machine's load."""
        return {
            "generate_seconds": round(self.seconds["generate"], 3),
            # The bridge's part: the generator stands in for the API and is not counted.
            "wall_seconds": round(time.perf_counter() - wall - self.seconds["generate"], 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),  # every thread of this process, generator included
            # The 1-minute load average at the end: on 2 shared cores, wall time means little above 2.
            "load_average": round(os.getloadavg()[0], 1),
            # ru_maxrss is in KiB on Linux; peak of the whole process, generator included.
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }

    def timed(self, phase: str, items: Iterator[Partition]) -> Iterator[Partition]:
        while True:
            with self.phase(phase):
                item = next(items, None)
            if item is None:
                return
            yield item


def _run_partitioned(lines: int, folder: Path, clock: PhaseClock) -> tuple[Reconciliation, PartitionStore]:
    """The flow's steps after the reads: spill each page, gate the slices, reconcile them, spill their lines."""
    store = PartitionStore(folder / "partitions", HASH_PARTITIONS, partition_rows=SLICE_LINES)
    booked: Counter[tuple[str, int]] = Counter()
    for page in clock.timed("generate", synthetic_pages(lines)):
        with clock.phase("spill"):
            store.add_transactions(page.transactions)
            store.add_bigcommerce(page.bc_lines, page.bc_refunds)
            _book(booked, page.transactions)
    with clock.phase("gate"):
        cycles = _payouts(booked)
        read = PeriodRead([DayFetch(date(2026, 11, 1), store.rows["transactions"], True)], {}, cycles, None, {})
        tripped = [result for result in map(_gate, gate_frames(store, read, "USD")) if result]
    if tripped:
        raise SystemExit(f"the synthetic period failed the gate: {tripped[:3]}")
    with clock.phase("reconcile"):
        result = asyncio.run(reconcile_period.fn(store, Terms(cycles=cycles, rates_ppm=RATES_PPM)))
    return result, store


def _gate(frame: pd.DataFrame) -> str:
    """The reasons the gate gives for `frame`'s failed rows, "" when it passes."""
    result = run_gate(frame, "reconciliation")
    return ", ".join(sorted(set(result.failed["reason"]))) if result.tripped else ""


def _run_whole(lines: int, clock: PhaseClock) -> tuple[Reconciliation, int]:
    pages = list(clock.timed("generate", synthetic_pages(lines)))
    with clock.phase("reconcile"):
        whole = Partition(*(pd.concat(frames, ignore_index=True) for frames in zip(*pages, strict=True)))
        del pages
        booked: Counter[tuple[str, int]] = Counter()
        _book(booked, whole.transactions)
        result = reconcile_partitions([whole], Terms(cycles=_payouts(booked), rates_ppm=RATES_PPM))
    return result, len(whole.transactions)


def export(lines: Iterable[pd.DataFrame], exceptions: pd.DataFrame, folder: Path) -> dict[str, str]:
    """The finance CSVs as the flow writes them, one slice of lines at a time."""
    return write_csv_export(lines, exceptions, folder / "export", "benchmark", "USD")


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
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args(argv)

    clock = PhaseClock()
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.engine == "partitioned":
            result, store = _run_partitioned(args.lines, folder, clock)
            tl02_lines, slices = store.rows["transactions"], store.slices
            order_lines = int(result.sellers["lines"].sum())
            with clock.phase("export"):
                export(store.lines(), result.exceptions, folder)
        else:
            result, tl02_lines = _run_whole(args.lines, clock)
            slices, order_lines = 1, len(result.lines)
            with clock.phase("export"):
                export([result.lines], result.exceptions, folder)
    unexplained = int(result.totals["unexplained"].abs().sum())
    figures: dict[str, Any] = {
        "lines": tl02_lines,
        "engine": args.engine,
        "slices": slices,
        "order_lines": order_lines,
        "exceptions": len(result.exceptions),
        "gaps": int(sum(count for name, count in result.class_counts().items() if name != "rounding")),
        # The totals balance: every difference is listed as an exception (the planted gaps are, by class).
        "balanced": int(unexplained == 0),
        "unexplained": unexplained,
        "spill_seconds": round(clock.seconds["spill"], 3),
        "gate_seconds": round(clock.seconds["gate"], 3),
        "reconcile_wall_seconds": round(clock.seconds["reconcile"], 3),
        "export_seconds": round(clock.seconds["export"], 3),
        # CPU per phase: what the machine's load barely changes.
        **{f"{name}_cpu_seconds": round(clock.cpu[name], 3) for name in ("spill", "gate", "reconcile", "export")},
        **clock.figures(wall, cpu),
    }
    publish(figures, args.json)
    return figures


if __name__ == "__main__":
    main()
