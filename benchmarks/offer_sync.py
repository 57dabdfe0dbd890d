"""Offer-sync benchmark (not a test): a full then a delta cycle over N offers on the in-process sandbox.

    python -m benchmarks.offer_sync --offers 100000 --changed 0.05 --json PATH

The full cycle runs against an unconstrained quota (its CPU is the figure). Then a delta with no change must
make zero BigCommerce calls. Then the changed share is applied and the store's quota window is scaled down
(`--quota` requests per `--window-ms`) so the delta push is quota-bound over many windows; `ratio_to_bound`
compares the push's achieved write-call rate (calls / push wall time) with the usable quota rate (the client
keeps 10 % of the quota free).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main", "run"]

# The seeded world averages about 1.44 offers per product (1-3 sellers each, sampled from four).
OFFERS_PER_PRODUCT = 1.44
# The full cycle measures CPU, not pacing: its quota never binds.
UNCONSTRAINED_QUOTA = 1_000_000


async def run(offers: int, changed: float, quota: int, window_ms: int) -> dict[str, Any]:
    import httpx

    from bcmirakl.config import load_config
    from bcmirakl.runtime import build_runtime, use_runtime
    from bcmirakl.sandbox_settings import sandbox_settings
    from bcmirakl.simclock import SimulatedClock
    from flows.drift_monitor import drift_monitor
    from flows.offer_sync import offer_sync
    from sandbox.app import create_sandbox
    from sandbox.bigcommerce import BigCommerceSandboxSettings
    from sandbox.mirakl import MiraklSandboxSettings
    from sandbox.seed import SeedConfig

    # Mirakl's call budgets are kept on both sides on a simulated clock: a budget wait costs no benchmark time.
    clock = SimulatedClock()
    sandbox = create_sandbox(
        seed=SeedConfig(marketplace_products=max(1, int(offers / OFFERS_PER_PRODUCT)), orders=0),
        bigcommerce=BigCommerceSandboxSettings(quota=UNCONSTRAINED_QUOTA, window_ms=1000),
        mirakl=MiraklSandboxSettings(budget_clock=clock.now),
    )
    config = load_config()
    config = config.model_copy(update={"offers": config.offers.model_copy(update={"export_poll_seconds": 0.0})})
    workdir = Path(tempfile.mkdtemp(prefix="bcmirakl-bench-"))
    settings = sandbox_settings(sandbox.base_url, workdir)
    rt = build_runtime(
        settings,
        config=config,
        transport=httpx.ASGITransport(app=sandbox.app),
        budget_clock=clock.now,
        budget_sleep=clock.sleep,
    )
    catalog = sandbox.mirakl.state.store.catalog
    window = sandbox.bigcommerce.state.rate_window
    try:
        with use_runtime(rt):
            cpu0, wall0 = time.process_time(), time.perf_counter()
            full = await offer_sync(mode="full")
            full_cpu, full_wall = time.process_time() - cpu0, time.perf_counter() - wall0
            calls0 = rt.bigcommerce.transport.total_calls
            idle = await offer_sync(mode="delta")
            idle_calls = rt.bigcommerce.transport.total_calls - calls0
            rng = random.Random(5)
            live = [o for o in catalog.offers.values() if not o.deleted]
            picked = rng.sample(live, int(len(live) * changed))
            now = sandbox.mirakl.state.store.now()
            for offer in picked:
                offer.quantity = 0 if rng.random() < 0.3 else offer.quantity + 1
                catalog.touch(offer, now)
            window.quota, window.window_ms = quota, window_ms
            await asyncio.sleep(1.0)  # let the unconstrained window close, so the scaled one starts clean
            cpu1, wall1 = time.process_time(), time.perf_counter()
            delta = await offer_sync(mode="delta")
            delta_cpu, delta_wall = time.process_time() - cpu1, time.perf_counter() - wall1
            window.quota = UNCONSTRAINED_QUOTA
            drift = await drift_monitor()
    finally:
        await rt.aclose()
    usable = quota - -(-quota * 10 // 100)  # the client keeps 10 % of the quota free (ceil)
    bound = usable / (window_ms / 1000)
    push_wall = float(delta.counts["push_wall_s"]) or 1e-9
    write_calls = int(delta.counts["write_calls_bigcommerce"])
    achieved = write_calls / push_wall
    return {
        "offers_read": full.counts["offers_read"],
        "changed": delta.counts["changed"],
        "api_calls": int(delta.counts["api_calls_bigcommerce"]),
        "write_calls": write_calls,
        "updates_per_call": delta.counts["updates_per_call"],
        "quota_bound_per_s": round(bound, 2),
        "achieved_per_s": round(achieved, 2),
        "ratio_to_bound": round(achieved / bound, 3),
        "push_windows": round(push_wall / (window_ms / 1000), 1),
        "cpu_s": round(full_cpu, 2),
        "wall_s": round(full_wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "oos_buyable_after": drift.counts["oos_buyable"],
        "unchanged_delta_bigcommerce_calls": idle_calls,
        "unchanged_delta_offers_read": idle.counts["offers_read"],
        "full": {
            "changed": full.counts["changed"],
            "api_calls_bigcommerce": full.counts["api_calls_bigcommerce"],
            "variant_batches": full.counts["push_batches"],
            "metafield_calls": full.counts["metafield_calls"],
        },
        "delta": {
            "offers_read": delta.counts["offers_read"],
            "changed": delta.counts["changed"],
            "stock_only_changes": delta.counts["stock_only_changes"],
            "variant_batches": delta.counts["push_batches"],
            "inventory_calls": delta.counts["inventory_calls"],
            "metafield_calls": delta.counts["metafield_calls"],
            "api_calls_bigcommerce": delta.counts["api_calls_bigcommerce"],
            "push_wall_s": delta.counts["push_wall_s"],
            "cpu_s": round(delta_cpu, 2),
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
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    figures = asyncio.run(run(args.offers, args.changed, args.quota, args.window_ms))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
