"""Latency from a stock-out in Mirakl to BigCommerce's acknowledgement that the variant is unbuyable.

    python -m benchmarks.latency --offers 20000 --stock-outs 200 --minutes 10 --json PATH

What is simulated and what is real. `--stock-outs` moments are drawn uniformly over `--minutes` of sandbox
time; at each one a product that BigCommerce sells as buyable sells out (every offer of it goes to quantity 0,
through the sandbox control `/_sandbox/offers/stock-out`). The deployed schedule runs a delta every
`--interval-s` (60 s: cron `* * * * *`, as issue #15 asks; the shipped Variable says `*/2 * * * *`, i.e.
`--interval-s 120`) and drops a tick while the previous run is still going (`concurrency_limit`
with `CANCEL_NEW` in prefect.yaml). The benchmark walks those ticks on a simulated clock instead of sleeping
through the idle minutes between them: at each tick it applies the stock-outs whose moment has passed, then runs
one real delta cycle of the flow against the sandbox in its own process (deployed config: OF53 poll waits, and
the BigCommerce Standard quota of 150 requests per 30 s, real time), and reads each variant's acknowledgement
time from the offer map. A stock-out's latency is then

    (tick - moment)                schedule wait, exact on the simulated clock
  + process start                  a process worker starts each run in a fresh interpreter: measured once here
  + Mirakl budget waits            the bridge keeps Mirakl's call budgets on the simulated clock (OF53 every
                                   10 s, OF52 once a minute): waited in simulated time, added in full
  + (acknowledged - run start)     real, from the run's own clock

The compression is faithful because between ticks no run is active and nothing the bridge reads depends on
the idle time. It is conservative in two ways: a stock-out that falls inside a run is always left to the next
tick (the export snapshot is taken at the run's start), and the compressed runs re-read, through the cursor's
overlap, more already-seen changes than minute-apart runs would. Worker pickup is taken as immediate: Prefect
workers fetch scheduled runs `prefetch_seconds` (10) ahead and start them at their scheduled time. Not
measured: how long a real tenant takes to prepare an OF52 export (the sandbox completes it on the second
OF53 poll); add it to `run_to_ack` for a tenant that is slower.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks.process import SandboxProcess, bridge_runtime, prefect_environment, write_figures

__all__ = ["main", "run"]

STANDARD_QUOTA, STANDARD_WINDOW_MS = 150, 30_000  # BigCommerce Standard plan (bigcommerce.md §7.2)
MAX_EXTRA_TICKS = 10  # after the last stock-out, ticks allowed for the queue to drain before giving up


def measure_process_start() -> float:
    """Wall seconds for a fresh interpreter to import Prefect's engine and the flow, as each deployed run does."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import prefect.engine, flows.offer_sync"],
        check=True,
        cwd=Path(__file__).parents[1],
    )
    return time.perf_counter() - started


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_s": math.nan, "p95_s": math.nan, "max_s": math.nan}
    array = np.asarray(values)
    return {
        "p50_s": round(float(np.percentile(array, 50)), 2),
        "p95_s": round(float(np.percentile(array, 95)), 2),
        "max_s": round(float(array.max()), 2),
    }


def buyable_owned_skus(rt: Any) -> list[str]:
    """Mirakl-owned products BigCommerce acknowledged as buyable (the only ones a stock-out can make unbuyable)."""
    from connectors.state.offer_map import iter_offer_map

    with rt.sessions() as session:
        return sorted(
            row.product_sku
            for page in iter_offer_map(session, owner="mirakl")
            for row in page
            if row.bc_variant_id is not None and row.purchasable
        )


def acknowledged_unbuyable(rt: Any, skus: list[str], since: datetime) -> dict[str, datetime]:
    """Of `skus`, those whose variant BigCommerce acknowledged as unbuyable at or after `since`."""
    from connectors.state.offer_map import get_offer_map

    with rt.sessions() as session:
        rows = get_offer_map(session, skus)
    return {
        sku: row.bc_acknowledged_at
        for sku, row in rows.items()
        if row.purchasable is False and row.bc_acknowledged_at is not None and row.bc_acknowledged_at >= since
    }


@dataclass
class Walk:
    """What the walk over the schedule's ticks observed, per acknowledged stock-out and per run."""

    latencies: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # tick - moment
    to_ack: list[float] = field(default_factory=list)  # process start + (acknowledged - run start)
    runs: list[float] = field(default_factory=list)  # process start + run wall time
    skipped: int = 0  # ticks dropped because the previous run was still going
    left: int = 0  # stock-outs never acknowledged


async def walk_ticks(
    rt: Any,
    control: httpx.AsyncClient,
    plan: list[tuple[float, str]],
    interval_s: float,
    process_start: float,
    clock: Any,
) -> Walk:
    """Run a delta at each tick the schedule keeps, after selling out the products whose moment has passed.

    `clock` is the simulated clock the bridge keeps Mirakl's call budgets on: it is moved to each tick, and a
    budget wait inside a run (simulated, so not in the run's wall time) is added to that run's time."""
    from flows.offer_sync import offer_sync

    walk = Walk()
    origin = clock.now()
    pending: dict[str, float] = {}
    tick, last = interval_s, (plan[-1][0] if plan else 0.0) + MAX_EXTRA_TICKS * interval_s
    while (plan or pending) and tick <= last:
        due = [(moment, sku) for moment, sku in plan if moment <= tick]
        plan = plan[len(due) :]
        if due:
            body = {"product_skus": [sku for _, sku in due]}
            (await control.post("/mirakl/_sandbox/offers/stock-out", json=body)).raise_for_status()
            pending.update({sku: moment for moment, sku in due})
        clock.advance(max(0.0, (origin + timedelta(seconds=tick) - clock.now()).total_seconds()))
        started_at, started, slept = datetime.now(UTC), time.perf_counter(), clock.slept_s
        await offer_sync(mode="delta")
        waited = clock.slept_s - slept  # Mirakl budget waits, before the push (reads come first): counted in full
        duration = process_start + waited + time.perf_counter() - started
        walk.runs.append(duration)
        for sku, acknowledged in acknowledged_unbuyable(rt, list(pending), started_at).items():
            to_ack = process_start + waited + (acknowledged - started_at).total_seconds()
            wait = tick - pending.pop(sku)
            walk.waits.append(wait)
            walk.to_ack.append(to_ack)
            walk.latencies.append(wait + to_ack)
        next_tick = math.ceil((tick + duration) / interval_s) * interval_s
        walk.skipped += round((next_tick - tick) / interval_s) - 1
        tick = next_tick
    walk.left = len(pending) + len(plan)
    return walk


def bound_of(walk: Walk, wait: dict[str, float], to_ack: dict[str, float]) -> str:
    """What the p95 is mostly made of: waiting for the next tick, or the run (which also lengthens the wait
    when runs outlast the interval and the schedule drops ticks)."""
    if walk.skipped:
        return "run time: runs outlast the interval, ticks are dropped"
    return "schedule interval" if wait["p95_s"] >= to_ack["p95_s"] else "run time"


async def run(
    offers: int, stock_outs: int, minutes: float, interval_s: float, seed: int, workdir: Path
) -> dict[str, Any]:
    from bcmirakl.prefect_api import prefect_api
    from bridge.config import load_config
    from bridge.runtime import use_runtime
    from bridge.simclock import SimulatedClock
    from flows.offer_sync import offer_sync

    rng = random.Random(seed)
    process_start = measure_process_start()
    with prefect_api(workdir / "run"), SandboxProcess("benchmarks.worlds:offer_world", offers=offers) as sandbox:
        clock = SimulatedClock()
        rt = bridge_runtime(sandbox, workdir, load_config(), clock)
        control = httpx.AsyncClient(base_url=sandbox.base_url, timeout=120.0)
        try:
            with use_runtime(rt):
                await offer_sync(mode="full")  # the starting state, pushed under an unconstrained quota
                candidates = buyable_owned_skus(rt)
                if len(candidates) < stock_outs:
                    raise SystemExit(f"only {len(candidates)} buyable products for {stock_outs} stock-outs")
                window = {"quota": STANDARD_QUOTA, "window_ms": STANDARD_WINDOW_MS}
                (await control.put("/bigcommerce/_sandbox/rate-window", json=window)).raise_for_status()
                moments = (rng.uniform(0, minutes * 60) for _ in range(stock_outs))
                plan = sorted(zip(moments, rng.sample(candidates, stock_outs), strict=True))
                walk = await walk_ticks(rt, control, plan, interval_s, process_start, clock)
        finally:
            await control.aclose()
            await rt.aclose()
    wait, to_ack = percentiles(walk.waits), percentiles(walk.to_ack)
    return {
        "stock_outs": stock_outs,
        "acknowledged": len(walk.latencies),
        "not_acknowledged": walk.left,
        **percentiles(walk.latencies),
        "schedule_wait": wait,
        "run_to_ack": to_ack,
        "process_start_s": round(process_start, 2),
        "runs": len(walk.runs),
        "run_p95_s": percentiles(walk.runs)["p95_s"],
        "ticks_skipped": walk.skipped,
        "interval_s": interval_s,
        "minutes": minutes,
        "offers_in_sandbox": sandbox.info["offers"],
        "bounded_by": bound_of(walk, wait, to_ack),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=20_000, help="size of the seeded world")
    parser.add_argument("--stock-outs", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0, help="sandbox time the stock-outs are spread over")
    parser.add_argument("--interval-s", type=float, default=60.0, help="the delta schedule (deployed: every minute)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bcmirakl-bench-") as tmp:
        prefect_environment(Path(tmp))
        figures = asyncio.run(run(args.offers, args.stock_outs, args.minutes, args.interval_s, args.seed, Path(tmp)))
    write_figures(figures, args.json)


if __name__ == "__main__":
    main()
