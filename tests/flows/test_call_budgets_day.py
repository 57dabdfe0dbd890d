"""Every stream on its deployed schedule through a simulated day never exceeds a Mirakl call budget.

The sandbox enforces Mirakl's documented maximums (a 429 with `Retry-After` past any of them) and counts what it
refused; the bridge keeps the same budgets in its state store. Both read one `SimulatedClock`, which moves only
when the bridge waits for a slot or the schedule reaches its next tick, so the day costs no real time.

Running all ~4,300 scheduled runs of a day would take most of an hour of real CPU, so the day is compressed
honestly: the clock walks the whole day in order, every daily run happens at its tick (the nightly full offer
export, the daily reconciliation, plus a 31-day billing-cycle reconciliation that fires 31 TL02 reads at once),
and the frequent streams run at every one of their ticks inside windows of the day (its start, around the
nightly jobs, its end). Every Mirakl budget is a sliding window of at most an hour or exactly a day, so the
windows exercise every per-minute budget at full schedule pressure and the daily ones across the whole day.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcmirakl.demo_scenario import BEFORE_STREAM, demo_parameters
from bridge.config import load_config
from bridge.runtime import Runtime, build_runtime, use_runtime
from bridge.sandbox_settings import sandbox_settings
from bridge.simclock import SimulatedClock
from deployments.plan import SCHEDULE_DEFAULTS
from flows.registry import load_flow
from sandbox.app import Sandbox
from tests.support.clock import budget_clock_kwargs, budgeted_sandbox

MIDNIGHT = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), tzinfo=UTC)
# The frequent streams run at every tick inside these windows (minute of the day, length in minutes).
WINDOWS = ((0, 5), (120, 3), (330, 3), (1435, 5))


def _every_minutes(cron: str) -> int | None:
    """Minutes between runs of a `*` or `*/n` minute schedule; None for a daily one."""
    minute, hour = cron.split()[:2]
    if hour != "*":
        return None
    return 1 if minute == "*" else int(minute.removeprefix("*/"))


def _daily_minute(cron: str) -> int:
    minute, hour = cron.split()[:2]
    return int(hour) * 60 + int(minute)


FREQUENT = {
    ("order_routing", None): _every_minutes(SCHEDULE_DEFAULTS["order_routing_cron"]),
    ("acceptance_guard", None): _every_minutes(SCHEDULE_DEFAULTS["acceptance_guard_cron"]),
    ("offer_sync", "delta"): _every_minutes(SCHEDULE_DEFAULTS["offer_sync_delta_cron"]),
    ("shipment_sync", None): _every_minutes(SCHEDULE_DEFAULTS["shipment_sync_cron"]),
    ("refund_mirror", None): _every_minutes(SCHEDULE_DEFAULTS["refund_mirror_cron"]),
    ("drift_monitor", None): _every_minutes(SCHEDULE_DEFAULTS["drift_monitor_cron"]),
}
TODAY = MIDNIGHT.date()
CYCLE = {"start": TODAY - timedelta(days=30), "end": TODAY, "scope": "cycle"}
DAILY: list[tuple[int, str, dict[str, Any]]] = [
    (_daily_minute(SCHEDULE_DEFAULTS["offer_sync_full_cron"]), "offer_sync", {"mode": "full"}),
    (_daily_minute(SCHEDULE_DEFAULTS["commission_reconciliation_cron"]), "commission_reconciliation", {}),
    (_daily_minute(SCHEDULE_DEFAULTS["commission_reconciliation_cron"]) + 1, "commission_reconciliation", CYCLE),
]


@dataclass
class Day:
    clock: SimulatedClock
    sandbox: Sandbox
    runtime: Runtime
    runs: int = 0


@pytest.fixture
async def day(tmp_path: Path) -> AsyncIterator[Day]:
    clock = SimulatedClock(MIDNIGHT)
    sandbox = budgeted_sandbox(clock)
    transport = httpx.ASGITransport(app=sandbox.app)
    settings = sandbox_settings(sandbox.base_url, tmp_path)
    # Retries (a 429 would be one) and OF53 polls wait on the simulated clock too: a broken budget fails fast.
    runtime = build_runtime(settings, config=load_config(), transport=transport, **budget_clock_kwargs(clock))
    try:
        yield Day(clock, sandbox, runtime)
    finally:
        await runtime.aclose()


def _ticks() -> list[tuple[int, str, dict[str, Any]]]:
    ticks = [(minute, stream, params) for minute, stream, params in DAILY]
    for start, length in WINDOWS:
        for minute in range(start, start + length):
            for (stream, mode), every in FREQUENT.items():
                if every is not None and minute % every == 0:
                    ticks.append((minute, stream, {"mode": mode} if mode else {}))
    return sorted(ticks, key=lambda tick: tick[0])


async def _run(day: Day, minute: int, stream: str, params: dict[str, Any]) -> Any:
    due = MIDNIGHT + timedelta(minutes=minute)
    if day.clock.now() < due:
        day.clock.advance((due - day.clock.now()).total_seconds())
    event = BEFORE_STREAM.get((stream, params.get("mode")))
    if event is not None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=day.sandbox.app)) as http:
            await event(http, day.sandbox)
    with use_runtime(day.runtime):
        # The demo's reconciliation covers today; the billing-cycle run keeps its own 31-day period.
        state = await load_flow(stream)(
            **(params if "start" in params else demo_parameters(stream, params)), return_state=True
        )
    assert state.is_completed(), f"{stream} {params} at minute {minute}: {state.message}"
    day.runs += 1
    return await state.result()


@pytest.mark.flow
async def test_every_stream_on_its_schedule_for_a_day_never_exceeds_a_mirakl_call_budget(day: Day) -> None:
    reports = [await _run(day, minute, stream, params) for minute, stream, params in _ticks()]

    # An internal read on purpose: what the tenant admitted and refused is a count of calls served, which no
    # Mirakl API tells (tests/support/sandbox_api.py reads the outcomes the API can tell).
    frequencies = day.sandbox.mirakl.state.call_frequencies
    assert dict(frequencies.refused) == {}  # the tenant never had to say 429
    assert {"OR11", "OF52", "OF53", "OF04", "TL02", "SH21", "IV01", "SBC11"} <= set(frequencies.admitted)
    assert day.clock.now() < MIDNIGHT + timedelta(days=1, hours=1)  # budgets slowed the day, not stopped it
    gate = day.runtime.mirakl_budget
    assert gate is not None
    assert gate.waited_s["OR11"] > 0 and gate.waited_s["TL02"] > 0  # the budgets did bind: the proof is not vacuous
    assert frequencies.admitted["TL02"] >= 32  # the cycle's 31 days and the daily run, paced within 20/min
    assert frequencies.admitted["SH21"] == 1 and frequencies.admitted["SBC11"] == 1  # once a day, shared
    or11_rows = [row for report in reports for row in report.budget if row["operation"] == "OR11"]
    assert or11_rows and all(row["budget"] == "1/min" for row in or11_rows)


def test_the_compressed_day_runs_every_scheduled_stream_and_every_daily_job() -> None:
    streams = {(stream, params.get("mode"), params.get("scope")) for _, stream, params in _ticks()}
    assert {(stream, mode, None) for stream, mode in FREQUENT} <= streams
    assert ("commission_reconciliation", None, "cycle") in streams and ("offer_sync", "full", None) in streams
    assert all(isinstance(day, date) for day in (CYCLE["start"], CYCLE["end"]))
