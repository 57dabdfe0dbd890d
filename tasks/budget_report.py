"""Each run's Mirakl calls per operation against the operation's call budget, for the run summary.

The budget column is the limit every worker shares; `all_workers_in_window` is what every stream and worker spent
inside each window when the run ended (from the state store), so an operator sees how close the tenant is to
Mirakl's maximum, not only what this run did.
"""

from __future__ import annotations

from typing import Any

from bridge.runtime import Runtime, mirakl_usage_this_run
from connectors.mirakl.budgets import PAGES_FREE
from connectors.state.budgets import Limit

__all__ = ["mirakl_budget_rows"]

_UNITS = {10.0: "10 s", 60.0: "min", 3600.0: "h", 86400.0: "day"}


def mirakl_budget_rows(rt: Runtime) -> list[dict[str, Any]]:
    """One row per Mirakl operation this run called: calls, budget, all workers' use in each window, waits."""
    calls, waited = mirakl_usage_this_run(rt)
    usage = rt.mirakl_budget.usage() if rt.mirakl_budget is not None else {}
    rows: list[dict[str, Any]] = []
    for operation in sorted(calls):
        spent = usage.get(operation, [])
        budget = " and ".join(_limit(limit) for limit, _ in spent) or "none"
        if spent and operation in PAGES_FREE:
            budget += " (+ pages)"
        rows.append(
            {
                "operation": operation,
                "calls": calls[operation],
                "budget": budget,
                "all_workers_in_window": ", ".join(f"{used}/{_limit(limit)}" for limit, used in spent) or "-",
                "waited_s": round(waited.get(operation, 0.0), 1),
            }
        )
    return rows


def _limit(limit: Limit) -> str:
    return f"{limit.calls}/{_UNITS.get(limit.seconds, f'{limit.seconds:g} s')}"
