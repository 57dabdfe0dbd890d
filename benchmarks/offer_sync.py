"""Offer-sync benchmark (not a test): a full then a delta cycle over N offers, the sandbox in its own process.

    python -m benchmarks.offer_sync --offers 100000 --changed 0.05 --json PATH [--profile PROF]

The sandbox is served from a child interpreter over loopback HTTP (`benchmarks.process`), so the CPU and
peak RSS reported as `bridge_*` are the bridge process's alone; `sandbox_cpu_s` is the child's CPU over the
same full cycle, read from /proc. The full cycle runs against an unconstrained quota (its CPU is the figure).
Then a delta with no change must make zero BigCommerce calls (`unchanged_delta_*`). Then sellers churn the
changed share of the offers (a sandbox control) and the store's quota window is scaled down (`--quota`
requests per `--window-ms`) so the delta push is quota-bound over many windows; `ratio_to_bound` compares the
push's achieved write-call rate (calls / push wall time) with the usable quota rate (the client keeps 10 % of
the quota free). A drift-monitor run last counts variants still buyable with no stock (`oos_buyable_after`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.process import (
    SandboxProcess,
    bridge_runtime,
    bridge_usage,
    prefect_environment,
    preload_lazy_imports,
    write_figures,
)
from benchmarks.worlds import UNCONSTRAINED_QUOTA

__all__ = ["main", "run"]


async def run(offers: int, changed: float, quota: int, window_ms: int, workdir: Path) -> dict[str, Any]:
    from bcmirakl.prefect_api import prefect_api
    from bridge.config import load_config
    from bridge.runtime import use_runtime
    from bridge.simclock import SimulatedClock
    from flows.drift_monitor import drift_monitor
    from flows.offer_sync import offer_sync

    lazy_import_cpu_s = preload_lazy_imports()
    config = load_config()
    config = config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0})})
    with prefect_api(workdir / "run"), SandboxProcess("benchmarks.worlds:offer_world", offers=offers) as sandbox:
        rt = bridge_runtime(sandbox, workdir, config, SimulatedClock())
        control = httpx.AsyncClient(base_url=sandbox.base_url, timeout=120.0)
        try:
            with use_runtime(rt):
                bridge0, sandbox0, wall0 = bridge_usage(), sandbox.usage(), time.perf_counter()
                full = await offer_sync(mode="full")
                bridge1, sandbox1, full_wall = bridge_usage(), sandbox.usage(), time.perf_counter() - wall0
                calls0, idle0, idle_cpu0 = rt.bigcommerce.transport.total_calls, time.perf_counter(), bridge_usage()
                idle = await offer_sync(mode="delta")
                idle_wall, idle_cpu = time.perf_counter() - idle0, bridge_usage().cpu_s - idle_cpu0.cpu_s
                idle_calls = rt.bigcommerce.transport.total_calls - calls0
                churn = await control.post("/mirakl/_sandbox/offers/churn", json={"share": changed, "seed": 5})
                churn.raise_for_status()
                window = {"quota": quota, "window_ms": window_ms}
                (await control.put("/bigcommerce/_sandbox/rate-window", json=window)).raise_for_status()
                cpu1, wall1 = time.process_time(), time.perf_counter()
                delta = await offer_sync(mode="delta")
                delta_cpu, delta_wall = time.process_time() - cpu1, time.perf_counter() - wall1
                window = {"quota": UNCONSTRAINED_QUOTA, "window_ms": 1000}
                (await control.put("/bigcommerce/_sandbox/rate-window", json=window)).raise_for_status()
                drift = await drift_monitor()
            sandbox_end = sandbox.usage()
        finally:
            await control.aclose()
            await rt.aclose()
    usable = quota - -(-quota * 10 // 100)  # the client keeps 10 % of the quota free (ceil)
    bound = usable / (window_ms / 1000)
    push_wall = float(delta.counts["push_wall_s"]) or 1e-9
    write_calls = int(delta.counts["write_calls_bigcommerce"])
    achieved = write_calls / push_wall
    return {
        "offers_read": full.counts["offers_read"],
        "bridge_cpu_s": round(bridge1.cpu_s - bridge0.cpu_s, 2),
        "bridge_system_cpu_s": round(bridge1.system_s - bridge0.system_s, 2),
        "bridge_startup_cpu_s": round(bridge0.cpu_s, 2),  # before the clock: interpreter, imports, runtime set-up
        "bridge_lazy_import_cpu_s": round(lazy_import_cpu_s, 2),  # of the start-up: Great Expectations' import
        "bridge_peak_rss_mib": round(bridge1.peak_rss_mib, 1),  # start-up and the full cycle
        "bridge_peak_rss_mib_end": round(bridge_usage().peak_rss_mib, 1),  # deltas and drift monitor too
        "sandbox_cpu_s": round(sandbox1.cpu_s - sandbox0.cpu_s, 2),
        "sandbox_peak_rss_mib": round(sandbox_end.peak_rss_mib, 1),
        "wall_s": round(full_wall, 2),
        "changed": delta.counts["changed"],
        "api_calls": int(delta.counts["api_calls_bigcommerce"]),
        "write_calls": write_calls,
        "updates_per_call": delta.counts["updates_per_call"],
        "quota_bound_per_s": round(bound, 2),
        "achieved_per_s": round(achieved, 2),
        "ratio_to_bound": round(achieved / bound, 3),
        "push_windows": round(push_wall / (window_ms / 1000), 1),
        "oos_buyable_after": drift.counts["oos_buyable"],
        "unchanged_delta_bigcommerce_calls": idle_calls,
        "unchanged_delta_wall_s": round(idle_wall, 2),
        "unchanged_delta_bridge_cpu_s": round(idle_cpu, 2),  # the wall on a loaded machine is mostly waiting
        "load_average_1m": round(os.getloadavg()[0], 1),  # of the machine at the end: how shared the cores were
        "unchanged_delta_offers_read": idle.counts["offers_read"],
        "full": {
            "changed": full.counts["changed"],
            "api_calls_bigcommerce": full.counts["api_calls_bigcommerce"],
            "variant_batches": full.counts["push_batches"],
            "metafield_calls": full.counts["metafield_calls"],
        },
        "delta": {
            "offers_changed_by_sellers": churn.json()["changed"],
            "offers_read": delta.counts["offers_read"],
            "changed": delta.counts["changed"],
            "stock_only_changes": delta.counts["stock_only_changes"],
            "variant_batches": delta.counts["push_batches"],
            "inventory_calls": delta.counts["inventory_calls"],
            "metafield_calls": delta.counts["metafield_calls"],
            "api_calls_bigcommerce": delta.counts["api_calls_bigcommerce"],
            "push_wall_s": delta.counts["push_wall_s"],
            "bridge_cpu_s": round(delta_cpu, 2),
            "wall_s": round(delta_wall, 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--quota", type=int, default=4)
    parser.add_argument("--window-ms", type=int, default=500)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile of the bridge's CPU time here")
    args = parser.parse_args()
    # CPU time, not wall time: on a shared machine a wall-clock profile mostly measures waiting for a core.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    with tempfile.TemporaryDirectory(prefix="bcmirakl-bench-") as tmp:
        prefect_environment(Path(tmp))
        if profiler is not None:
            profiler.enable()
        figures = asyncio.run(run(args.offers, args.changed, args.quota, args.window_ms, Path(tmp)))
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
    write_figures(figures, args.json)


if __name__ == "__main__":
    main()
