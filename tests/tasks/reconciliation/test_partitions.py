"""A period spilled into partitions by line key reconciles to exactly what the whole period does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from expectations import run_gate
from tasks.reconciliation.frames import gate_frame
from tasks.reconciliation.partitions import PartitionStore, partition_of
from tasks.reconciliation.reconcile import Reconciliation, reconcile, reconcile_partitions
from tests.tasks.reconciliation.test_reconcile import planted_period

_TABLES = ("exceptions", "sellers", "cycles", "totals", "invoices")


def spilled(folder: Path, count: int, pages: int, partition_rows: int | None = None) -> PartitionStore:
    """The planted period added page by page, as the fetch would hand it over."""
    inputs, _ = planted_period()
    store = PartitionStore(folder, count, partition_rows)
    for tx in (inputs.transactions.iloc[n::pages] for n in range(pages)):
        store.add_transactions(tx)
    bc, refunds = inputs.bc_lines, inputs.bc_refunds
    for n in range(pages):
        lines = bc.iloc[n::pages]
        store.add_bigcommerce(lines, refunds[refunds["bc_order_id"].isin(lines["bc_order_id"])])
    return store


@pytest.mark.parametrize("count", [1, 3, 7])
def test_partitioned_reconciliation_equals_the_whole_period(tmp_path: Path, count: int) -> None:
    inputs, _ = planted_period()
    whole = reconcile(inputs)
    parts = reconcile_partitions(spilled(tmp_path, count, pages=4).partitions(), inputs.terms)
    for name in ("lines", "exceptions", "sellers", "cycles", "totals", "invoices"):
        left, right = getattr(whole, name), getattr(parts, name)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)
    assert parts.class_counts() == whole.class_counts()


def test_every_row_of_a_line_lands_in_one_partition_and_none_is_lost(tmp_path: Path) -> None:
    inputs, _ = planted_period()
    store = spilled(tmp_path, 5, pages=3)
    seen: dict[str, int] = {}
    counts = {"transactions": 0, "bc_lines": 0, "bc_refunds": 0}
    for number, part in enumerate(store.partitions()):
        keys = pd.concat([part.transactions["order_line_id"].dropna(), part.bc_lines["order_line_id"].dropna()])
        for key in keys:
            assert seen.setdefault(key, number) == number, f"{key} split across partitions"
        counts = {name: counts[name] + len(getattr(part, name)) for name in counts}
    assert counts == {k: len(getattr(inputs, k)) for k in counts}
    assert store.rows == counts


def test_a_refund_follows_the_line_it_refunds(tmp_path: Path) -> None:
    store = spilled(tmp_path, 7, pages=1)
    for part in store.partitions():
        refunded = part.bc_refunds[["bc_order_id", "bc_order_product_id"]]
        owned = part.bc_lines[["bc_order_id", "bc_order_product_id"]]
        assert len(refunded.merge(owned)) == len(refunded)


def test_the_partition_of_a_key_is_stable_and_in_range() -> None:
    keys = pd.Series([f"M{n}-A-1" for n in range(1_000)] + [None])
    first, again = partition_of(keys, 16), partition_of(keys.copy(), 16)
    assert (first == again).all()
    assert first.min() >= 0 and first.max() < 16
    assert len(set(first.tolist())) == 16  # a thousand keys spread over every partition


def test_an_empty_partition_still_reconciles(tmp_path: Path) -> None:
    inputs, _ = planted_period()
    store = PartitionStore(tmp_path, 64)  # more partitions than lines: most stay empty
    store.add_transactions(inputs.transactions)
    store.add_bigcommerce(inputs.bc_lines, inputs.bc_refunds)
    result: Reconciliation = reconcile_partitions(store.partitions(), inputs.terms)
    assert result.class_counts() == reconcile(inputs).class_counts()


def test_slices_of_neighbouring_partitions_reconcile_to_the_whole_period(tmp_path: Path) -> None:
    inputs, _ = planted_period()
    store = spilled(tmp_path, 16, pages=3, partition_rows=len(inputs.transactions) // 4)
    slices = list(store.partitions())
    assert 2 <= len(slices) < 16  # neighbours read together, yet more than one slice
    assert sum(len(part.transactions) for part in slices) == len(inputs.transactions)
    whole = reconcile(inputs)
    parts = reconcile_partitions(slices, inputs.terms)
    for name in ("lines", *_TABLES):
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(parts, name), check_dtype=False, obj=name)


def test_a_quiet_period_is_one_slice_with_the_whole_period_s_row_order(tmp_path: Path) -> None:
    inputs, _ = planted_period()
    store = spilled(tmp_path, 16, pages=2, partition_rows=1_000_000)
    kept = reconcile_partitions(store.partitions(), inputs.terms, store.add_lines)
    assert store.slices == 1
    pd.testing.assert_frame_equal(next(store.lines()), reconcile(inputs).lines, check_dtype=False)
    assert kept.lines.empty and list(kept.lines.columns) == list(reconcile(inputs).lines.columns)


def test_spilled_lines_hold_every_line_once_and_the_tables_are_the_whole_period_s(tmp_path: Path) -> None:
    inputs, _ = planted_period()
    whole = reconcile(inputs)
    store = spilled(tmp_path, 7, pages=4)
    kept = reconcile_partitions(store.partitions(), inputs.terms, store.add_lines)
    lines = pd.concat(list(store.lines()), ignore_index=True).sort_values("line_key", ignore_index=True)
    pd.testing.assert_frame_equal(lines, whole.lines, check_dtype=False)
    for name in _TABLES:  # the seller and totals tables are summed slice by slice, not from held lines
        pd.testing.assert_frame_equal(getattr(whole, name), getattr(kept, name), check_dtype=False, obj=name)


def test_a_transaction_read_twice_meets_its_copy_in_one_gate_slice(tmp_path: Path) -> None:
    inputs, _ = planted_period()
    store = PartitionStore(tmp_path, 16)
    store.add_transactions(inputs.transactions)
    copy = inputs.transactions.iloc[[0]].assign(order_line_id="another-line")  # read again, on another day
    store.add_transactions(copy)
    reasons = [
        set(run_gate(gate_frame([], lines, {}, None, None, "USD"), "reconciliation").failed["reason"])
        for lines in store.gate_slices()
    ]
    assert reasons.count({"duplicate transaction"}) == 1 and reasons.count(set()) == len(reasons) - 1
