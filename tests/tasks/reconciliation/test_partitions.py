"""A period spilled into partitions by line key reconciles to exactly what the whole period does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tasks.reconciliation.partitions import PartitionStore, partition_of
from tasks.reconciliation.reconcile import Reconciliation, reconcile, reconcile_partitions
from tests.tasks.reconciliation.test_reconcile import planted_period


def spilled(folder: Path, count: int, pages: int) -> PartitionStore:
    """The planted period added page by page, as the fetch would hand it over."""
    inputs, _ = planted_period()
    store = PartitionStore(folder, count)
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
