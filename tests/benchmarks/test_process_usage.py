"""The benchmark harness: the sandbox served from its own process, whose CPU is read apart from the bridge's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from benchmarks.process import SandboxProcess, bridge_usage, process_usage

BURN_S = 0.3
# The child spends BURN_S of CPU, says so, then waits for its stdin to close.
CHILD = f"import sys, time\nwhile time.process_time() < {BURN_S}: pass\nprint('burnt', flush=True)\nsys.stdin.read()\n"


def test_a_childs_cpu_is_read_from_proc_and_not_counted_in_the_parents_usage() -> None:
    before = bridge_usage()
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "burnt"
        usage = process_usage(child.pid)
        parent_cpu = bridge_usage().cpu_s - before.cpu_s
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    assert usage.cpu_s >= BURN_S - 0.02  # clock ticks are 10 ms
    assert usage.peak_rss_mib > 0
    assert parent_cpu < usage.cpu_s


def test_sandbox_process_serves_the_world_over_loopback_and_stops_with_its_context() -> None:
    with SandboxProcess("benchmarks.worlds:offer_world", offers=20) as sandbox:
        assert sandbox.pid != os.getpid()
        assert sandbox.info["offers"] > 0
        window = httpx.get(f"{sandbox.base_url}/bigcommerce/_sandbox/rate-window", timeout=10).json()
        usage = sandbox.usage()
        pid = sandbox.pid
    assert window["requests_served"] == 0
    assert usage.cpu_s > 0 and usage.peak_rss_mib > 0
    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped
