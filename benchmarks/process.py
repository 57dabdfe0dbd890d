"""The sandbox in its own process, so a benchmark measures the bridge and not the bridge plus its emulator.

`SandboxProcess` starts a fresh interpreter (`python -m benchmarks.process <factory> <params> <port>`) that
builds one of `benchmarks.worlds`' sandboxes, prints `READY <info>` and serves it with uvicorn on 127.0.0.1,
as `bcmirakl sandbox serve` and the demo do; the bridge reaches it over loopback HTTP with no in-process
transport. CPU time and peak RSS are read per process from Linux's /proc (psutil is not a dependency): the
child's from `/proc/<pid>/stat` and `/proc/<pid>/status`, the bridge's from its own rusage. The child is a
new interpreter, not a fork, so neither figure carries the other's memory.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ProcessUsage",
    "SandboxProcess",
    "bridge_runtime",
    "bridge_usage",
    "machine_reference_cpu_s",
    "prefect_environment",
    "preload_lazy_imports",
    "process_usage",
    "write_figures",
]

HOST = "127.0.0.1"
READY = "READY "
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcessUsage:
    cpu_s: float  # user + system CPU seconds so far
    peak_rss_mib: float  # high-water mark of the resident set
    system_s: float  # of cpu_s, the kernel's share (sockets, file writes, page faults)


def process_usage(pid: int) -> ProcessUsage:
    """CPU seconds and peak RSS of another live process, from /proc (Linux)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": fields 3.. of proc(5)
    utime, stime = int(fields[11]), int(fields[12])
    peak_kib = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_kib = int(line.split()[1])
    return ProcessUsage((utime + stime) / _TICKS, peak_kib / 1024, stime / _TICKS)


def bridge_usage() -> ProcessUsage:
    """This process's CPU seconds (all threads) and peak RSS; children (the sandbox, Prefect's server) excluded."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return ProcessUsage(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, usage.ru_stime)


# Modules the bridge imports on first use rather than with its flow modules (`expectations.context`: Great
# Expectations costs two to three seconds, which flows that never validate and `prefect deploy` must not pay).
LAZY_IMPORTS = ("great_expectations",)


def preload_lazy_imports() -> float:
    """Import the bridge's lazily imported libraries now and return the CPU seconds that took.

    Called before a benchmark's clock starts, so the measured cycle counts no library import at all, Great
    Expectations' like Prefect's, pandas' and SQLAlchemy's (which load with the flow modules): the figure is the
    work of the cycle. The seconds are reported beside it (`bridge_lazy_import_cpu_s`), and a process worker that
    starts a fresh interpreter per flow run pays them once per run.
    """
    before = bridge_usage().cpu_s
    for name in LAZY_IMPORTS:
        importlib.import_module(name)
    return bridge_usage().cpu_s - before


class SandboxProcess:
    """A benchmark world served from a child interpreter; use as a context manager.

    Args:
        factory: `module:function` in `benchmarks.worlds` style, called as `function(base_url, **params)` and
            returning `(sandbox, info)`.
        params: the factory's JSON-able keyword arguments (the benchmark's size).
        start_timeout_s: how long the served app may take to answer once the world is built.
    """

    def __init__(self, factory: str, start_timeout_s: float = 60.0, **params: Any) -> None:
        self.factory = factory
        self.params = params
        self.port = _free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        self.info: dict[str, Any] = {}
        self._start_timeout_s = start_timeout_s
        self._child: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._child is not None, "the sandbox process is not running"
        return self._child.pid

    def usage(self) -> ProcessUsage:
        return process_usage(self.pid)

    def __enter__(self) -> SandboxProcess:
        command = [sys.executable, "-m", "benchmarks.process", self.factory, json.dumps(self.params), str(self.port)]
        self._child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[1])
        try:
            self.info = self._await_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _await_ready(self) -> dict[str, Any]:
        import httpx

        assert self._child is not None and self._child.stdout is not None
        line = self._child.stdout.readline()  # the world is built before this line; that may take minutes
        if not line.startswith(READY):
            raise RuntimeError(f"sandbox process exited before serving (code {self._child.poll()})")
        deadline = time.monotonic() + self._start_timeout_s
        while True:
            try:
                httpx.get(f"{self.base_url}/", timeout=1.0)  # any answer, even a 404, means it serves
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or self._child.poll() is not None:
                    raise RuntimeError(f"sandbox did not start serving on {self.base_url}") from None
                time.sleep(0.05)
        return dict(json.loads(line[len(READY) :]))

    def __exit__(self, *exc: object) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def bridge_runtime(sandbox: SandboxProcess, workdir: Path, config: Any, clock: Any, **settings: Any) -> Any:
    """The bridge wired to the served sandbox over loopback HTTP, with state under `workdir`.

    Mirakl's call budgets are kept by the bridge on `clock` (a `SimulatedClock`), so a budget wait costs no
    benchmark time; the sandbox, in another process, cannot share that clock and does not enforce them
    (`benchmarks.worlds`).
    """
    from bridge.runtime import build_runtime
    from bridge.sandbox_settings import sandbox_settings

    return build_runtime(
        sandbox_settings(sandbox.base_url, workdir, **settings),
        config=config,
        budget_clock=clock.now,
        budget_sleep=clock.sleep,
    )


def _free_port() -> int:
    """A free loopback port (as `sandbox.server.free_port`, which this process must not import: it loads the
    whole emulator, and the bridge process is measured without it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prefect_environment(workdir: Path) -> None:
    """Before Prefect is imported: a quiet temporary Prefect server of the benchmark's own (its home under
    `workdir`, not the user's), given time to start on a loaded machine."""
    os.environ.setdefault("PREFECT_HOME", str(workdir / "prefect"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


def machine_reference_cpu_s() -> float:
    """CPU seconds of a fixed pure-Python workload (dicts, strings, JSON, sorting) on this machine, now.

    Session machines of the same kind differ: the same code and sandbox have measured twice as slow from one
    day to the next. Each result file carries this figure, so CPU seconds from two machines can be compared
    (divide by it) and a target set on one can be read on another. It is measured in a fresh interpreter: in the
    benchmark's own process the collector walks whatever the benchmark still holds, and after a million offers
    the same workload measured 1.23 s where a fresh process measured 0.86 s.
    """
    code = "from benchmarks.process import reference_workload_cpu_s as w; print(min(w() for _ in range(3)))"
    root = str(Path(__file__).resolve().parent.parent)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment, cwd=root
    )
    return round(float(done.stdout.strip()), 2)  # the best of three: a neighbour's burst slows one pass


def reference_workload_cpu_s() -> float:
    """One pass of the reference workload, in CPU seconds of this process."""
    started = time.process_time()
    rows = [{"sku": f"SKU-{i:07d}", "price": f"{i % 997}.{i % 100:02d}", "quantity": i % 13} for i in range(200_000)]
    decoded = json.loads(json.dumps(rows))
    decoded.sort(key=lambda row: (row["quantity"], row["price"]))
    _ = {row["sku"]: row["quantity"] * 2 for row in decoded}
    return time.process_time() - started


def write_figures(figures: dict[str, Any], path: Path | None) -> None:
    """Print the figures, with the machine's reference CPU seconds, and write them to `path` when given
    (benchmarks/results/*.json in `make bench`)."""
    figures = {**figures, "machine_reference_cpu_s": machine_reference_cpu_s()}
    text = json.dumps(figures, indent=2)
    print(text)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")


def _serve(factory: str, params: dict[str, Any], port: int) -> None:
    import uvicorn

    module, _, name = factory.partition(":")
    build = getattr(importlib.import_module(module), name)
    sandbox, info = build(f"http://{HOST}:{port}", **params)
    # The world lives as long as the process: out of the collector's sight, a million offers' objects are not
    # traversed again by every full collection while the sandbox serves.
    gc.freeze()
    print(READY + json.dumps(info), flush=True)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nobody reads the pipe any more: a full one would block
    uvicorn.run(sandbox.app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off")


if __name__ == "__main__":
    _serve(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]))
