"""Exactly-once external writes: the ledger row is written before the call and closed after it.

Every stream that changes something in Mirakl, BigCommerce or the ERP goes through `write_once`, so a rerun
after any crash, or a retry from the Prefect UI, finds the earlier attempt and does not repeat a finished
write. A write interrupted between the call and the record (the ledger says `started`) is not sent again
blindly: the caller's `recover` looks in the external system for what the first attempt did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from common.errors import PermanentApiError, TransientApiError
from connectors.state import LedgerEntry, ledger_begin, ledger_finish, ledger_get
from tasks.leases import writer, writers_gone

__all__ = ["WriteInFlightError", "WriteOutcome", "is_recorded", "mark_done_elsewhere", "record_outcome", "write_once"]

T = TypeVar("T")
Status = Literal["sent", "recovered", "already_done", "previously_failed", "failed"]


@dataclass(frozen=True)
class WriteOutcome(Generic[T]):
    """What happened to one keyed write; `result` is set when this call sent it."""

    status: Status
    external_id: str | None = None
    result: T | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status in ("sent", "recovered", "already_done")


async def write_once(
    sessions: sessionmaker[Session],
    *,
    system: str,
    operation: str,
    key: str,
    send: Callable[[], Awaitable[T]],
    external_id: Callable[[T], str | None] = lambda _: None,
    recover: Callable[[], Awaitable[str | None]] | None = None,
    detail: dict[str, Any] | None = None,
) -> WriteOutcome[T]:
    """Send one write at most once per (system, operation, key).

    Permanent API errors close the ledger row as failed and are returned, not raised, so one bad record does
    not stop a batch; transient errors propagate (the ledger row stays `started`, and the next attempt runs
    `recover` before sending again).
    """
    with sessions() as session:
        existing = ledger_get(session, system, operation, key)
        if existing is not None and existing.outcome == "succeeded":
            return WriteOutcome("already_done", existing.external_id)
        if existing is not None and existing.outcome == "failed":
            return WriteOutcome("previously_failed", existing.external_id)
        interrupted = existing is not None
        if not interrupted:
            ledger_begin(session, system, operation, key, detail, owner=writer())
            session.commit()
    if existing is not None and await _another_run_writing(existing):
        raise WriteInFlightError(
            f"another run has this {operation} in flight; it is left to that run", system=system, operation=operation
        )
    if interrupted and recover is not None:
        found = await recover()
        if found is not None:
            _finish(sessions, system, operation, key, "succeeded", found)
            return WriteOutcome("recovered", found)
    try:
        result = await send()
    except PermanentApiError as exc:
        _finish(sessions, system, operation, key, "failed", None)
        return WriteOutcome("failed", error=exc.api_message)
    ext = external_id(result)
    _finish(sessions, system, operation, key, "succeeded", ext)
    return WriteOutcome("sent", ext, result)


class WriteInFlightError(TransientApiError):
    """Another live run began this keyed write and has not recorded it yet (a second worker racing on the same
    stream, chaos seed 616: both sent OR01 for one order). The caller defers like on any transient error; the
    next run finds the write recorded, or its writer gone and the row settled."""


async def _another_run_writing(entry: LedgerEntry) -> bool:
    """A `started` row another run still owns: not this run's own earlier attempt (a task or UI retry keeps the
    flow run id; outside Prefect the process is the owner) and not a writer `writers_gone` declares dead."""
    me = writer()
    if entry.flow_run_id or me["flow_run_id"]:
        if entry.flow_run_id == me["flow_run_id"]:
            return False
    elif (entry.host, entry.pid) == (me["host"], me["pid"]):
        return False
    return not await writers_gone([entry])


def _finish(
    sessions: sessionmaker[Session], system: str, operation: str, key: str, outcome: str, ext: str | None
) -> None:
    with sessions() as session:
        entry = ledger_get(session, system, operation, key)
        assert entry is not None, "ledger row vanished between begin and finish"
        ledger_finish(session, entry, outcome, ext)
        session.commit()


def record_outcome(
    sessions: sessionmaker[Session],
    *,
    system: str,
    operation: str,
    keys: list[str],
    outcome: str,
    external_id: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Close keys as decided without a call (`succeeded` or `failed`); a key already decided keeps its outcome.

    Used when the write is known not to be needed: what the bridge mirrored one way must not echo back as a new
    write the other way, and a record quarantined for good must not be quarantined again at every run.
    """
    with sessions() as session:
        for key in keys:
            entry = ledger_begin(session, system, operation, key, detail)
            if entry.outcome == "started":
                ledger_finish(session, entry, outcome, external_id)
        session.commit()


def mark_done_elsewhere(
    sessions: sessionmaker[Session], system: str, operation: str, key: str, external_id: str | None, origin: str
) -> None:
    """The reverse write of a mirror is already done (its result is `external_id`): stop the echo."""
    record_outcome(
        sessions,
        system=system,
        operation=operation,
        keys=[key],
        outcome="succeeded",
        external_id=external_id,
        detail={"mirrored_from": origin},
    )


def is_recorded(sessions: sessionmaker[Session], system: str, operation: str, key: str) -> bool:
    """Whether the ledger has a finished outcome (either way) for `key`."""
    with sessions() as session:
        entry = ledger_get(session, system, operation, key)
        return entry is not None and entry.outcome != "started"
