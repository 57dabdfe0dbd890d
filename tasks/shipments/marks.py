"""Recording in the ledger that a write is already done by the other direction of a mirror.

A shipment or refund the bridge mirrors one way shows up on the other side as if it were new: a BigCommerce
shipment made from a Mirakl one would go back to Mirakl as OR23/OR24, a BigCommerce refund paying a Mirakl
refund would come back as OR28. Marking the reverse write's ledger key as succeeded, with the id of what
already exists, stops the echo with the same check that stops a rerun.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from connectors.state import ledger_begin, ledger_finish, ledger_get

__all__ = ["is_recorded", "mark_done_elsewhere"]


def mark_done_elsewhere(
    sessions: sessionmaker[Session], system: str, operation: str, key: str, external_id: str | None, origin: str
) -> None:
    """Record `key` as succeeded with `external_id`, unless the ledger already holds an outcome for it."""
    with sessions() as session:
        entry = ledger_begin(session, system, operation, key, {"mirrored_from": origin})
        if entry.outcome == "started":
            ledger_finish(session, entry, "succeeded", external_id)
        session.commit()


def is_recorded(sessions: sessionmaker[Session], system: str, operation: str, key: str) -> bool:
    """Whether the ledger has a finished outcome (either way) for `key`."""
    with sessions() as session:
        entry = ledger_get(session, system, operation, key)
        return entry is not None and entry.outcome != "started"
