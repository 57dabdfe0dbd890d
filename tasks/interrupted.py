"""Keyed writes left `started` by a run that died: looked up on the remote side and settled, never sent twice.

`write_once` leaves a ledger row `started` when its run dies between the call and the record. The next attempt
of the same key recovers it, but some keys never come up again: a debit PA01 confirmed leaves PA11, a refund
PA02 confirmed leaves PA12, a logistic order OR24 shipped is no longer in SHIPPING, an order whose route is
final is not routed again. Their rows would stay `started` for good, and nobody could tell whether the write
happened. So each stream's run starts by settling the rows of its writes whose writer is gone
(`tasks.leases.writers_gone`: a live run's write in flight is left alone), asking the platform what it knows:

- found (the effect is there): the row is finished `succeeded`, with the id the platform shows;
- not found (the call never took effect): the row is dropped, so the stream decides afresh and, if the write is
  still needed, makes it once under a new row;
- no answer (a transient error): the row stays for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import ApiError
from connectors.state import LedgerEntry, ledger_finish, ledger_forget, ledger_get, ledger_started
from tasks.acceptance.guard import debit_key
from tasks.leases import writers_gone
from tasks.orders.cx import CX_NAMESPACE
from tasks.reporting import Tally

__all__ = ["SETTLERS", "Settler", "settle_interrupted_writes"]

_log = logging.getLogger("bcmirakl.ledger")

# What the platform shows for each key it found: the external id to record (None: the write has none).
Lookup = Callable[[Runtime, list[LedgerEntry]], Awaitable[dict[str, str | None]]]


@dataclass(frozen=True)
class Settler:
    """How to tell, from the platform, which of these operations' interrupted writes took effect."""

    system: str
    operations: tuple[str, ...]
    lookup: Lookup


async def _debits_confirmed(rt: Runtime, entries: list[LedgerEntry]) -> dict[str, str | None]:
    """PA01: a debit PA11 no longer lists was settled; the row's verdict is what was sent."""
    pending = {debit_key(debit) async for page in rt.mirakl.iter_pending_debits() for debit in page}
    return {e.idempotency_key: (e.detail or {}).get("verdict") for e in entries if e.idempotency_key not in pending}


async def _refunds_confirmed(rt: Runtime, entries: list[LedgerEntry]) -> dict[str, str | None]:
    """PA02 (`pa02:<refund id>`): a refund PA12 no longer lists was confirmed."""
    pending = {
        f"pa02:{item.id}"
        async for page in rt.mirakl.iter_pending_refunds()
        for order in page
        for line in order.order_lines
        for item in line.refunds
    }
    return {e.idempotency_key: None for e in entries if e.idempotency_key not in pending}


async def _orders_created(rt: Runtime, entries: list[LedgerEntry]) -> dict[str, str | None]:
    """OR01 (key = commercial id): the commercial order exists when OR11 finds a logistic order of it."""
    wanted = [e.idempotency_key for e in entries]
    found = {o.commercial_id async for page in rt.mirakl.iter_orders(commercial_ids=wanted) for o in page}
    return {key: key for key in wanted if key in found}


async def _orders_shipped(rt: Runtime, entries: list[LedgerEntry]) -> dict[str, str | None]:
    """OR23 (`or23:<order>`) took effect when the order carries a tracking or has shipped; OR24 (`or24:<order>`)
    when the order is in a shipped state."""
    order_ids = sorted({e.idempotency_key.split(":", 1)[1] for e in entries})
    orders = {o.order_id: o async for page in rt.mirakl.iter_orders(order_ids=order_ids) for o in page}
    shipped_states = set(rt.config.shipments.mirakl_shipped_states)
    found: dict[str, str | None] = {}
    for entry in entries:
        order = orders.get(entry.idempotency_key.split(":", 1)[1])
        if order is None:
            continue
        shipped = order.order_state in shipped_states
        tracked = bool(order.shipping_tracking or order.shipping_carrier_code)
        if shipped or (entry.operation == "OR23" and tracked):
            found[entry.idempotency_key] = None
    return found


async def _orders_cancelled(rt: Runtime, entries: list[LedgerEntry]) -> dict[str, str | None]:
    """OR29 (key = logistic order id) took effect when OR11 shows the order `CANCELED` (chaos seed 891: the run
    that cancelled the order skipped it once Mirakl showed it cancelled, and the row stayed `started`)."""
    order_ids = sorted({e.idempotency_key for e in entries})
    orders = {o.order_id: o async for page in rt.mirakl.iter_orders(order_ids=order_ids) for o in page}
    return {key: key for key in order_ids if key in orders and orders[key].order_state == "CANCELED"}


async def _cx_metafields(rt: Runtime, entries: list[LedgerEntry]) -> dict[str, str | None]:
    """The customer-service metafield (key = BigCommerce order id) exists on its order: its id."""
    key = rt.config.orders.cx_metafield_key
    found: dict[str, str | None] = {}
    for entry in entries:
        fields = await rt.bigcommerce.list_order_metafields(int(entry.idempotency_key), namespace=CX_NAMESPACE, key=key)
        match = next((m for m in fields if m.namespace == CX_NAMESPACE and m.key == key), None)
        if match is not None:
            found[entry.idempotency_key] = str(match.id)
    return found


# Per stream, the writes whose keys may never come up again once made (the others recover through `write_once`).
SETTLERS: dict[Stream, tuple[Settler, ...]] = {
    Stream.ORDER_ROUTING: (
        Settler("mirakl", ("OR01",), _orders_created),
        Settler("mirakl", ("OR29",), _orders_cancelled),
        Settler("bigcommerce", ("order_metafield",), _cx_metafields),
    ),
    Stream.ACCEPTANCE_GUARD: (Settler("mirakl", ("PA01",), _debits_confirmed),),
    Stream.SHIPMENT_SYNC: (Settler("mirakl", ("OR23", "OR24"), _orders_shipped),),
    Stream.REFUND_MIRROR: (Settler("mirakl", ("PA02",), _refunds_confirmed),),
}


@task(cache_policy=NO_CACHE)
async def settle_interrupted_writes(rt: Runtime, stream: Stream) -> Tally:
    """Settle the stream's writes left `started` by a run that is gone; the tally counts what was found done
    and what was never made (a fresh tally per attempt, so a retried settlement counts once)."""
    tally = Tally()
    for settler in SETTLERS.get(stream, ()):
        await _settle(rt, tally, settler)
    return tally


async def _settle(rt: Runtime, tally: Tally, settler: Settler) -> None:
    with rt.sessions() as session:
        started = ledger_started(session, settler.system, settler.operations)
        session.expunge_all()
    orphans = await writers_gone(started)
    if not orphans:
        return
    try:
        found = await settler.lookup(rt, orphans)
    except ApiError as exc:  # no verdict: the rows wait for the next run
        tally.notes.append(f"{len(orphans)} interrupted {'/'.join(settler.operations)} writes not settled: {exc}")
        return
    with rt.sessions() as session:
        for orphan in orphans:
            entry = ledger_get(session, orphan.system, orphan.operation, orphan.idempotency_key)
            if entry is None or entry.outcome != "started":
                continue
            if orphan.idempotency_key in found:
                entry.detail = {**(entry.detail or {}), "settled": "found on the platform after its writer died"}
                ledger_finish(session, entry, "succeeded", found[orphan.idempotency_key])
                tally.add("interrupted_writes_found_done")
            elif ledger_forget(session, entry):
                tally.add("interrupted_writes_not_made")
        session.commit()
    _log.info("settled %d interrupted %s writes", len(orphans), "/".join(settler.operations))
