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
    """Frozen at `start` (now by default) until `sleep` or `advance` moves it forward."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self.slept_s = 0.0

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """Jump forward by `seconds` and let other tasks run; nothing really waits."""
        if seconds > 0:
            self.advance(seconds)
            self.slept_s += seconds
        await asyncio.sleep(0)
