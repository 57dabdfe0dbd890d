"""The finance CSVs: two writers of one period at once each move a whole file into place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from tasks.reconciliation.export import write_csv_export
from tasks.reconciliation.reconcile import reconcile
from tests.tasks.reconciliation.test_reconcile import planted_period


def test_two_writers_of_one_period_at_once_each_move_a_whole_file_into_place(tmp_path: Path) -> None:
    result = reconcile(planted_period()[0])
    assert len(result.lines) > 2

    def slices() -> Iterator[pd.DataFrame]:
        yield result.lines.iloc[:2]
        # A second run of the same period (a retry beside a slow run) writes the same file meanwhile.
        write_csv_export([result.lines], result.exceptions, tmp_path / "shared", "period", "USD", 1)
        yield result.lines.iloc[2:]

    write_csv_export(slices(), result.exceptions, tmp_path / "shared", "period", "USD", 1)
    write_csv_export([result.lines], result.exceptions, tmp_path / "alone", "period", "USD", 1)
    for name in ("period-r1-lines.csv", "period-r1-exceptions.csv"):
        assert (tmp_path / "shared" / name).read_bytes() == (tmp_path / "alone" / name).read_bytes()
    assert not list((tmp_path / "shared").glob("*.partial"))
