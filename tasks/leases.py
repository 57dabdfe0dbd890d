"""Who may push an outbox item that is in flight: its live worker, or, once that worker is dead, the next drain.

A drain registers as a worker (`outbox_worker`), beats every `HEARTBEAT_EVERY` while it runs (renewing its
claims), and on a clean end gives back whatever it still holds. On start it looks at every other worker holding
claims in its stream and takes the dead ones' items back into the queue at once, instead of waiting out the
ten-minute lease. A worker is dead when any of these says so:

- Prefect: its flow run is in a final state (completed, failed, crashed, cancelled). A run killed under a server
  stays RUNNING unless an automation on Prefect's flow-run heartbeats marks it CRASHED: not enough alone;
- its process is gone: it ran on this host (same hostname and pid namespace) and its pid no longer exists;
- its heartbeat stopped: silent for `SILENCE_LIMIT` (the rule that works across hosts and Prefect servers).

A flow run Prefect does not know (the run used the temporary API server of another `bcmirakl run`) and a Prefect
API that does not answer give no verdict; the other rules still apply. A live worker's claims are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.runtime import Runtime
from common.processes import process_alive
from connectors.state import (
    HEARTBEAT_EVERY,
    SILENCE_LIMIT,
    ClaimHolder,
    LedgerEntry,
    beat,
    claim_holders,
    forget_workers,
    register_worker,
    release_claims,
    silent_holders,
)

__all__ = [
    "FINAL_FLOW_RUN_STATES",
    "Lease",
    "death_reason",
    "outbox_worker",
    "stuck_in_flight",
    "this_process",
    "writer",
    "writers_gone",
]

logger = logging.getLogger(__name__)

FINAL_FLOW_RUN_STATES = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
# A keyed write has no heartbeat: past this age its writer is taken for gone when no other rule can tell (another
# host, a row from before the ledger knew its writer). Longer than any one call with its 429 waits.
WRITE_IN_FLIGHT_LIMIT = timedelta(minutes=15)


@dataclass
class Lease:
    """The registered worker of one drain, and the dead workers whose items it put back in the queue."""

    worker: str
    taken_over: dict[str, str] = field(default_factory=dict)
    released: int = 0


def this_process() -> tuple[str, int]:
    """(host, pid) of this process; the host names the pid namespace too, so containers never compare pids."""
    namespace = ""
    with contextlib.suppress(OSError):
        namespace = os.readlink("/proc/self/ns/pid")
    return f"{socket.gethostname()}|{namespace}", os.getpid()


def death_reason(
    holder: ClaimHolder,
    *,
    now: datetime,
    flow_run_states: Mapping[str, str],
    host: str,
    pid_alive: bool | None = None,
) -> str | None:
    """Why `holder` is dead, or None while it may be alive. `pid_alive` is for its pid when it ran on `host`."""
    state = flow_run_states.get(holder.flow_run_id or "")
    if state in FINAL_FLOW_RUN_STATES:
        return f"its flow run is {state.lower()}"
    if holder.host == host and holder.pid is not None and pid_alive is False:
        return "its process is gone"
    if holder.silent_for(now) > SILENCE_LIMIT:
        return f"no heartbeat for {int(holder.silent_for(now).total_seconds())} s"
    return None


@asynccontextmanager
async def outbox_worker(rt: Runtime, stream: str) -> AsyncIterator[Lease]:
    """Register a worker for `stream`, take over dead workers' claims, beat while the body runs, end cleanly."""
    host, pid = this_process()
    lease = Lease(worker=f"{stream}-{uuid.uuid4().hex[:12]}")
    with rt.sessions() as session:
        register_worker(session, lease.worker, stream, flow_run_id=_current_flow_run(), host=host, pid=pid)
        session.commit()
    lease.taken_over, lease.released = await _take_over_dead(rt, stream, lease.worker, host)
    heart = asyncio.create_task(_beat_forever(rt, lease.worker))
    try:
        yield lease
    finally:
        heart.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heart
        with rt.sessions() as session:
            release_claims(session, stream, [lease.worker], "the worker ended before pushing it")
            forget_workers(session, [lease.worker])
            session.commit()


def stuck_in_flight(rt: Runtime) -> list[dict[str, Any]]:
    """Items in flight whose worker is silent past `SILENCE_LIMIT`, per worker: what no live drain will push.

    The next drain of the stream takes them over; a row here means that drain is not running (paused schedule,
    a run failing before its push), which is why the drift monitor alerts on it.
    """
    now = datetime.now(UTC)
    with rt.sessions() as session:
        holders = silent_holders(session, now)
    return [
        {
            "stream": holder.stream,
            "worker": holder.worker,
            "items": holder.items,
            "silent_s": int(holder.silent_for(now).total_seconds()),
            "last_renewal": holder.last_renewal.isoformat(timespec="seconds"),
        }
        for holder in holders
    ]


async def _take_over_dead(rt: Runtime, stream: str, me: str, host: str) -> tuple[dict[str, str], int]:
    with rt.sessions() as session:
        holders = [h for h in claim_holders(session, stream) if h.worker != me]
    if not holders:
        return {}, 0
    states = await _flow_run_states(h.flow_run_id for h in holders if h.flow_run_id)
    now = datetime.now(UTC)
    dead = {}
    for holder in holders:
        alive = process_alive(holder.pid) if holder.host == host and holder.pid is not None else None
        reason = death_reason(holder, now=now, flow_run_states=states, host=host, pid_alive=alive)
        if reason is not None:
            dead[holder.worker] = reason
    released = 0
    with rt.sessions() as session:
        for worker, reason in dead.items():
            released += release_claims(session, stream, [worker], f"taken over from worker {worker}: {reason}")
        forget_workers(session, dead)
        session.commit()
    for worker, reason in dead.items():
        logger.warning("%s: took over the items in flight of worker %s (%s)", stream, worker, reason)
    return dead, released


async def _beat_forever(rt: Runtime, worker: str) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY.total_seconds())
        try:
            with rt.sessions() as session:
                beat(session, worker)
                session.commit()
        except Exception:  # a missed beat is retried at the next one; six in a row make the worker look dead
            logger.warning("outbox worker %s missed a heartbeat", worker, exc_info=True)


def writer() -> dict[str, Any]:
    """Who is about to make a keyed write (flow run, host, pid): kept on its ledger row."""
    host, pid = this_process()
    return {"flow_run_id": _current_flow_run(), "host": host, "pid": pid}


async def writers_gone(entries: Sequence[LedgerEntry], now: datetime | None = None) -> list[LedgerEntry]:
    """The `started` rows whose writer can no longer finish them, by the rules that tell a dead outbox worker:
    its flow run is final, or its process is gone from this host; failing both, the row is older than
    `WRITE_IN_FLIGHT_LIMIT`. A write a live run has in flight is never among them."""
    if not entries:
        return []
    now = now or datetime.now(UTC)
    host, _ = this_process()
    states = await _flow_run_states(e.flow_run_id for e in entries if e.flow_run_id)
    gone = []
    for entry in entries:
        if states.get(entry.flow_run_id or "") in FINAL_FLOW_RUN_STATES:
            gone.append(entry)
        elif entry.host == host and entry.pid is not None:
            if not process_alive(entry.pid):
                gone.append(entry)
        elif now - entry.started_at > WRITE_IN_FLIGHT_LIMIT:
            gone.append(entry)
    return gone


def _current_flow_run() -> str | None:
    from prefect.runtime import flow_run

    run_id = flow_run.get_id()
    return str(run_id) if run_id else None


async def _flow_run_states(ids: Iterable[str]) -> dict[str, str]:
    """State type per flow run id, for the runs Prefect knows; empty when its API does not answer."""
    wanted = sorted({parsed for text in ids if (parsed := _uuid(text)) is not None})
    if not wanted:
        return {}
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    try:
        async with get_client() as client:
            runs = await client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=wanted)))
    except Exception:  # no verdict from Prefect: the process and heartbeat rules still decide
        logger.warning("could not read the state of flow runs holding outbox claims", exc_info=True)
        return {}
    return {str(run.id): run.state.type.value for run in runs if run.state is not None}


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
