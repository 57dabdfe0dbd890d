"""Call budgets held in the state store: every worker spends one budget per operation, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridge.simclock import SimulatedClock
from connectors.mirakl.budgets import DEFAULT_BUDGETS, CallLimit, is_continuation
from connectors.state import session_factory
from connectors.state.budgets import CallBudgetExhaustedError, CallBudgetGate, calls_in_window, take_call_slot

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TL02 = (CallLimit(20, 60.0), CallLimit(60, 3600.0))


def _take(sessions: sessionmaker[Session], operation: str, limits: tuple[CallLimit, ...], at: datetime) -> float:
    with sessions() as session:
        wait = take_call_slot(session, operation, limits, at)
        session.commit()
    return wait


def test_a_slot_is_taken_until_the_window_is_full_then_the_wait_is_until_the_oldest_call_leaves_it(
    sessions: sessionmaker[Session],
) -> None:
    once_a_minute = (CallLimit(1, 60.0),)
    assert _take(sessions, "OR11", once_a_minute, T0) == 0
    assert _take(sessions, "OR11", once_a_minute, T0 + timedelta(seconds=15)) == 45
    assert _take(sessions, "OR11", once_a_minute, T0 + timedelta(seconds=60)) == 0
    with sessions() as session:
        assert calls_in_window(session, "OR11", 60, T0 + timedelta(seconds=60)) == 1


def test_tl02_keeps_both_twenty_a_minute_and_sixty_an_hour(sessions: sessionmaker[Session]) -> None:
    taken: list[datetime] = []
    at = T0
    while len(taken) < 61:
        wait = _take(sessions, "TL02", TL02, at)
        if wait:
            at += timedelta(seconds=wait)
        else:
            taken.append(at)
    assert taken[19] == T0 and taken[20] == T0 + timedelta(minutes=1)  # 20 at once, the 21st a minute later
    assert taken[59] == T0 + timedelta(minutes=2)
    assert taken[60] == T0 + timedelta(hours=1)  # the hour's 60 are spent: the 61st waits for the first to expire


def test_operations_have_separate_budgets(sessions: sessionmaker[Session]) -> None:
    assert _take(sessions, "OR11", (CallLimit(1, 60.0),), T0) == 0
    assert _take(sessions, "OF04", (CallLimit(1, 60.0),), T0) == 0


async def test_two_workers_waiting_on_one_budget_never_spend_more_than_it(engine: Engine) -> None:
    clock = SimulatedClock(T0)
    workers = [
        CallBudgetGate(
            session_factory(engine),
            {"OR11": (CallLimit(1, 60.0),)},
            system="mirakl",
            clock=clock.now,
            sleep=clock.sleep,
            max_wait_s=3600,
        )
        for _ in range(2)
    ]
    admitted: list[datetime] = []

    async def poll(gate: CallBudgetGate) -> None:
        for _ in range(3):
            await gate("OR11", None)
            admitted.append(clock.now())

    await asyncio.gather(*(poll(gate) for gate in workers))
    assert len(admitted) == 6
    ordered = sorted(admitted)
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(ordered)]
    assert min(gaps) >= 60


def test_threads_racing_for_the_last_slot_take_it_once(engine: Engine) -> None:
    """Several workers at one instant: the row lock lets exactly `calls` of them through."""
    sessions = session_factory(engine)
    results: list[float] = []

    def worker() -> None:
        results.append(_take(sessions, "TL02", TL02, T0))

    threads = [threading.Thread(target=worker) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(0) == 20


async def test_a_wait_past_the_bound_stops_the_call_with_a_clear_error(sessions: sessionmaker[Session]) -> None:
    clock = SimulatedClock(T0)
    once_a_day = {"SH21": (CallLimit(1, 86400.0),)}
    gate = CallBudgetGate(sessions, once_a_day, system="mirakl", clock=clock.now, sleep=clock.sleep, max_wait_s=900)
    await gate("SH21", None)
    with pytest.raises(CallBudgetExhaustedError) as raised:
        await gate("SH21", None)
    assert raised.value.operation == "SH21" and "86400s away" in str(raised.value)
    assert clock.now() == T0  # it did not wait at all: the slot was too far


async def test_a_call_the_platform_refused_with_429_gives_its_slot_back(sessions: sessionmaker[Session]) -> None:
    clock = SimulatedClock(T0)
    once_a_day = {"SH21": (CallLimit(1, 86400.0),)}
    gate = CallBudgetGate(sessions, once_a_day, system="mirakl", clock=clock.now, sleep=clock.sleep, max_wait_s=900)
    await gate("SH21", None)
    gate.release("SH21")  # answered 429: not served, so the day's one read is still to come
    await gate("SH21", None)
    assert gate.admitted == {"SH21": 1}
    with pytest.raises(CallBudgetExhaustedError):
        await gate("SH21", None)


async def test_unbudgeted_operations_and_further_pages_cost_nothing(sessions: sessionmaker[Session]) -> None:
    clock = SimulatedClock(T0)
    gate = CallBudgetGate(
        sessions,
        DEFAULT_BUDGETS,
        system="mirakl",
        clock=clock.now,
        sleep=clock.sleep,
        max_wait_s=0,
        counts=lambda operation, params: not is_continuation(operation, params),
    )
    await gate("IV01", {"offset": 0})
    await gate("IV01", {"offset": 100})  # "as many times as there are invoice pages returned"
    await gate("SBC11", {"page_token": "abc"})
    await gate("OR28", None)  # "at each refund request": no numeric budget
    assert gate.admitted == {"IV01": 1}
    with pytest.raises(CallBudgetExhaustedError):
        await gate("IV01", {"offset": 0})  # a new read the same day
