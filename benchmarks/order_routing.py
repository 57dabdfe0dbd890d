"""Order routing throughput against the BigCommerce quota bound, the sandbox in its own process.

Routing is bounded by the BigCommerce calls each order needs (its lines, its shipping addresses, the CX
metafield, plus its share of the order-list page), so the figure that matters is orders per second against
`quota * (1 - reserve) / window / calls_per_order`. The sandbox (served from a child interpreter over loopback
HTTP, see `benchmarks.process`) holds mixed baskets (one native line and two marketplace lines from two
sellers); the bridge routes them through the stream's tasks (Prefect's own per-run overhead is left out) and
reports both rates, their ratio, and its own CPU seconds apart from the sandbox's.

    python -m benchmarks.order_routing --orders 2000 --json PATH
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.process import SandboxProcess, bridge_runtime, bridge_usage, prefect_environment, write_figures
from bridge.streams import Stream

__all__ = ["main", "run"]

RESERVE = 0.1


def warm_up_gate() -> None:
    """Load Great Expectations once before the clock starts: a process start-up cost, not a per-order one."""
    import pandas as pd

    from expectations import run_gate

    row = {"line_id": "warm", "offer_id": 1, "quantity": 1, "offer_price": 1.0, "currency_ok": True}
    run_gate(pd.DataFrame([row]), "orders_out")


async def route_everything(rt: Any) -> Any:
    from tasks.orders import changed_orders, load_order_cursor, route_order_page
    from tasks.reporting import RunReport

    report = RunReport(stream=Stream.ORDER_ROUTING, title="benchmark")
    since = await load_order_cursor.fn(rt)
    async for page in changed_orders(rt, since):
        report.absorb((await route_order_page.fn(rt, page)).tally, "route_order_page")
    return report


async def run(orders: int, quota: int, window_ms: int, workdir: Path) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bcmirakl.prefect_api import prefect_api
    from bridge.config import load_config
    from bridge.simclock import SimulatedClock
    from connectors.state import logistic_orders_for, upsert_offer_map
    from connectors.state.models import LogisticOrder

    world = SandboxProcess("benchmarks.worlds:order_world", orders=orders, quota=quota, window_ms=window_ms)
    with prefect_api(workdir / "run"), world as sandbox:
        rt = bridge_runtime(sandbox, workdir, load_config(), SimulatedClock(), bc_reserve_share=RESERVE)
        try:
            with rt.sessions() as session:
                upsert_offer_map(session, sandbox.info["offer_rows"])
                session.commit()
            warm_up_gate()
            bridge0, sandbox0, started = bridge_usage(), sandbox.usage(), time.perf_counter()
            report = await route_everything(rt)
            elapsed = time.perf_counter() - started
            bridge1, sandbox1 = bridge_usage(), sandbox.usage()
            calls = rt.api_calls()
            with rt.sessions() as session:
                split_ok = len(logistic_orders_for(session, bc_order_id=10_000)) == 2
                logistic_orders = session.scalar(select(func.count()).select_from(LogisticOrder))
        finally:
            await rt.aclose()
    routed = int(report.counts.get("orders_routed", 0))
    calls_per_order = calls["bigcommerce"] / max(routed, 1)
    bound = quota * (1 - RESERVE) / (window_ms / 1000) / calls_per_order
    rate = routed / elapsed
    return {
        "orders": orders,
        "orders_routed": routed,
        "seconds": round(elapsed, 2),
        "orders_per_second": round(rate, 2),
        "bigcommerce_calls": calls["bigcommerce"],
        "bigcommerce_calls_per_order": round(calls_per_order, 3),
        "mirakl_calls": calls["mirakl"],
        "erp_calls": calls["erp"],
        "quota": quota,
        "window_ms": window_ms,
        "reserve_share": RESERVE,
        "quota_bound_orders_per_second": round(bound, 2),
        "ratio_to_bound": round(rate / bound, 3),
        "bridge_cpu_s": round(bridge1.cpu_s - bridge0.cpu_s, 2),
        "bridge_peak_rss_mib": round(bridge1.peak_rss_mib, 1),
        "sandbox_cpu_s": round(sandbox1.cpu_s - sandbox0.cpu_s, 2),
        "sandbox_peak_rss_mib": round(sandbox1.peak_rss_mib, 1),
        "split_into_two_logistic_orders": split_ok,
        "logistic_orders_recorded": logistic_orders,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--quota", type=int, default=150, help="BigCommerce requests per window (Standard plan)")
    parser.add_argument("--window-ms", type=int, default=6000, help="the sandbox's quota window (real: 30000)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bcmirakl-bench-") as tmp:
        prefect_environment(Path(tmp))
        figures = asyncio.run(run(args.orders, args.quota, args.window_ms, Path(tmp)))
    write_figures(figures, args.json)


if __name__ == "__main__":
    main()
