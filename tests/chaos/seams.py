"""The seams the chaos suite injects through, from outside the bridge's code.

Three things make a thousand schedules fit in minutes on two cores without changing what the bridge does:

- **Prefect is bypassed, not emulated away.** A flow's `.fn` runs with each task called as its plain function,
  with the task's own retry rule (`retries`, `retry_condition_fn`) applied on the spot: the same code paths, the
  same retries, none of the ~0.1 s per flow and ~3 ms per task an orchestrator adds. Artifacts and events are
  captured instead of sent; each flow call gets its own flow-run id.
- **Time is virtual where the bridge waits.** Backoffs, quota waits and OF53 polls advance a virtual clock
  instead of sleeping; the BigCommerce sandbox measures its quota window on the same clock, so a wait still
  lets the window refresh.
- **The quality gate is memoized.** The gate's verdict is a pure function of the rows it reads; identical
  batches recur across schedules (every schedule starts from the same seeded world), so each distinct batch is
  validated by Great Expectations once per process and its verdict reused.

A crash is `SimulatedKill`, a `BaseException`: no `except Exception` in the bridge can swallow it, so it leaves
the state store and the sandbox exactly as a `kill -9` at that instant would (uncommitted transactions roll back).
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import inspect
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from unittest import mock

__all__ = [
    "BRIDGE_PACKAGES",
    "SimulatedKill",
    "VirtualClock",
    "bypass_prefect",
    "captured_events",
    "patch_everywhere",
    "run_flow",
]

BRIDGE_PACKAGES = ("bcmirakl", "bridge", "common", "connectors", "tasks", "flows", "expectations")


class SimulatedKill(BaseException):
    """The process dies here: derived from BaseException so the bridge cannot handle it as an ordinary error."""


@dataclass
class VirtualClock:
    """Monotonic seconds that advance only when someone waits on them (or a schedule jumps them)."""

    now_s: float = 1_000.0
    waited_s: float = 0.0

    def monotonic(self) -> float:
        return self.now_s

    async def sleep(self, seconds: float) -> None:
        self.now_s += max(0.0, seconds)
        self.waited_s += max(0.0, seconds)
        await asyncio.sleep(0)


@dataclass
class _Capture:
    events: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


_flow_run_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("chaos_flow_run_id", default=None)


@dataclass
class _Run:
    """A flow run as the outside world sees it: its Prefect state and whether its process still exists."""

    pid: int
    state: str = "RUNNING"
    process_alive: bool = True


# Every flow call is its own "process": a kill ends that process (its pid is gone) while Prefect, with no
# automation on heartbeats, still shows the run RUNNING, exactly as after a `kill -9` under a server.
_runs: dict[str, _Run] = {}
_next_pid = iter(range(400_000, 10**9))
_capture: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar("chaos_capture", default=None)


def captured_events() -> list[tuple[str, str, dict[str, Any]]]:
    """Events the bridge emitted in this context (event name, resource id, payload)."""
    capture = _capture.get()
    return capture.events if capture is not None else []


class _FailedState:
    """What `retry_condition_fn` reads: Prefect hands it a Failed state whose data is the exception."""

    def __init__(self, exc: BaseException) -> None:
        self.data = exc

    def result(self, *_: Any, **__: Any) -> Any:
        raise self.data


def _should_retry(task: Any, exc: Exception, attempt: int) -> bool:
    if attempt > int(task.retries or 0):
        return False
    condition = getattr(task, "retry_condition_fn", None)
    return condition is None or bool(condition(task, None, _FailedState(exc)))


def _call_task(task: Any, *args: Any, **kwargs: Any) -> Any:
    """`Task.__call__` without an engine: the function itself, retried as the task's own rule says."""
    if inspect.iscoroutinefunction(task.fn):

        async def run_async() -> Any:
            attempt = 0
            while True:
                attempt += 1
                try:
                    return await task.fn(*args, **kwargs)
                except Exception as exc:
                    if not _should_retry(task, exc, attempt):
                        raise

        return run_async()
    attempt = 0
    while True:
        attempt += 1
        try:
            return task.fn(*args, **kwargs)
        except Exception as exc:
            if not _should_retry(task, exc, attempt):
                raise


def _flow_run_get_id() -> str | None:
    return _flow_run_id.get()


def _emit_event(event: str, resource: dict[str, str] | None = None, payload: dict[str, Any] | None = None, **_: Any):
    capture = _capture.get()
    if capture is not None:
        capture.events.append((event, (resource or {}).get("prefect.resource.id", ""), dict(payload or {})))


async def _no_artifact(*_: Any, **__: Any) -> None:
    return None


_gate_memo: dict[str, Any] = {}


def _memoized_blame_matrix(original: Callable[..., Any]) -> Callable[..., Any]:
    def blame(frame: Any, suite: Any) -> Any:
        view = frame[[c for c in frame.columns if c in suite.columns]].reset_index(drop=True)
        fingerprint = repr((suite.name, list(view.columns), [str(t) for t in view.dtypes], view.values.tolist()))
        key = hashlib.sha1(fingerprint.encode()).hexdigest()
        if key not in _gate_memo:
            _gate_memo[key] = original(frame, suite)
        matrix, labels, reasons = _gate_memo[key]
        return matrix.copy(), list(labels), list(reasons)

    return blame


def gate_memo_size() -> int:
    return len(_gate_memo)


def patch_everywhere(stack: ExitStack, original: Any, replacement: Any) -> int:
    """Replace `original` under every name a bridge module imported it by; returns how many names were patched."""
    patched = 0
    for name, module in list(sys.modules.items()):
        if not isinstance(module, ModuleType) or not name.startswith(BRIDGE_PACKAGES):
            continue
        for attribute, value in list(vars(module).items()):
            if value is original:
                stack.enter_context(mock.patch.object(module, attribute, replacement))
                patched += 1
    return patched


@contextmanager
def bypass_prefect() -> Iterator[None]:
    """Run flows' functions and their tasks without a Prefect engine, for as long as the context lasts."""
    import prefect.artifacts
    import prefect.events
    import prefect.runtime.flow_run
    import prefect.tasks

    import expectations.gate

    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(prefect.tasks.Task, "__call__", _call_task))
        stack.enter_context(mock.patch.object(prefect.runtime.flow_run, "get_id", _flow_run_get_id))
        stack.enter_context(mock.patch.object(prefect.events, "emit_event", _emit_event))
        for name in (
            "acreate_markdown_artifact",
            "acreate_table_artifact",
            "acreate_link_artifact",
            "acreate_progress_artifact",
            "aupdate_progress_artifact",
        ):
            stack.enter_context(mock.patch.object(prefect.artifacts, name, _no_artifact))
        original = expectations.gate._blame_matrix
        stack.enter_context(mock.patch.object(expectations.gate, "_blame_matrix", _memoized_blame_matrix(original)))
        _simulated_processes(stack)
        token = _capture.set(_Capture())
        try:
            yield
        finally:
            _capture.reset(token)


async def run_flow(flow: Any, **parameters: Any) -> Any:
    """Call a flow's function as one flow run in its own simulated process, inside `bypass_prefect`."""
    run_id = str(uuid.uuid4())
    run = _runs[run_id] = _Run(pid=next(_next_pid))
    token = _flow_run_id.set(run_id)
    try:
        result = await flow.fn(**parameters)
        run.state = "COMPLETED"
        return result
    except SimulatedKill:
        run.process_alive = False
        raise
    except Exception:
        run.state = "FAILED"
        raise
    finally:
        if run.state != "RUNNING":
            run.process_alive = False
        _flow_run_id.reset(token)


def _this_process(original: Callable[[], tuple[str, int]]) -> Callable[[], tuple[str, int]]:
    def this_process() -> tuple[str, int]:
        host, pid = original()
        run = _runs.get(_flow_run_id.get() or "")
        return host, run.pid if run else pid

    return this_process


def _pid_alive(pid: int) -> bool:
    return any(run.process_alive for run in _runs.values() if run.pid == pid)


async def _flow_run_states(ids: Any) -> dict[str, str]:
    return {run_id: _runs[run_id].state for run_id in ids if run_id in _runs}


def _simulated_processes(stack: ExitStack) -> None:
    """Outbox workers' liveness rules (flow-run state, pid, heartbeat) see one process per flow run."""
    try:
        import tasks.leases as leases
    except ImportError:  # a bridge without outbox workers
        return
    stack.enter_context(mock.patch.object(leases, "this_process", _this_process(leases.this_process)))
    stack.enter_context(mock.patch.object(leases, "process_alive", _pid_alive))
    stack.enter_context(mock.patch.object(leases, "_flow_run_states", _flow_run_states))
