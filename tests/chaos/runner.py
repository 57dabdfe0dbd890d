"""Run fault schedules against a fresh world each, then clean passes, then the invariants.

`run_schedule(seed)` is the unit: it builds the world, plays the schedule's episodes (user actions, then one
stream run with its fault armed), clears every fault, runs every stream twice cleanly (the second time with a
full offer sync) and reconciliation for today, and returns the violations found. `run_many` runs a seed range
and aggregates per violation kind; every failing seed is listed, and `--seed N --schedules 1` replays it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import random
import tempfile
import time
import traceback
import warnings
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bridge.config import BridgeConfig, load_config
from flows.registry import load_flow
from tests.chaos.invariants import Violation, check_all
from tests.chaos.schedule import ALL_KINDS, STREAMS, Episode, Schedule, generate
from tests.chaos.seams import SimulatedKill, bypass_prefect, patch_everywhere, run_flow
from tests.chaos.world import ChaosWorld, StepFaults

__all__ = ["ScheduleResult", "SuiteResult", "run_many", "run_parallel", "run_schedule"]

CLEAN_PASSES: tuple[tuple[tuple[str, dict[str, Any]], ...], ...] = (
    tuple((stream, {"mode": "delta"} if stream == "offer_sync" else {}) for stream in STREAMS),
    tuple((stream, {"mode": "full"} if stream == "offer_sync" else {}) for stream in STREAMS),
)


@dataclass
class ScheduleResult:
    schedule: Schedule
    violations: list[Violation]
    outcomes: list[str]
    wall_s: float
    # (fault kind, how its run ended: completed / killed / failed), one per faulted run
    effects: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class SuiteResult:
    seed: int
    schedules: int
    kinds: tuple[str, ...]
    violations: Counter[str] = field(default_factory=Counter)
    failing: dict[int, list[str]] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    faults_fired: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "schedules": self.schedules,
            "violations": dict(sorted(self.violations.items())),
            "seed": self.seed,
            "wall_s": round(self.wall_s, 1),
            "cpu_s_per_schedule": round(self.cpu_s / max(1, self.schedules), 3),
            "kinds": list(self.kinds),
            "failing_seeds": {str(seed): kinds for seed, kinds in sorted(self.failing.items())},
            "runs_by_fault_and_outcome": dict(sorted(self.faults_fired.items())),
        }


async def _arm(world: ChaosWorld, episode: Episode, rng: random.Random) -> StepFaults:
    faults = StepFaults()
    fault = episode.fault
    if fault is None:
        return faults
    kind, at = fault.kind, fault.at
    if kind == "kill_before_call":
        faults.kill_before_write = at
    elif kind == "kill_after_call":
        faults.kill_after_write = at
    elif kind == "kill_after_commit":
        world.kill_at_commit = world.commits + at + 1
    elif kind == "kill_before_cursor":
        world.kill_at_cursor = world.cursor_sets + 1 + (at - 1) % 2  # most runs move one or two cursors
    elif kind == "timeout_request_lost":
        faults.timeout_before_write = at
    elif kind == "timeout_answer_lost":
        faults.timeout_after_write = at
    elif kind == "http_5xx":
        status = rng.choice((500, 502, 503))
        await world.set_http_faults(fault.system, [{"path": ".", "error_rate": 1.0, "status": status, "times": at * 2}])
    elif kind == "http_429_burst":
        await world.set_http_faults(fault.system, [{"path": ".", "burst_429": at * 3}])
    elif kind == "malformed_body":
        await world.set_http_faults(fault.system, [{"path": ".", "method": "GET", "malformed_rate": 1.0, "times": at}])
    elif kind == "partial_batch_failure":
        rule = {"path": "/v3/catalog/variants$", "method": "PUT", "partial_failure_rate": 0.5, "times": at}
        await world.set_http_faults("bigcommerce", [rule])
    elif kind == "duplicate_delivery":
        faults.duplicate_list_items = True
    elif kind == "racing_worker":
        faults.race_at_write = at
        faults.race = lambda: _second_worker(world, episode)
    elif kind == "clock_jump":
        world.mirakl_skew += timedelta(minutes=rng.choice((-90, -10, 10, 90, 60 * 24)))
        world.clock.now_s += rng.choice((0.0, 31.0, 3600.0))
    return faults


async def _second_worker(world: ChaosWorld, episode: Episode) -> None:
    """The same stream started by another worker (or a duplicated trigger) while the first one's write is in flight."""
    from tests.chaos.world import ChaosTransport

    runtime = world.build_runtime(ChaosTransport(world.sandbox.app, world.log))
    from bridge.runtime import use_runtime

    try:
        with use_runtime(runtime):
            await run_flow(load_flow(episode.stream), **episode.params)
    except Exception:  # the racing worker's own failure is part of the weather, not a finding
        pass
    finally:
        await runtime.aclose()


async def _run(world: ChaosWorld, stream: str, params: dict[str, Any]) -> Any:
    from bridge.runtime import use_runtime

    world.dead = False  # a new run is a new process
    before = asyncio.all_tasks()
    try:
        with use_runtime(world.runtime):
            return await run_flow(load_flow(stream), **params)
    finally:
        # The process ends with its run: coroutines it started (siblings of a failed gather, a heartbeat) die
        # with it instead of waking up inside the next run.
        leftovers = [task for task in asyncio.all_tasks() - before if not task.done()]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)


def _today(world: ChaosWorld) -> dict[str, Any]:
    """Today by both platforms' clocks. Mirakl's may have jumped past midnight (`clock_jump`): a refund made
    today in BigCommerce is then booked by TL02 tomorrow, and one day's reconciliation would show only its first
    half as `refund_not_mirrored` (the documented cut-off); the days of both clocks together hold both halves."""
    now = datetime.now(UTC)
    days = sorted({now.date(), (now + world.mirakl_skew).date()})
    return {"start": days[0], "end": days[-1]}


async def run_schedule(
    seed: int, *, kinds: tuple[str, ...] = ALL_KINDS, config: BridgeConfig | None = None, workdir: Path | None = None
) -> ScheduleResult:
    """Play schedule `seed` on a fresh world (inside `bypass_prefect`) and check every invariant."""
    import connectors.state

    started = time.perf_counter()
    schedule = generate(seed, kinds)
    rng = random.Random(seed * 7919 + 1)
    with tempfile.TemporaryDirectory(prefix=f"chaos-{seed}-", dir=workdir) as tmp:
        world = ChaosWorld.create(Path(tmp), config or load_config())
        outcomes: list[str] = []
        effects: list[tuple[str, str]] = []
        with ExitStack() as stack:
            patch_everywhere(stack, connectors.state.set_cursor, world.on_set_cursor(connectors.state.set_cursor))
            try:
                for episode in schedule.episodes:
                    for action in episode.actions:
                        outcomes.append(await world.act(action, rng))
                    faults = await _arm(world, episode, rng)
                    world.transport.faults = faults
                    try:
                        await _run(world, episode.stream, episode.params)
                        outcome = "completed"
                    except SimulatedKill as kill:
                        outcome = f"killed ({kill})"
                    except Exception as exc:
                        outcome = f"failed ({type(exc).__name__})"
                    finally:
                        world.transport.faults = None
                        world.kill_at_commit = world.kill_at_cursor = None
                        await world.clear_http_faults()
                    outcomes.append(f"{episode}: {outcome} {'/'.join(faults.fired)}")
                    if episode.fault is not None:
                        effects.append((episode.fault.kind, outcome.split(" ", 1)[0]))
                violations: list[Violation] = []
                for clean in CLEAN_PASSES:
                    for stream, params in clean:
                        try:
                            await _run(world, stream, params)
                        except Exception as exc:
                            violations.append(
                                Violation("clean_run_failed", f"{stream}: {type(exc).__name__}: {exc}"[:300])
                            )
                try:
                    reconciliation: Any = await _run(world, "commission_reconciliation", _today(world))
                except Exception as exc:
                    reconciliation = exc
                violations += await check_all(world, reconciliation)
            finally:
                await world.aclose()
    return ScheduleResult(schedule, violations, outcomes, time.perf_counter() - started, effects)


def quiet() -> None:
    """The bridge warns on every injected fault; thousands of schedules would drown the report."""
    logging.disable(logging.CRITICAL)
    warnings.filterwarnings("ignore")


async def run_many(
    first_seed: int, count: int, *, kinds: tuple[str, ...] = ALL_KINDS, verbose: bool = False, step: int = 1
) -> SuiteResult:
    """Schedules `first_seed`, `first_seed + step`, ... (`count` of them) in this process."""
    result = SuiteResult(seed=first_seed, schedules=count, kinds=kinds)
    started, cpu_started = time.perf_counter(), time.process_time()
    config = load_config()
    for stream in (*STREAMS, "commission_reconciliation"):
        load_flow(stream)  # imported before any schedule, so every module's `set_cursor` is reached by the seam
    with bypass_prefect():
        for seed in range(first_seed, first_seed + count * step, step):
            try:
                one = await run_schedule(seed, kinds=kinds, config=config)
            except Exception as exc:  # a fault in the harness itself: counted and shown, never mistaken for a pass
                detail = "".join(traceback.format_exception_only(exc)).strip()
                one = ScheduleResult(generate(seed, kinds), [Violation("harness_error", detail[:500])], [], 0.0)
            kinds_found = sorted({v.kind for v in one.violations})
            for violation in one.violations:
                result.violations[violation.kind] += 1
            result.faults_fired.update(f"{kind}:{ended}" for kind, ended in one.effects)
            if one.violations:
                result.failing[seed] = kinds_found
                print(f"VIOLATION seed={seed} (replay: make chaos-replay SEED={seed}): {', '.join(kinds_found)}")
                for violation in one.violations[:10]:
                    print(f"    {violation.kind}: {violation.detail}")
                if verbose:
                    print("    " + one.schedule.describe())
                    for line in one.outcomes:
                        print(f"      {line}")
            elif verbose:
                print(f"ok seed={seed} {one.wall_s:.2f}s")
    result.wall_s = time.perf_counter() - started
    result.cpu_s = time.process_time() - cpu_started
    return result


def _worker(first_seed: int, count: int, kinds: tuple[str, ...], verbose: bool, step: int) -> SuiteResult:
    quiet()
    return asyncio.run(run_many(first_seed, count, kinds=kinds, verbose=verbose, step=step))


def run_parallel(
    first_seed: int, count: int, *, kinds: tuple[str, ...] = ALL_KINDS, workers: int = 2, verbose: bool = False
) -> SuiteResult:
    """`run_many` split over `workers` processes (seed i goes to worker i mod workers); figures merged."""
    if workers <= 1:
        quiet()
        return asyncio.run(run_many(first_seed, count, kinds=kinds, verbose=verbose))
    started = time.perf_counter()
    shares = [(first_seed + w, len(range(w, count, workers))) for w in range(workers)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        parts = list(pool.map(_worker, *zip(*[(s, n, kinds, verbose, workers) for s, n in shares if n], strict=True)))
    merged = SuiteResult(seed=first_seed, schedules=count, kinds=kinds)
    for part in parts:
        merged.violations.update(part.violations)
        merged.faults_fired.update(part.faults_fired)
        merged.failing.update(part.failing)
        merged.cpu_s += part.cpu_s
    merged.wall_s = time.perf_counter() - started
    return merged
