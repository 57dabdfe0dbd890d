"""The shipment sync's two read positions (Mirakl shipped orders, BigCommerce changed orders), one rule for both.

Both sides sweep by modification time with the same configured overlap (`shipments.overlap_seconds`): a record
read twice is harmless (every write is keyed), one skipped is a shipment the customer never sees.
"""

from __future__ import annotations

from datetime import datetime

from bridge.runtime import Runtime
from bridge.streams import Stream
from tasks.cursors import Cursor

__all__ = ["BC_CURSOR", "MIRAKL_CURSOR", "read_start", "shipment_cursor"]

MIRAKL_CURSOR = Stream.SHIPMENT_SYNC.cursor("mirakl")
BC_CURSOR = Stream.SHIPMENT_SYNC.cursor("bigcommerce")


def shipment_cursor(rt: Runtime, name: str) -> Cursor:
    """One side's cursor, with the overlap configuration gives."""
    return Cursor.with_overlap(name, rt.config.shipments.overlap_seconds)


def read_start(rt: Runtime, name: str, since: datetime | None) -> datetime | None:
    """Where one side's read begins: the operator's `since` or the saved position, less the overlap."""
    with rt.sessions() as session:
        return shipment_cursor(rt, name).start(session, since)
