"""The last carrier list each platform gave (SH21), and whether its latest refresh failed.

A list is replaced only by a read that returned one; a refresh that got no usable answer records when and why,
and leaves the last good list in place for the streams to fall back on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.state._sql import upsert_rows
from connectors.state.models import CarrierList

__all__ = ["get_carrier_list", "record_carrier_list", "record_carrier_list_failure"]


def get_carrier_list(session: Session, source: str) -> CarrierList | None:
    query = select(CarrierList).where(CarrierList.source == source)
    return session.scalar(query.execution_options(populate_existing=True))


def record_carrier_list(session: Session, source: str, carriers: Mapping[str, str], now: datetime) -> None:
    """Keep a list just read (codes -> labels), clearing any failed refresh before it."""
    row = {"source": source, "carriers": dict(carriers), "fetched_at": now, "refresh_failed_at": None}
    upsert_rows(session, CarrierList.__table__, [row | {"refresh_error": None}], ["source"])


def record_carrier_list_failure(session: Session, source: str, error: str, now: datetime) -> None:
    """A refresh got no usable list: note when and why, keep the last good list (an empty one if none yet)."""
    if get_carrier_list(session, source) is None:
        session.add(CarrierList(source=source, carriers={}, fetched_at=None))
        session.flush()
    failure = {"source": source, "refresh_failed_at": now, "refresh_error": error}
    upsert_rows(session, CarrierList.__table__, [failure], ["source"])
