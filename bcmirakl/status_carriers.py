"""The carrier-list lines of `bcmirakl status`: which SH21 list the shipment sync checks carrier codes against.

A stale list (its refresh failing since `stale since`) still lets tracking go out against the last good codes;
a list never read holds tracking for Mirakl in its queue. Operations read here how old the codes are, how many
there are, since when the list is stale and when that was last alerted, without the Prefect UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.state import CarrierList

__all__ = ["CarrierListStatus", "carrier_list_rows", "collect_carrier_lists"]


@dataclass(frozen=True)
class CarrierListStatus:
    """One platform's kept carrier list (SH21 for Mirakl), as the state store holds it."""

    source: str
    version: int
    codes: int
    fetched_at: datetime | None
    stale_since: datetime | None
    stale_alerted_at: datetime | None

    @property
    def state(self) -> str:
        if self.fetched_at is None:
            return "never read: tracking held"
        return "stale: last good list in use" if self.stale_since is not None else "fresh"


def collect_carrier_lists(session: Session) -> list[CarrierListStatus]:
    """Every kept carrier list, by source."""
    return [
        CarrierListStatus(
            source=row.source,
            version=row.version,
            codes=len(row.carriers or {}),
            fetched_at=row.fetched_at,
            stale_since=row.stale_since,
            stale_alerted_at=row.stale_alerted_at,
        )
        for row in session.scalars(select(CarrierList).order_by(CarrierList.source))
    ]


def carrier_list_rows(lists: list[CarrierListStatus]) -> list[dict[str, Any]]:
    """The status section's rows: a dash where a time is not known."""
    return [
        {
            "source": c.source,
            "list": c.state,
            "version": c.version,
            "codes": c.codes,
            "fetched at": _at(c.fetched_at),
            "stale since": _at(c.stale_since),
            "alerted at": _at(c.stale_alerted_at),
        }
        for c in lists
    ]


def _at(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"
