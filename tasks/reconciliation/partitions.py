"""A period's inputs spilled to disk by line key, so a month at a big marketplace is reconciled a slice at a time.

Ten million TL02 lines do not fit in 2 GiB as pandas frames: every id is a Python string. Pages are appended,
as they are read, to one file per hash partition chosen by a stable hash of the line key: a TL02 line's order
line (its own id when it has none), a BigCommerce line's `bc_line_keys`, and for a refund the key of the line
it refunds. So every row `reconcile` compares with another lands in the same partition, and
`reconcile_partitions` holds one partition at a time.

The flow cannot know a period's size before it has read it, so it spills into many small hash partitions and
reads them back in runs of neighbours of about `partition_rows` TL02 lines: a quiet day is then one slice (its
result is the one the whole period gives, row order included), a month is a few dozen. The gate's view of each
TL02 line (its id and currency) is spilled apart, by transaction id, so a transaction read twice, on any two
days, meets its copy in one slice. Each reconciled slice's lines are spilled back (`add_lines`), for the state
store and the finance CSV to read a slice at a time. The files are the process's own scratch (pickled frames,
appended and read back in order), deleted with the folder.
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

__all__ = ["GATE_COLUMNS", "HASH_PARTITIONS", "SLICE_LINES", "PartitionStore", "partition_of"]

GATE_COLUMNS = ("transaction_id", "currency")
# The flow's store: hash partitions, read back in slices of about this many TL02 lines (a slice's reconcile
# then peaks at a few hundred MiB; a quiet day is one slice).
HASH_PARTITIONS = 128
SLICE_LINES = 250_000
_KINDS = {"transactions": TRANSACTION_COLUMNS, "bc_lines": BC_LINE_COLUMNS, "bc_refunds": BC_REFUND_COLUMNS}
_GATE = "gate"
_LINES = "lines"


def partition_of(keys: pd.Series, count: int) -> np.ndarray:
    """Each key's partition in [0, count): pandas' keyed hash of the string, the same in every process."""
    hashed = pd.util.hash_array(keys.fillna("").astype(str).to_numpy(dtype=object))
    return (hashed % np.uint64(count)).astype(np.int64)


class PartitionStore:
    """`count` hash partitions under `folder`; add pages in any order, then read them back slice by slice.

    `partition_rows` None reads each hash partition alone; a number reads runs of neighbouring partitions
    together until a run holds about that many TL02 lines (a line key still never spans two slices).
    """

    def __init__(self, folder: Path, count: int, partition_rows: int | None = None) -> None:
        if count < 1:
            raise ValueError(f"a period needs at least one partition, not {count}")
        self.folder = folder
        self.count = count
        self.partition_rows = partition_rows
        self.rows = dict.fromkeys(_KINDS, 0)
        self._sizes = np.zeros(count, dtype=np.int64)  # TL02 lines per hash partition
        self._slices = 0  # reconciled slices spilled back by `add_lines`
        folder.mkdir(parents=True, exist_ok=True)

    def add_transactions(self, page: pd.DataFrame) -> None:
        """TL02 lines, keyed by their order line, or by their own id when they belong to none; and the gate's
        view of them (id, currency), keyed by their id."""
        keys = page["order_line_id"].where(page["order_line_id"].notna(), page["transaction_id"])
        self._sizes += np.bincount(self._append("transactions", page, keys), minlength=self.count)
        self._append(_GATE, page[list(GATE_COLUMNS)], page["transaction_id"])

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
        """Each slice read back whole, in partition order; nothing else stays in memory between them."""
        for numbers in self._runs():
            yield Partition(*(self._read(kind, numbers, columns) for kind, columns in _KINDS.items()))

    def gate_slices(self) -> Iterator[pd.DataFrame]:
        """The TL02 lines' ids and currencies, slice by slice; every copy of an id is in the same slice."""
        for numbers in self._runs():
            yield self._read(_GATE, numbers, GATE_COLUMNS)

    def add_lines(self, lines: pd.DataFrame) -> None:
        """One reconciled slice's line table, kept for `lines` to hand back in the same order."""
        with self._path(_LINES, self._slices).open("wb") as file:
            pickle.dump(lines, file, protocol=pickle.HIGHEST_PROTOCOL)
        self._slices += 1

    @property
    def slices(self) -> int:
        """Reconciled slices spilled back so far."""
        return self._slices

    def lines(self) -> Iterator[pd.DataFrame]:
        """The reconciled slices' line tables, one at a time, in the order they were added."""
        for number in range(self._slices):
            with self._path(_LINES, number).open("rb") as file:
                yield pickle.load(file)  # our own scratch file, written by add_lines above

    def _runs(self) -> Iterator[range]:
        """Runs of neighbouring hash partitions of about `partition_rows` TL02 lines (one each when None)."""
        if self.partition_rows is None:
            yield from (range(number, number + 1) for number in range(self.count))
            return
        first, held = 0, 0
        for number, size in enumerate(self._sizes.tolist()):
            held += size
            if held >= self.partition_rows and number + 1 < self.count:
                yield range(first, number + 1)
                first, held = number + 1, 0
        yield range(first, self.count)

    def _append(self, kind: str, page: pd.DataFrame, keys: pd.Series) -> np.ndarray:
        if not len(page):
            return np.zeros(0, dtype=np.int64)
        if kind in self.rows:
            self.rows[kind] += len(page)
        numbers = partition_of(keys, self.count)
        for number, rows in page.groupby(numbers, sort=False):
            with self._path(kind, int(number)).open("ab") as file:
                pickle.dump(rows.reset_index(drop=True), file, protocol=pickle.HIGHEST_PROTOCOL)
        return numbers

    def _read(self, kind: str, numbers: range, columns: tuple[str, ...]) -> pd.DataFrame:
        chunks = []
        for number in numbers:
            path = self._path(kind, number)
            if path.exists():
                with path.open("rb") as file:
                    while True:
                        try:
                            chunks.append(pickle.load(file))  # our own scratch file, written by _append above
                        except EOFError:
                            break
        return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=list(columns))

    def _path(self, kind: str, number: int) -> Path:
        return self.folder / f"{kind}-{number:04d}.pickle"
