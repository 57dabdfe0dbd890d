"""`bcmirakl demo`: the whole bridge against the seeded sandbox, on one machine, with nothing to configure.

The sandbox is served over real HTTP on a loopback port and the bridge is configured exactly as for real
stores (base URLs and credentials in the environment), so the demo exercises the production code path.
State goes to a fresh SQLite file and Prefect runs locally (ephemeral API) with its home under the workdir.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from bcmirakl.tables import rows_table, terminal_console

__all__ = ["run_demo"]


def _prepare_environment(workdir: Path) -> None:
    """Point Prefect and the bridge at the workdir before Prefect is imported."""
    if workdir.exists():
        shutil.rmtree(workdir / "state", ignore_errors=True)
        shutil.rmtree(workdir / "artifacts", ignore_errors=True)
    (workdir / "state").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str((workdir / "prefect").resolve()))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


async def run_demo(workdir: Path) -> int:
    _prepare_environment(workdir)
    import httpx

    from bcmirakl.demo_scenario import BEFORE_STREAM, demo_parameters
    from bridge.runtime import build_runtime, use_runtime
    from bridge.sandbox_settings import sandbox_environment
    from bridge.settings import load_settings
    from bridge.simclock import SimulatedClock
    from flows.registry import DEMO_SEQUENCE, load_flow
    from sandbox.mirakl import MiraklSandboxSettings
    from sandbox.server import BackgroundSandbox

    rows: list[dict[str, Any]] = []
    budget_rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    # The sandbox enforces Mirakl's call budgets and the bridge keeps them, both on one simulated clock: a wait for
    # the next OR11 slot is shown in the table below, not spent in real time. The sandbox answers over loopback
    # HTTP from another thread, so requests in flight get 50 ms to arrive before simulated time moves on.
    clock = SimulatedClock(settle_s=0.05)
    with BackgroundSandbox(mirakl=MiraklSandboxSettings(budget_clock=clock.now)) as sandbox:
        root = workdir.resolve()
        os.environ.update(sandbox_environment(sandbox.base_url, root, f"sqlite:///{root / 'state' / 'state.db'}"))
        print(f"sandbox serving on {sandbox.base_url}; state in {workdir / 'state'}")
        runtime = build_runtime(load_settings(), budget_clock=clock.now, budget_sleep=clock.sleep)
        try:
            with use_runtime(runtime):
                for stream, params in DEMO_SEQUENCE:
                    event = BEFORE_STREAM.get((stream, params.get("mode")))
                    if event is not None:
                        async with httpx.AsyncClient(timeout=30) as http:
                            print(f"  sandbox: {await event(http, sandbox)}")
                    params = demo_parameters(stream, params)
                    flow = load_flow(stream)
                    t0 = time.perf_counter()
                    state = await flow(**params, return_state=True)
                    report = await state.result(raise_on_failure=False) if state.is_completed() else None
                    for line in _partial_imports(runtime, report):
                        print(f"  offer sync: {line}")
                    label = stream + (f" ({params['mode']})" if "mode" in params else "")
                    budget_rows += [{"stream": label, **row} for row in getattr(report, "budget", [])]
                    rows.append(
                        {
                            "stream": label,
                            "state": state.type.value,
                            "seconds": f"{time.perf_counter() - t0:.1f}",
                            "summary": _summarise(report) if report is not None else (state.message or "")[:100],
                        }
                    )
        finally:
            await runtime.aclose()
    console = terminal_console()
    _print_table(rows, console)
    if budget_rows:
        refused = sum(sandbox.mirakl.state.call_frequencies.refused.values())
        title = f"Mirakl calls against budget (simulated time waited: {clock.slept_s:.0f}s; sandbox 429s: {refused})"
        _print_table(budget_rows, console, title)
    artifacts = Path(os.environ["BCMIRAKL_ARTIFACTS_DIR"])
    print(f"\nartifacts: {artifacts} (markdown summaries and JSON tables), and in Prefect under PREFECT_HOME")
    print(f"total {time.perf_counter() - started:.1f}s")
    return 0 if all(r["state"] == "COMPLETED" for r in rows) else 1


def _partial_imports(runtime: Any, report: Any) -> list[str]:
    """Each partial seller import of an offer-sync run, with how many of that seller's products stay on sale."""
    from sqlalchemy import func, select

    from connectors.state import OfferMapping

    rows = (getattr(report, "tables", None) or {}).get("partial-imports") or []
    lines = []
    for row in rows:
        with runtime.sessions() as session:
            selling = session.scalar(
                select(func.count()).where(OfferMapping.shop_id == row["shop_id"], OfferMapping.purchasable.is_(True))
            )
        lines.append(
            f"shop {row['shop_id']}'s import {row['import_id']} is partial ({row['lines_in_error']} of "
            f"{row['lines_read']} lines in error: {row['top_errors'] or row['note']}); "
            f"{selling} of its products stay buyable"
        )
    return lines


def _summarise(report: Any) -> str:
    """The run summary's verdict sentence: what it wrote, what it set aside, what to do."""
    from tasks.summary_markdown import verdict_of

    return verdict_of(report)


def _print_table(rows: list[dict[str, Any]], console: Console, title: str | None = None) -> None:
    if rows:
        console.print()
        console.print(rows_table(rows, title=title))
