"""Carrier overrides: the state-store half of the carrier table, which operations edit without a release.

Rows are keyed by Mirakl carrier code; the shipment stream merges them over the versioned file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors.state._sql import upsert_rows
from connectors.state.models import CarrierOverride

__all__ = ["delete_carrier_override", "list_carrier_overrides", "upsert_carrier_overrides"]


def upsert_carrier_overrides(session: Session, rows: Iterable[Mapping[str, Any]], now: datetime | None = None) -> int:
    """Insert or update overrides keyed by `mirakl_code`; a new one needs every mapping column."""
    return upsert_rows(session, CarrierOverride.__table__, rows, ["mirakl_code"], now=now)


def list_carrier_overrides(session: Session) -> list[CarrierOverride]:
    query = select(CarrierOverride).order_by(CarrierOverride.mirakl_code)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def delete_carrier_override(session: Session, mirakl_code: str) -> bool:
    """Remove an override, so the file's entry (if any) applies again; returns whether one existed."""
    result = session.execute(delete(CarrierOverride).where(CarrierOverride.mirakl_code == mirakl_code))
    return result.rowcount > 0
