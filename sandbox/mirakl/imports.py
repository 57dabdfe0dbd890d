"""Sellers' offer imports (OF01/OF24 results) as the operator sees them through OF02 and OF04.

The emulator does not parse seller files; it records import outcomes. Seeding plants one FAILED import and one
COMPLETE-with-errors import (a routine partial import: its good lines applied, some lines in error), so the
bridge's feed-health monitor has both to tell apart. OF03 serves the error report of an import with lines in
error as the CSV a seller's CSV file gives back (mmp-operator-openapi.json, OF03: "returns a CSV, XLSX or XML
file, depending on the file format provided by the seller"; the example adds `error-line` and `error-message`
columns to the seller's own columns).
"""

from __future__ import annotations

import csv
import io
from bisect import insort
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.mirakl.formats import iso, to_millis

__all__ = ["ERROR_MESSAGES", "ImportBook", "OfferImport"]

# Messages as Mirakl words them in the OF03 example ("The product does not exist") and its usual neighbours.
ERROR_MESSAGES = ("The product does not exist", "The price is not valid", "The quantity must be a positive number")
_REPORT_COLUMNS = ("sku", "product-id", "product-id-type", "price", "quantity", "state", "update-delete")


@dataclass
class OfferImport:
    import_id: int
    shop_id: int
    date_created: datetime
    status: str  # WAITING_SYNCHRONIZATION_PRODUCT | WAITING | RUNNING | COMPLETE | FAILED
    lines_read: int
    lines_in_success: int
    lines_in_error: int
    lines_in_pending: int = 0
    offer_inserted: int = 0
    offer_updated: int = 0
    offer_deleted: int = 0
    mode: str = "NORMAL"
    origin: str = "API"
    reason_status: str | None = None

    @property
    def has_error_report(self) -> bool:
        return self.lines_in_error > 0 or self.status == "FAILED"

    def error_report_csv(self) -> str:
        """The seller's lines in error, quoted and semicolon-separated like the OF03 example, one per line."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow((*_REPORT_COLUMNS, "error-line", "error-message"))
        for n in range(self.lines_in_error):
            sku = f"S{self.shop_id}-LINE-{n + 1:04d}"
            row = (sku, f"MKP-{900000 + n:06d}", "SHOP_SKU", "12.50", "3", "11", "update")
            writer.writerow((*row, str(n * 3 + 2), ERROR_MESSAGES[n % len(ERROR_MESSAGES)]))
        return buffer.getvalue()

    @property
    def key(self) -> tuple[int, int]:
        return int(self.date_created.timestamp() * 1000), self.import_id

    def to_json(self, with_shop: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "import_id": self.import_id,
            "date_created": iso(self.date_created),
            "status": self.status,
            "reason_status": self.reason_status,
            "mode": self.mode,
            "lines_read": self.lines_read,
            "lines_in_success": self.lines_in_success,
            "lines_in_error": self.lines_in_error,
            "lines_in_pending": self.lines_in_pending,
            "offer_inserted": self.offer_inserted,
            "offer_updated": self.offer_updated,
            "offer_deleted": self.offer_deleted,
            "has_error_report": self.has_error_report,
        }
        if with_shop:
            body |= {"shop_id": self.shop_id, "origin": self.origin}
        else:
            body["type"] = "MIRAKL"
        return body


class ImportBook:
    def __init__(self) -> None:
        self.imports: dict[int, OfferImport] = {}
        self.keys: list[tuple[int, int]] = []  # sorted (date_created millis, import_id)
        self._next_id = 3000

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add(self, offer_import: OfferImport) -> OfferImport:
        offer_import.date_created = to_millis(offer_import.date_created)
        self.imports[offer_import.import_id] = offer_import
        self._next_id = max(self._next_id, offer_import.import_id)
        insort(self.keys, offer_import.key)
        return offer_import
