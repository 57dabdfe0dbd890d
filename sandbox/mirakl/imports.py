"""Sellers' offer imports (OF01/OF24 results) as the operator sees them through OF02 and OF04.

The emulator does not parse seller files; it records import outcomes. Seeding plants one FAILED import and one
COMPLETE-with-errors import, so the bridge's feed-health monitor has failures to find.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sandbox.mirakl.formats import iso, to_millis

__all__ = ["ImportBook", "OfferImport"]


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
            "has_error_report": self.lines_in_error > 0 or self.status == "FAILED",
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
