"""The finance export: each run's lines and exceptions as CSV files in the configured folder.

Finance works in spreadsheets, not in Prefect; the files carry decimal amounts (converted exactly from minor
units), ids and classes, never customer data. A rerun of the same period overwrites the same file names, so
the folder always holds the latest answer for a period.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tasks.reconciliation.money import format_minor
from tasks.reconciliation.reconcile import Reconciliation

__all__ = ["LINE_EXPORT_COLUMNS", "write_csv_export"]

LINE_EXPORT_COLUMNS = [
    "line_key",
    "status",
    "shop_id",
    "currency",
    "bc_order_id",
    "bc_order_product_id",
    "mirakl_order_id",
    "order_line_id",
    "bc_amount",
    "mk_amount",
    "bc_tax",
    "mk_tax",
    "mk_shipping",
    "mk_commission",
    "expected_commission",
    "mk_commission_tax",
    "bc_refund",
    "mk_refund",
    "mk_refund_commission",
]
_LINE_AMOUNTS = {"bc_amount", "mk_amount", "bc_tax", "mk_tax", "mk_shipping", "mk_commission"} | {
    "expected_commission",
    "mk_commission_tax",
    "bc_refund",
    "mk_refund",
    "mk_refund_commission",
}
_EXCEPTION_AMOUNTS = ("left", "right", "delta")


def write_csv_export(result: Reconciliation, folder: Path, label: str, currency: str) -> dict[str, Path]:
    """Write `<label>-lines.csv` and `<label>-exceptions.csv`; returns their paths.

    A row without a currency of its own (a seller-level row) is in the store's `currency`, which the gate
    checked every input against.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = result.lines[LINE_EXPORT_COLUMNS].copy()
    currencies = lines["currency"].fillna(currency).replace("", currency)
    for name in _LINE_AMOUNTS:
        known = lines[name].notna()
        lines[name] = format_minor(lines[name].fillna(0).astype("int64"), currencies).where(known, "")
    exceptions = result.exceptions.copy()
    for name in _EXCEPTION_AMOUNTS:
        exceptions[name] = format_minor(exceptions[name], exceptions["currency"].fillna(currency).replace("", currency))
    paths = {"lines": folder / f"{label}-lines.csv", "exceptions": folder / f"{label}-exceptions.csv"}
    _write(lines, paths["lines"])
    _write(exceptions, paths["exceptions"])
    return paths


def _write(frame: pd.DataFrame, path: Path) -> None:
    # Written beside and renamed, so finance never opens a half-written file.
    partial = path.with_suffix(".csv.partial")
    frame.to_csv(partial, index=False)
    partial.replace(path)
