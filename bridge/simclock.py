"""A clock that moves only when someone waits on it, for the demo, tests and benchmarks.

The bridge's Mirakl call budgets and the sandbox's enforcement of the same maximums read one such clock, so a
wait for "the next OR11 slot in 60 s" costs no real time, and the sandbox sees those 60 s pass. Real stores use
the wall clock and real sleeping.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

__all__ = ["SimulatedClock"]


class SimulatedClock:
    """Frozen at `start` (now by default) until `sleep` or `advance` moves it forward.

    `settle_s` is the one real wait: before a sleeper moves time on, requests other tasks have already sent get
    that long to reach the (in-process or loopback) server, so the server counts them at the time they were sent,
    as it would without simulated time.
    """

    def __init__(self, start: datetime | None = None, *, settle_s: float = 0.002) -> None:
        self._now = start or datetime.now(UTC)
        self.settle_s = settle_s
        self.slept_s = 0.0

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """Move time to `seconds` after the call (never back: concurrent sleepers share the wait)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake_at = self._now + timedelta(seconds=seconds)
        await asyncio.sleep(self.settle_s)
        if wake_at > self._now:
            self.slept_s += (wake_at - self._now).total_seconds()
            self._now = wake_at
