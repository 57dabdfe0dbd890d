"""The finance export: each run's lines and exceptions as CSV files in the configured location.

Finance works in spreadsheets, not in Prefect; the files carry decimal amounts (converted exactly from minor
units), ids and classes, never customer data. The location is a local folder or any fsspec URL (`s3://`,
`gs://`, `az://`, `file://`: the library Prefect's result storage uses), so the files land where finance
reads them rather than in whichever directory a worker happened to start in. Each file name carries the
period's revision, so a rerun adds the new answer beside the old one and a link published for revision 1
keeps pointing at revision 1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import fsspec
import pandas as pd

from tasks.reconciliation.money import format_minor

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


def write_csv_export(
    lines: Iterable[pd.DataFrame],
    exceptions: pd.DataFrame,
    location: str | Path,
    label: str,
    currency: str,
    revision: int | None = None,
) -> dict[str, str]:
    """Write `<label>[-r<revision>]-lines.csv` and `-exceptions.csv` under `location`; returns their URLs.

    The lines come as slices (a reconciled partition each) and are appended one slice at a time, so a period's
    lines are never formatted as strings all at once (for two million order lines that alone is over a GiB).
    A relative local folder is taken from the working directory and reported absolute (`file://...`), so the
    link says where the file really is. A row without a currency of its own (a seller-level row) is in the
    store's `currency`, which the gate checked every input against.
    """
    fs, root = fsspec.core.url_to_fs(_absolute(location))
    fs.makedirs(root, exist_ok=True)
    stem = f"{root.rstrip('/')}/{label}-r{revision}" if revision is not None else f"{root.rstrip('/')}/{label}"
    written = {}
    for kind, frames in (("lines", (_line_rows(part, currency) for part in lines)), ("exceptions", [exceptions])):
        path = f"{stem}-{kind}.csv"
        _write(fs, (_exception_rows(f, currency) if kind == "exceptions" else f for f in frames), path)
        written[kind] = fs.unstrip_protocol(path)
    return written


def _line_rows(part: pd.DataFrame, currency: str) -> pd.DataFrame:
    lines = part.reindex(columns=LINE_EXPORT_COLUMNS)
    currencies = lines["currency"].fillna(currency).replace("", currency)
    for name in _LINE_AMOUNTS:
        known = lines[name].notna()
        lines[name] = format_minor(lines[name].fillna(0).astype("int64"), currencies).where(known, "")
    return lines


def _exception_rows(exceptions: pd.DataFrame, currency: str) -> pd.DataFrame:
    rows = exceptions.copy()
    for name in _EXCEPTION_AMOUNTS:
        rows[name] = format_minor(rows[name], rows["currency"].fillna(currency).replace("", currency))
    return rows


def _absolute(location: str | Path) -> str:
    text = str(location)
    if "://" in text:
        return text
    return Path(text).expanduser().resolve().as_uri()


def _write(fs: fsspec.AbstractFileSystem, frames: Iterable[pd.DataFrame], path: str) -> None:
    # Written beside and moved into place, so finance never opens a half-written file (a rename on a local
    # disk; object stores publish an object only once its upload completes anyway). The header is written
    # with the first slice only. The partial file is this writer's own: two workers reconciling the same period
    # at once (a retry beside a slow run) each move a whole file into place, never one another's half.
    partial = f"{path}.{uuid.uuid4().hex}.partial"
    with fs.open(partial, "w", newline="", encoding="utf-8") as out:
        for number, frame in enumerate(frames):
            frame.to_csv(out, index=False, header=number == 0)
    fs.mv(partial, path)
