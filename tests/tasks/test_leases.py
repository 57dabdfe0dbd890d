"""When a worker holding outbox claims is dead: its flow run ended, its process is gone, or it stopped beating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.streams import Stream
from connectors.state import SILENCE_LIMIT, ClaimHolder
from tasks.leases import death_reason

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _holder(**changes: object) -> ClaimHolder:
    values: dict[str, object] = {
        "stream": Stream.OFFER_SYNC,
        "worker": "w",
        "items": 3,
        "oldest_claim": NOW - timedelta(seconds=20),
        "last_renewal": NOW - timedelta(seconds=5),
        "registered": True,
        "flow_run_id": "run-1",
        "host": "host-a",
        "pid": 100,
        "heartbeat_at": NOW - timedelta(seconds=5),
    }
    values.update(changes)
    return ClaimHolder(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("state", ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"])
def test_a_worker_whose_flow_run_is_over_is_dead_even_while_its_heartbeat_is_fresh(state: str) -> None:
    reason = death_reason(_holder(), now=NOW, flow_run_states={"run-1": state}, host="host-b")
    assert reason == f"its flow run is {state.lower()}"


def test_a_worker_on_this_host_whose_process_is_gone_is_dead() -> None:
    states = {"run-1": "RUNNING"}  # a run killed under a server stays RUNNING until Prefect notices
    assert death_reason(_holder(), now=NOW, flow_run_states=states, host="host-a", pid_alive=False) is not None
    assert death_reason(_holder(), now=NOW, flow_run_states=states, host="host-a", pid_alive=True) is None
    # Another host's pid means nothing here.
    assert death_reason(_holder(), now=NOW, flow_run_states=states, host="host-b", pid_alive=False) is None


def test_a_silent_worker_is_dead_and_a_beating_one_unknown_to_prefect_is_alive() -> None:
    silent = _holder(heartbeat_at=NOW - SILENCE_LIMIT - timedelta(seconds=1))
    assert death_reason(silent, now=NOW, flow_run_states={}, host="host-b") is not None
    assert death_reason(_holder(), now=NOW, flow_run_states={}, host="host-b") is None


def test_an_unregistered_holder_is_judged_by_its_last_claim() -> None:
    unregistered = _holder(registered=False, flow_run_id=None, host=None, pid=None, heartbeat_at=None)
    assert death_reason(unregistered, now=NOW, flow_run_states={}, host="host-a") is None
    stale = NOW + SILENCE_LIMIT
    assert death_reason(unregistered, now=stale, flow_run_states={}, host="host-a") is not None


async def test_a_started_write_is_settled_only_once_its_writer_is_gone() -> None:
    import os

    from connectors.state import LedgerEntry
    from tasks.leases import WRITE_IN_FLIGHT_LIMIT, this_process, writers_gone

    here, pid = this_process()
    now = datetime.now(UTC)

    def row(key: str, **owner: object) -> LedgerEntry:
        return LedgerEntry(system="mirakl", operation="OR01", idempotency_key=key, started_at=now, **owner)

    in_flight = row("live", host=here, pid=pid)  # this process: its call may still answer
    dead_process = row("dead", host=here, pid=_a_pid_no_process_has())
    elsewhere_recent = row("recent", host="another-host", pid=os.getpid())
    elsewhere_old = row("old", host="another-host", pid=1)
    elsewhere_old.started_at = now - WRITE_IN_FLIGHT_LIMIT - timedelta(seconds=1)
    unknown_old = row("before-0008")
    unknown_old.started_at = now - WRITE_IN_FLIGHT_LIMIT - timedelta(seconds=1)

    gone = await writers_gone([in_flight, dead_process, elsewhere_recent, elsewhere_old, unknown_old], now)

    assert [e.idempotency_key for e in gone] == ["dead", "old", "before-0008"]


def _a_pid_no_process_has() -> int:
    import os

    pid = 4_000_000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1
