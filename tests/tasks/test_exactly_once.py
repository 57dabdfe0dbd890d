"""Exactly-once writes: a finished write is never repeated, an interrupted one is recovered, not resent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from common.errors import PermanentApiError, TransientApiError
from connectors.state import create_state_engine, ledger_begin, ledger_get, session_factory, upgrade
from tasks.exactly_once import WriteInFlightError, is_recorded, mark_done_elsewhere, record_outcome, write_once
from tasks.leases import this_process


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    return session_factory(engine)


class Api:
    def __init__(self, errors: list[Exception] | None = None) -> None:
        self.calls = 0
        self.errors = errors or []

    async def send(self) -> dict[str, str]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"id": f"EXT-{self.calls}"}


async def test_a_finished_write_is_not_sent_again(sessions: sessionmaker[Session]) -> None:
    api = Api()
    first = await write_once(
        sessions, system="mirakl", operation="OR01", key="100", send=api.send, external_id=lambda r: r["id"]
    )
    second = await write_once(
        sessions, system="mirakl", operation="OR01", key="100", send=api.send, external_id=lambda r: r["id"]
    )
    assert (first.status, first.external_id) == ("sent", "EXT-1")
    assert (second.status, second.external_id) == ("already_done", "EXT-1")
    assert api.calls == 1


async def test_an_interrupted_write_is_recovered_instead_of_resent(sessions: sessionmaker[Session]) -> None:
    api = Api(errors=[TransientApiError("timeout", system="mirakl", operation="OR01")])
    with pytest.raises(TransientApiError):
        await write_once(sessions, system="mirakl", operation="OR01", key="100", send=api.send)

    async def recover() -> str | None:
        return "100-A"  # the first attempt did reach Mirakl

    outcome = await write_once(sessions, system="mirakl", operation="OR01", key="100", send=api.send, recover=recover)
    assert (outcome.status, outcome.external_id) == ("recovered", "100-A")
    assert api.calls == 1


async def test_an_interrupted_write_with_nothing_to_recover_is_sent(sessions: sessionmaker[Session]) -> None:
    api = Api(errors=[TransientApiError("timeout", system="mirakl", operation="OR01")])
    with pytest.raises(TransientApiError):
        await write_once(sessions, system="mirakl", operation="OR01", key="7", send=api.send)

    async def recover() -> str | None:
        return None

    outcome = await write_once(
        sessions,
        system="mirakl",
        operation="OR01",
        key="7",
        send=api.send,
        recover=recover,
        external_id=lambda r: r["id"],
    )
    assert (outcome.status, outcome.external_id) == ("sent", "EXT-2")


async def test_a_permanent_refusal_is_recorded_and_not_retried(sessions: sessionmaker[Session]) -> None:
    api = Api(errors=[PermanentApiError("offer unknown", system="mirakl", operation="OR01", status=400)])
    first = await write_once(sessions, system="mirakl", operation="OR01", key="9", send=api.send)
    second = await write_once(sessions, system="mirakl", operation="OR01", key="9", send=api.send)
    assert (first.status, first.error) == ("failed", "offer unknown")
    assert second.status == "previously_failed"
    assert api.calls == 1
    with sessions() as session:
        entry = ledger_get(session, "mirakl", "OR01", "9")
        assert entry is not None and entry.outcome == "failed"


async def test_a_write_marked_done_elsewhere_is_not_sent_and_a_decided_key_keeps_its_outcome(
    sessions: sessionmaker[Session],
) -> None:
    mark_done_elsewhere(sessions, "mirakl", "OR23", "or23:100-A", "BC-SHIP-7", origin="bc-shipment:100-A:TRK1")
    api = Api()
    outcome = await write_once(sessions, system="mirakl", operation="OR23", key="or23:100-A", send=api.send)
    assert (outcome.status, outcome.external_id, api.calls) == ("already_done", "BC-SHIP-7", 0)

    record_outcome(sessions, system="mirakl", operation="OR23", keys=["or23:100-A"], outcome="failed")
    assert is_recorded(sessions, "mirakl", "OR23", "or23:100-A")
    with sessions() as session:
        entry = ledger_get(session, "mirakl", "OR23", "or23:100-A")
        assert entry is not None and entry.outcome == "succeeded"


async def test_a_write_another_live_run_has_in_flight_is_left_to_it_not_sent_again(
    sessions: sessionmaker[Session],
) -> None:
    """Chaos seed 616: a second worker found the first one's OR01 `started`, recovered nothing (not sent yet) and
    sent it too. Now it defers; the same process's own interrupted row is still recovered and sent."""
    api = Api()
    with sessions() as session:  # begun by a live process on this host that is not this one
        ledger_begin(
            session, "mirakl", "OR01", "102", owner={"flow_run_id": None, "host": this_host(), "pid": os.getppid()}
        )
        ledger_begin(
            session, "mirakl", "OR01", "103", owner={"flow_run_id": None, "host": this_host(), "pid": os.getpid()}
        )
        session.commit()

    with pytest.raises(WriteInFlightError):
        await write_once(sessions, system="mirakl", operation="OR01", key="102", send=api.send, external_id=str)
    own = await write_once(
        sessions, system="mirakl", operation="OR01", key="103", send=api.send, external_id=lambda r: r["id"]
    )

    assert api.calls == 1 and own.status == "sent"
    with sessions() as session:
        assert ledger_get(session, "mirakl", "OR01", "102").outcome == "started"


def this_host() -> str:
    return this_process()[0]
