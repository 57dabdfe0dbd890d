"""Fifty seeded fault schedules over every stream (a smoke of `make chaos`): no invariant may break.

Each schedule kills runs at named points, injects platform faults, races a second worker, repeats events and
jumps the marketplace's clock, then runs every stream cleanly and checks the invariants from outside the
bridge (tests/chaos/invariants.py). A violation names its seed; `make chaos-replay SEED=<n>` replays it.

`KNOWN_HOLES` lists the violation kinds that holes already reported (issue #13 and its siblings) still cause:
they are kept as checks and reported as a warning, not hidden, and do not fail the smoke; remove an entry once
its fix has landed (`BCMIRAKL_CHAOS_STRICT=1` treats every kind as a failure, to see where things stand).
`BCMIRAKL_CHAOS_KINDS=kill_before_call,http_5xx,...` restricts the fault kinds drawn.
"""

from __future__ import annotations

import os
import warnings

from tests.chaos.runner import run_parallel
from tests.chaos.schedule import ALL_KINDS

SMOKE_SCHEDULES = 50
FIRST_SEED = 1
# Empty since the 1,000-schedule run of 2026-12-01 found no violation (benchmarks/results/chaos.json).
KNOWN_HOLES: dict[str, str] = {}


def _kinds() -> tuple[str, ...]:
    chosen = os.environ.get("BCMIRAKL_CHAOS_KINDS")
    return tuple(k for k in chosen.split(",") if k) if chosen else ALL_KINDS


def test_fifty_fault_schedules_break_no_invariant_beyond_the_known_holes() -> None:
    result = run_parallel(FIRST_SEED, SMOKE_SCHEDULES, kinds=_kinds(), workers=2)
    tolerated = {} if os.environ.get("BCMIRAKL_CHAOS_STRICT") == "1" else KNOWN_HOLES

    killed = sum(n for key, n in result.faults_fired.items() if key.endswith(":killed"))
    assert killed >= SMOKE_SCHEDULES // 5, f"only {killed} runs were killed: the schedules prove little"
    unexpected = {kind: n for kind, n in result.violations.items() if kind not in tolerated}
    seeds = {seed: kinds for seed, kinds in result.failing.items() if set(kinds) - set(tolerated)}
    assert unexpected == {}, f"violations {unexpected} at seeds {seeds} (replay: make chaos-replay SEED=<seed>)"
    known = {kind: n for kind, n in result.violations.items() if kind in tolerated}
    if known:
        warnings.warn(f"known holes still open: {known} ({', '.join(KNOWN_HOLES[k] for k in known)})", stacklevel=1)
