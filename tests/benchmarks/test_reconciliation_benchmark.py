"""The reconciliation benchmark measures the bridge's own work: its paged period is faithful to the whole period,
and the export it drives (the flow's, slice by slice) writes the bytes one call over the whole table writes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.reconciliation import RATES_PPM, export, synthetic_pages
from tasks.reconciliation.reconcile import Partition, Terms, reconcile_partitions


def test_pages_cover_the_period_once_with_each_lines_bigcommerce_side_and_refunds() -> None:
    pages = list(synthetic_pages(5_000, 500))
    assert len(pages) == 10
    transactions, bc_lines, _ = (pd.concat(frames, ignore_index=True) for frames in zip(*pages, strict=True))
    assert len(transactions) == 5_000 and transactions["transaction_id"].is_unique
    assert transactions["order_line_id"].nunique() == 1_000 == bc_lines["order_line_id"].nunique() == len(bc_lines)
    for page in pages:  # a page's refunds refund its own lines, as one order read brings both
        assert set(page.bc_refunds["bc_order_product_id"]) <= set(page.bc_lines["bc_order_product_id"])


def test_the_sliced_export_writes_the_bytes_of_one_export_call(tmp_path: Path) -> None:
    whole = Partition(*(pd.concat(f, ignore_index=True) for f in zip(*synthetic_pages(2_000, 500), strict=True)))
    result = reconcile_partitions([whole], Terms(rates_ppm=RATES_PPM))
    assert len(result.exceptions) > 0  # the planted gaps reach the exceptions file
    export([result.lines], result.exceptions, tmp_path / "one")
    slices = (result.lines.iloc[first : first + 37] for first in range(0, len(result.lines), 37))
    export(slices, result.exceptions, tmp_path / "sliced")
    for name in ("benchmark-lines.csv", "benchmark-exceptions.csv"):
        one = (tmp_path / "one" / "export" / name).read_bytes()
        assert (tmp_path / "sliced" / "export" / name).read_bytes() == one
    assert one.count(b"\n") == len(result.exceptions) + 1
