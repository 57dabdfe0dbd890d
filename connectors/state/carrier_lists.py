"""The last carrier list each platform gave (SH21), its version, and its stale episode.

A list is replaced only by a read that returned one; a refresh that got no usable answer records when and why,
and leaves the last good list in place for the streams to fall back on. The first failed refresh after a good
read opens a stale episode (`stale_since`), which the next good read closes; `claim_stale_alert` lets one run
per episode (and per reminder interval) alert about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from connectors.state._sql import upsert_rows
from connectors.state.models import CarrierList

__all__ = ["claim_stale_alert", "get_carrier_list", "record_carrier_list", "record_carrier_list_failure"]


def get_carrier_list(session: Session, source: str) -> CarrierList | None:
    query = select(CarrierList).where(CarrierList.source == source)
    return session.scalar(query.execution_options(populate_existing=True))


def record_carrier_list(session: Session, source: str, carriers: Mapping[str, str], now: datetime) -> None:
    """Keep a list just read (codes -> labels), closing any stale episode; a list unlike the kept one is a new
    version (the first list read is version 1)."""
    kept = get_carrier_list(session, source)
    changed = kept is None or kept.fetched_at is None or dict(kept.carriers) != dict(carriers)
    version = (kept.version if kept is not None else 0) + (1 if changed else 0)
    row = {
        "source": source,
        "carriers": dict(carriers),
        "fetched_at": now,
        "version": version,
        "refresh_failed_at": None,
        "refresh_error": None,
        "stale_since": None,
        "stale_alerted_at": None,
    }
    upsert_rows(session, CarrierList.__table__, [row], ["source"])


def record_carrier_list_failure(session: Session, source: str, error: str, now: datetime) -> None:
    """A refresh got no usable list: note when and why, keep the last good list (an empty one if none yet), and
    open the stale episode unless one is open already."""
    kept = get_carrier_list(session, source)
    if kept is None:
        session.add(CarrierList(source=source, carriers={}, fetched_at=None, version=0))
        session.flush()
    since = kept.stale_since if kept is not None and kept.stale_since is not None else now
    failure = {"source": source, "refresh_failed_at": now, "refresh_error": error, "stale_since": since}
    upsert_rows(session, CarrierList.__table__, [failure], ["source"])


def claim_stale_alert(session: Session, source: str, now: datetime, reminder: timedelta) -> bool:
    """Whether this caller is to alert about the stale list now: the episode was not alerted yet, or its last
    alert is at least `reminder` old. One conditional update, so two runs at once never both alert."""
    claimed = session.execute(
        update(CarrierList)
        .where(
            CarrierList.source == source,
            CarrierList.stale_since.is_not(None),
            or_(CarrierList.stale_alerted_at.is_(None), CarrierList.stale_alerted_at <= now - reminder),
        )
        .values(stale_alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)
