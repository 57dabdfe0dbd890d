"""The carrier reference a run works with: the merged carrier table and Mirakl's carrier list (SH21).

SH21 changes rarely and is asked for once a day (mirakl.md §5.9), so its codes are kept in the state store
(`carrier_list`) and refreshed after `carrier_cache_hours`; the table is re-read every run so an operations
override applies at the next run without a restart.

A refresh that gets no usable list (an unreadable body, a 5xx, the day's SH21 call already spent) never fails
the run: the last good list is used and marked stale; with no list at all, tracking for Mirakl is held in its
queue (never sent with an unchecked carrier code) until a read succeeds. A stale list is alerted once per stale
episode (first failed refresh to next good read), and again every `carrier_stale_reminder_hours` while it lasts:
a run every five minutes would otherwise page the same outage 288 times a day. Every run's summary still says
the list is stale and since when.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from common.errors import ApiError
from connectors.state import (
    claim_stale_alert,
    get_carrier_list,
    list_carrier_overrides,
    record_carrier_list,
    record_carrier_list_failure,
)
from tasks.reporting import Tally, emit_alert
from tasks.retry import TASK_RETRY
from tasks.shipments.carriers import CarrierEntry, CarrierTable, load_carrier_file

__all__ = [
    "SH21_SOURCE",
    "STALE_EVENT",
    "MiraklCarriers",
    "check_carrier_list",
    "load_carrier_reference",
    "mirakl_carriers",
]

SH21_SOURCE = "SH21"

_log = logging.getLogger("bcmirakl.shipments")


@dataclass(frozen=True)
class MiraklCarriers:
    """SH21's codes -> labels as a run may use them: when they were read, and why a due refresh failed."""

    carriers: dict[str, str]
    fetched_at: datetime | None
    refresh_error: str | None = None
    version: int = 0
    stale_since: datetime | None = None

    @property
    def usable(self) -> bool:
        """Whether any list was ever read: without one no carrier code can be checked, so nothing is sent."""
        return self.fetched_at is not None

    @property
    def stale(self) -> bool:
        """A refresh was due and failed: the list in use is the last good one (or none)."""
        return self.refresh_error is not None

    def age_hours(self, now: datetime) -> float | None:
        return round((now - self.fetched_at).total_seconds() / 3600, 1) if self.fetched_at else None


async def mirakl_carriers(rt: Runtime, now: datetime) -> MiraklCarriers:
    """SH21's carrier list, read at most once per `carrier_cache_hours` by every stream and worker.

    SH21's "Maximum usage: Once per day" is also its call budget: a second read the same day would wait a day, so
    every caller (the shipment sync, the smoke check) shares the list kept in the state store. A refresh that
    fails is recorded and the last good list returned, with the error; the next run tries again, and the call
    budget decides whether a call is made (a spent daily slot fails fast, without a call).
    """
    max_age = timedelta(hours=rt.config.shipments.carrier_cache_hours)
    with rt.sessions() as session:
        kept = get_carrier_list(session, SH21_SOURCE)
        carriers = dict(kept.carriers) if kept is not None else {}
        fetched_at = kept.fetched_at if kept is not None else None
        version = kept.version if kept is not None else 0
    if fetched_at is not None and now - fetched_at <= max_age:
        return MiraklCarriers(carriers, fetched_at, version=version)
    try:
        read = {carrier.code: carrier.label for carrier in await rt.mirakl.list_carriers()}
    except ApiError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        _log.warning("SH21 carrier list not refreshed (%s); using the list of %s", error, fetched_at)
        with rt.sessions() as session:
            record_carrier_list_failure(session, SH21_SOURCE, error, now)
            session.commit()
            stale = get_carrier_list(session, SH21_SOURCE)
            since = stale.stale_since if stale is not None else now
        return MiraklCarriers(carriers, fetched_at, error, version, since)
    with rt.sessions() as session:
        record_carrier_list(session, SH21_SOURCE, read, now)
        session.commit()
        fresh = get_carrier_list(session, SH21_SOURCE)
        version = fresh.version if fresh is not None else version
    return MiraklCarriers(read, now, version=version)


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def load_carrier_reference(rt: Runtime, now: datetime | None = None) -> tuple[CarrierTable, MiraklCarriers]:
    """The carrier table (file + overrides) and SH21's list, refreshed when it is older than its max age."""
    now = now or datetime.now(UTC)
    table = load_carrier_file(rt.config.shipments.carriers_file)
    with rt.sessions() as session:
        overrides = [
            CarrierEntry(
                mirakl_code=row.mirakl_code,
                shipping_provider=row.shipping_provider,
                tracking_carrier=row.tracking_carrier,
                aliases=tuple(row.aliases or ()),
            )
            for row in list_carrier_overrides(session)
        ]
    return table.with_overrides(overrides), await mirakl_carriers(rt, now)


STALE_EVENT = "bcmirakl.shipments.carrier-list-stale"


@task(cache_policy=NO_CACHE)
def check_carrier_list(rt: Runtime, table: CarrierTable, carriers: MiraklCarriers, now: datetime) -> Tally:
    """The carrier reference's state for the summary, and the stale alert when this episode is due one.

    With no list ever read, every carrier check would fail: the tracking queue is held (its items stay queued,
    none is quarantined), and the run still completes; the flow sends tracking only when `carriers.usable`.
    """
    tally = Tally(
        counts={
            "carrier_table_version": table.version,
            "mirakl_carriers": len(carriers.carriers),
            "carrier_list_version": carriers.version,
        }
    )
    if not carriers.stale:
        return tally
    tally.counts["carrier_list_stale"] = "yes"
    tally.counts["carrier_list_stale_since"] = carriers.stale_since.isoformat() if carriers.stale_since else "-"
    tally.counts["carrier_list_age_hours"] = carriers.age_hours(now) or "never read"
    held = not carriers.usable
    if held:
        tally.counts["tracking_held_no_carrier_list"] = "yes"
    reminder = timedelta(hours=rt.config.shipments.carrier_stale_reminder_hours)
    with rt.sessions() as session:
        due = claim_stale_alert(session, SH21_SOURCE, now, reminder)
        session.commit()
    if not due:
        return tally  # this episode was alerted less than `reminder` ago: the summary alone says it is stale
    emit_alert(
        tally,
        STALE_EVENT,
        f"bcmirakl.carriers.{SH21_SOURCE}",
        {
            "fetched_at": carriers.fetched_at.isoformat() if carriers.fetched_at else None,
            "stale_since": carriers.stale_since.isoformat() if carriers.stale_since else None,
            "error": carriers.refresh_error,
            "tracking_held": held,
            "action": "the last good SH21 list is used"
            if not held
            else "OR23/OR24 wait in the queue until SH21 answers; check Mirakl and the SH21 call budget",
        },
    )
    return tally
