"""Which Mirakl order lines' refunds the bridge held for finance on purpose, read from the state store.

The refund mirror does not send a refund it cannot send safely: an OR28 that would take more than the line
has left (a seller refunded the line meanwhile), an interrupted OR28 it cannot tell from a seller's look-alike,
one Mirakl refused. It quarantines the row or opens a case instead, and the line's refund then differs between
BigCommerce and TL02 until a person decides. Reconciliation classifies such a gap as `refund_held_for_finance`
pointing at that case, so a deliberate hold is told apart from a refund the mirror lost. Ids only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bridge.streams import Stream
from connectors.state import unresolved_cs_cases, unresolved_quarantine

__all__ = ["held_refund_lines"]

_OR28_KEY = "or28:"  # the refund mirror's per-line key: or28:<BigCommerce refund id>:<Mirakl order line id>


def held_refund_lines(session: Session) -> dict[str, str]:
    """Mirakl order line id -> the open quarantine record or case that holds its refund (the first one found)."""
    held: dict[str, str] = {}
    for record in unresolved_quarantine(session, Stream.REFUND_MIRROR):
        line = _line_of(record.record_key, record.payload)
        if line is not None:
            held.setdefault(line, f"quarantine {record.record_key} ({record.reason})")
    for case in unresolved_cs_cases(session, Stream.REFUND_MIRROR):
        line = _line_of(case.key, case.detail)
        if line is not None:
            held.setdefault(line, f"case {case.kind} {case.key}")
    return held


def _line_of(key: str, detail: dict[str, Any] | None) -> str | None:
    """The Mirakl order line a refund-mirror record is about: named in its detail, else in its OR28 key."""
    named = (detail or {}).get("mirakl_order_line_id")
    if named:
        return str(named)
    if key.startswith(_OR28_KEY) and key.count(":") >= 2:
        return key.split(":", 2)[2]
    return None
