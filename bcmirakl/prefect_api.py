"""Which Prefect API `bcmirakl run` reports to, and no temporary Prefect server left behind by a killed run.

With a server named in Prefect's settings (`PREFECT_API_URL` in the environment or the active Prefect profile)
the run reports there, which is how the bridge is meant to be operated. Without one, Prefect would start a
temporary API server as a child process and stop it in an `atexit` hook, which a `kill -9` of the run skips:
the server stays up, orphaned, holding a port and memory. So `run` starts that temporary server itself, records
its pid beside the run's in `.bcmirakl/run/`, and on every start first stops any recorded server whose run is
dead (checking that the pid still is a Prefect server before signalling it, since pids are reused).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from common.processes import process_alive

__all__ = ["RUN_DIR", "SERVER_MARKER", "prefect_api", "record_server", "stop_orphaned_servers"]

RUN_DIR = Path(".bcmirakl/run")
SERVER_MARKER = "prefect.server.api.server:create_app"  # in the command line Prefect gives its temporary server
STOP_WAIT_S = 5.0


@contextmanager
def prefect_api(run_dir: Path = RUN_DIR) -> Iterator[str]:
    """The Prefect API URL for this run: the configured server's, else a temporary server owned by this run."""
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    configured = get_current_settings().api.url
    if configured:
        yield configured
        return
    from prefect.server.api.server import SubprocessASGIServer

    for pid in stop_orphaned_servers(run_dir):
        print(f"stopped a temporary Prefect server (pid {pid}) left behind by a killed run", file=sys.stderr)
    print(
        "no Prefect server configured (PREFECT_API_URL): this run uses a temporary one; "
        "in operation, run the bridge under a Prefect server (see README)",
        file=sys.stderr,
    )
    server = SubprocessASGIServer()
    server.start()
    assert server.server_process is not None
    record = record_server(run_dir, os.getpid(), server.server_process.pid)
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        server.stop()
        record.unlink(missing_ok=True)


def record_server(run_dir: Path, run_pid: int, server_pid: int) -> Path:
    """Write down which run owns which temporary server (one file per run, so concurrent runs never clash)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / f"prefect-server-{run_pid}.json"
    path.write_text(json.dumps({"run_pid": run_pid, "server_pid": server_pid}), encoding="utf-8")
    return path


def stop_orphaned_servers(run_dir: Path) -> list[int]:
    """Stop every recorded temporary server whose run is no longer alive; returns the pids stopped."""
    stopped: list[int] = []
    for path in sorted(run_dir.glob("prefect-server-*.json")) if run_dir.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            run_pid, server_pid = int(record["run_pid"]), int(record["server_pid"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # unreadable: nothing it names can be trusted with a signal
            continue
        if process_alive(run_pid):
            continue  # a live run still owns its server
        if process_alive(server_pid) and SERVER_MARKER in _command_line(server_pid):
            _terminate(server_pid)
            stopped.append(server_pid)
        path.unlink(missing_ok=True)
    return stopped


def _command_line(pid: int) -> str:
    proc = Path(f"/proc/{pid}/cmdline")
    if proc.exists():
        try:
            return proc.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return ""
    found = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False)
    return found.stdout


def _terminate(pid: int) -> None:
    """SIGTERM (uvicorn shuts down cleanly), then SIGKILL if it is still there after a few seconds."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
