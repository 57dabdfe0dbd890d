"""Call budgets held in the state store, so every stream and every worker spends one budget per operation.

A budget is a set of limits ("at most N calls in any window of S seconds"). Before a budgeted call, a worker
locks the operation's row, counts the calls recorded inside each window and either records its own call (a slot
is free) or learns how long until the oldest counted call leaves its window. The store is the one thing every
worker already shares, on SQLite and PostgreSQL alike; a Prefect limit would hold a rate but not "60 an hour
and 20 a minute" at once, nor let `bcmirakl status` read what was spent.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from common.errors import ApiError
from connectors.state._sql import insert_for
from connectors.state.models import CallBudget, CallBudgetUse

__all__ = [
    "CallBudgetExhaustedError",
    "CallBudgetGate",
    "Limit",
    "calls_in_window",
    "give_back_call_slot",
    "take_call_slot",
]

_log = logging.getLogger("bcmirakl.budgets")


class Limit(Protocol):
    """At most `calls` calls in any `seconds`-long window."""

    @property
    def calls(self) -> int: ...

    @property
    def seconds(self) -> float: ...


class CallBudgetExhaustedError(ApiError):
    """A call would have to wait longer than the bridge allows for its operation's budget.

    Neither transient (repeating at once cannot help) nor permanent (the request is fine): the run stops, and the
    next scheduled run resumes from its cursor once the budget has room again.
    """


def take_call_slot(session: Session, operation: str, limits: Sequence[Limit], now: datetime) -> float:
    """Record one call of `operation` at `now` and return 0 if every limit has room; otherwise record nothing and
    return the seconds until one call leaves the tightest window. The caller commits either way."""
    _lock(session, operation, now)
    wait = 0.0
    for limit in limits:
        window_start = now - timedelta(seconds=limit.seconds)
        recent = session.scalars(
            select(CallBudgetUse.used_at)
            .where(CallBudgetUse.operation == operation, CallBudgetUse.used_at > window_start)
            .order_by(CallBudgetUse.used_at.desc())
            .limit(limit.calls)
        ).all()
        if len(recent) >= limit.calls:
            frees_at = recent[-1] + timedelta(seconds=limit.seconds)
            wait = max(wait, (frees_at - now).total_seconds())
    if wait > 0:
        return wait
    session.add(CallBudgetUse(operation=operation, used_at=now))
    longest = max(limit.seconds for limit in limits)
    session.execute(
        delete(CallBudgetUse).where(
            CallBudgetUse.operation == operation, CallBudgetUse.used_at <= now - timedelta(seconds=longest)
        )
    )
    session.flush()
    return 0.0


def give_back_call_slot(session: Session, operation: str, used_at: datetime) -> None:
    """Forget one call of `operation` recorded at `used_at`: the platform refused it unserved (429)."""
    slot = session.scalar(
        select(CallBudgetUse.id).where(CallBudgetUse.operation == operation, CallBudgetUse.used_at == used_at).limit(1)
    )
    if slot is not None:
        session.execute(delete(CallBudgetUse).where(CallBudgetUse.id == slot))


def calls_in_window(session: Session, operation: str, seconds: float, now: datetime) -> int:
    """Calls of `operation` every worker made in the `seconds` before `now`."""
    query = select(func.count()).where(
        CallBudgetUse.operation == operation, CallBudgetUse.used_at > now - timedelta(seconds=seconds)
    )
    return int(session.scalar(query) or 0)


def _lock(session: Session, operation: str, now: datetime) -> None:
    """Take the operation's row lock (an UPDATE: a row lock on PostgreSQL, the write lock on SQLite)."""
    touched = session.execute(update(CallBudget).where(CallBudget.operation == operation).values(checked_at=now))
    if touched.rowcount:  # type: ignore[attr-defined]
        return
    first = insert_for(session, CallBudget.__table__).values(operation=operation, checked_at=now)
    session.execute(first.on_conflict_do_nothing(index_elements=["operation"]))
    session.execute(update(CallBudget).where(CallBudget.operation == operation).values(checked_at=now))


Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
Counts = Callable[[str, Mapping[str, Any] | None], bool]


class CallBudgetGate:
    """Awaited before each call an API client sends: waits (bounded) until the operation's budget has room.

    `counts(operation, params)` says whether a call spends the budget (a further page of a read may not); the
    clock and sleep are injectable, so tests and the demo spend simulated time instead of waiting. A wait lasts
    `margin_s` longer than the window needs: the tenant counts a call when it arrives, and the call whose slot
    is being freed may have arrived later than it was admitted here.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        budgets: Mapping[str, Sequence[Limit]],
        *,
        system: str,
        clock: Clock,
        sleep: Sleep,
        max_wait_s: float,
        counts: Counts = lambda _operation, _params: True,
        margin_s: float = 1.0,
    ) -> None:
        self.budgets = {operation: tuple(limits) for operation, limits in budgets.items() if limits}
        self.system = system
        self.max_wait_s = max_wait_s
        self.margin_s = margin_s
        self.admitted: Counter[str] = Counter()
        self.waited_s: Counter[str] = Counter()
        self._sessions = sessions
        self._clock = clock
        self._sleep = sleep
        self._counts = counts
        self._taken: dict[str, list[datetime]] = {}

    async def __call__(self, operation: str, params: Mapping[str, Any] | None) -> None:
        limits = self.budgets.get(operation)
        if not limits or not self._counts(operation, params):
            return
        waited = 0.0
        while True:
            now = self._clock()
            with self._sessions() as session:
                wait = take_call_slot(session, operation, limits, now)
                session.commit()
            if wait <= 0:
                self.admitted[operation] += 1
                self._taken.setdefault(operation, []).append(now)
                return
            if waited + wait > self.max_wait_s:
                raise CallBudgetExhaustedError(
                    f"call budget exhausted: the next slot is {wait:.0f}s away, past the {self.max_wait_s:.0f}s "
                    "the bridge waits; the next run continues",
                    system=self.system,
                    operation=operation,
                )
            wait += self.margin_s
            _log.info("%s %s waits %.1fs for its call budget", self.system, operation, wait)
            self.waited_s[operation] += wait
            waited += wait
            await self._sleep(wait)

    def release(self, operation: str) -> None:
        """Give back the latest slot this gate took for `operation`: the platform answered 429, so the call was not
        served. Without this, a refused once-a-day read (SH21) would block its stream for a day."""
        taken = self._taken.get(operation)
        if not taken:
            return
        used_at = taken.pop()
        with self._sessions() as session:
            give_back_call_slot(session, operation, used_at)
            session.commit()
        self.admitted[operation] -= 1

    def usage(self, now: datetime | None = None) -> dict[str, list[tuple[Limit, int]]]:
        """Per budgeted operation, each limit with the calls every worker made inside its window until `now`."""
        at = now or self._clock()
        with self._sessions() as session:
            return {
                operation: [(limit, calls_in_window(session, operation, limit.seconds, at)) for limit in limits]
                for operation, limits in self.budgets.items()
            }
