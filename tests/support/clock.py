"""The tests' clocks: one simulated clock for the sandbox's call budgets and the bridge's, and a fake monotonic one.

Mirakl's maximums are minutes to a day long; on a `SimulatedClock` the bridge's wait for its next slot costs no
real time and the sandbox sees that time pass, so budgets are enforced in every test without slowing any.
Rate limiters, OAuth expiry and quota windows read monotonic seconds instead: `FakeClock`.
"""

from __future__ import annotations

from typing import Any

from bridge.simclock import SimulatedClock
from sandbox.app import Sandbox, create_sandbox
from sandbox.mirakl import MiraklSandboxSettings

__all__ = ["FakeClock", "budget_clock_kwargs", "budgeted_sandbox"]


def budgeted_sandbox(clock: SimulatedClock, **kwargs: Any) -> Sandbox:
    """A sandbox enforcing Mirakl's call budgets on `clock` (kept in `extra["budget_clock"]` for runtimes)."""
    sandbox = create_sandbox(mirakl=MiraklSandboxSettings(budget_clock=clock.now), **kwargs)
    sandbox.extra["budget_clock"] = clock
    return sandbox


def budget_clock_kwargs(clock: SimulatedClock) -> dict[str, Any]:
    """`build_runtime` keyword arguments that make the bridge's call budgets wait on `clock`."""
    return {"budget_clock": clock.now, "budget_sleep": clock.sleep}


class FakeClock:
    """Monotonic seconds that move only when the code under test sleeps (every wait recorded) or a test advances."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
