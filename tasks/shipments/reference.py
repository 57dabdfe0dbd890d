"""The carrier reference a run works with: the merged carrier table and Mirakl's carrier list (SH21).

SH21 changes rarely and is asked for once a day (mirakl.md §5.9), so its codes are cached in the state store
and refreshed after `carrier_cache_hours`; the table is re-read every run so an operations override applies
at the next run without a restart.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from connectors.state import get_cursor, list_carrier_overrides, set_cursor
from tasks.retry import TASK_RETRY
from tasks.shipments.carriers import (
    CARRIER_CACHE_CURSOR,
    CarrierEntry,
    CarrierTable,
    load_carrier_file,
    parse_carrier_cache,
    render_carrier_cache,
)

__all__ = ["load_carrier_reference", "mirakl_carriers"]


async def mirakl_carriers(rt: Runtime, now: datetime) -> dict[str, str]:
    """SH21's carrier codes -> labels, read at most once per `carrier_cache_hours` by every stream and worker.

    SH21's "Maximum usage: Once per day" is also its call budget: a second read the same day would wait a day, so
    every caller (the shipment sync, the smoke check) shares the cached read in the state store.
    """
    with rt.sessions() as session:
        cached = parse_carrier_cache(
            get_cursor(session, CARRIER_CACHE_CURSOR), now, timedelta(hours=rt.config.shipments.carrier_cache_hours)
        )
    if cached is None:
        cached = {carrier.code: carrier.label for carrier in await rt.mirakl.list_carriers()}
        with rt.sessions() as session:
            set_cursor(session, CARRIER_CACHE_CURSOR, render_carrier_cache(cached, now))
            session.commit()
    return cached


@task(cache_policy=NO_CACHE, **TASK_RETRY)
async def load_carrier_reference(rt: Runtime, now: datetime | None = None) -> tuple[CarrierTable, dict[str, str]]:
    """The carrier table (file + overrides) and the SH21 codes → labels, refreshed when the cache is stale."""
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
