"""A period's inputs spilled to disk by line key, so a month at a big marketplace is reconciled a slice at a time.

Ten million TL02 lines do not fit in 2 GiB as pandas frames: every id is a Python string. Pages are appended,
as they are read, to one file per partition chosen by a stable hash of the line key: a TL02 line's order line
(its own id when it has none), a BigCommerce line's `bc_line_keys`, and for a refund the key of the line it
refunds. So every row `reconcile` compares with another lands in the same partition, and
`reconcile_partitions` holds one partition at a time. The files are the process's own scratch (pickled
frames, appended and read back in order), deleted with the folder.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from tasks.reconciliation.reconcile import (
    BC_LINE_COLUMNS,
    BC_REFUND_COLUMNS,
    TRANSACTION_COLUMNS,
    Partition,
    bc_line_keys,
)

__all__ = ["PartitionStore", "partition_of"]

_KINDS = {"transactions": TRANSACTION_COLUMNS, "bc_lines": BC_LINE_COLUMNS, "bc_refunds": BC_REFUND_COLUMNS}


def partition_of(keys: pd.Series, count: int) -> np.ndarray:
    """Each key's partition in [0, count): pandas' keyed hash of the string, the same in every process."""
    hashed = pd.util.hash_array(keys.fillna("").astype(str).to_numpy(dtype=object))
    return (hashed % np.uint64(count)).astype(np.int64)


class PartitionStore:
    """`count` partitions under `folder`; add pages in any order, then read the partitions one by one."""

    def __init__(self, folder: Path, count: int) -> None:
        if count < 1:
            raise ValueError(f"a period needs at least one partition, not {count}")
        self.folder = folder
        self.count = count
        self.rows = dict.fromkeys(_KINDS, 0)
        folder.mkdir(parents=True, exist_ok=True)

    def add_transactions(self, page: pd.DataFrame) -> None:
        """TL02 lines, keyed by their order line, or by their own id when they belong to none."""
        keys = page["order_line_id"].where(page["order_line_id"].notna(), page["transaction_id"])
        self._append("transactions", page, keys)

    def add_bigcommerce(self, lines: pd.DataFrame, refunds: pd.DataFrame) -> None:
        """BigCommerce lines with the refunds read with them: a refund goes where the line it refunds goes."""
        line_keys = bc_line_keys(lines)
        self._append("bc_lines", lines, line_keys)
        ids = ["bc_order_id", "bc_order_product_id"]
        owner = lines[ids].assign(_key=line_keys.to_numpy()).drop_duplicates(ids)
        keyed = refunds.merge(owner, on=ids, how="left")
        unmatched = "bc:" + keyed["bc_order_id"].astype(str) + ":" + keyed["bc_order_product_id"].astype(str)
        self._append("bc_refunds", refunds, pd.Series(keyed["_key"].fillna(unmatched).to_numpy(), index=refunds.index))

    def partitions(self) -> Iterator[Partition]:
        """Each partition read back whole, in partition order; nothing else stays in memory between them."""
        for number in range(self.count):
            yield Partition(*(self._read(kind, number) for kind in _KINDS))

    def _append(self, kind: str, page: pd.DataFrame, keys: pd.Series) -> None:
        if not len(page):
            return
        self.rows[kind] += len(page)
        numbers = partition_of(keys, self.count)
        for number, rows in page.groupby(numbers, sort=False):
            with self._path(kind, int(number)).open("ab") as file:
                pickle.dump(rows.reset_index(drop=True), file, protocol=pickle.HIGHEST_PROTOCOL)

    def _read(self, kind: str, number: int) -> pd.DataFrame:
        path = self._path(kind, number)
        chunks = []
        if path.exists():
            with path.open("rb") as file:
                while True:
                    try:
                        chunks.append(pickle.load(file))  # our own scratch file, written by _append above
                    except EOFError:
                        break
        return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(_KINDS[kind]))

    def _path(self, kind: str, number: int) -> Path:
        return self.folder / f"{kind}-{number:04d}.pickle"
