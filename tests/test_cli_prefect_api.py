"""`bcmirakl run` leaves no temporary Prefect server behind: a server whose run was killed is stopped next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bcmirakl.prefect_api import SERVER_MARKER, prefect_api, record_server, stop_orphaned_servers


def sleeper(*argv: str) -> subprocess.Popen[bytes]:
    """A process that sleeps; extra argv words show in its command line (as Prefect's server command does)."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *argv])


@pytest.fixture
def dead_pid() -> int:
    """The pid of a run that is gone (exited and reaped), as after a kill -9."""
    run = subprocess.Popen([sys.executable, "-c", "pass"])
    run.wait()
    return run.pid


@pytest.fixture
def fake_server() -> Iterator[subprocess.Popen[bytes]]:
    server = sleeper(SERVER_MARKER)
    yield server
    if server.poll() is None:
        server.kill()
        server.wait()


def test_a_server_left_by_a_killed_run_is_stopped_on_the_next_start(
    tmp_path: Path, dead_pid: int, fake_server: subprocess.Popen[bytes]
) -> None:
    record_server(tmp_path, dead_pid, fake_server.pid)

    assert stop_orphaned_servers(tmp_path) == [fake_server.pid]
    assert fake_server.wait(timeout=5) == -signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_the_server_of_a_live_run_is_left_alone(tmp_path: Path, fake_server: subprocess.Popen[bytes]) -> None:
    record = record_server(tmp_path, os.getpid(), fake_server.pid)

    assert stop_orphaned_servers(tmp_path) == []
    assert fake_server.poll() is None and record.exists()


def test_a_recorded_pid_now_used_by_another_program_is_never_signalled(tmp_path: Path, dead_pid: int) -> None:
    stranger = sleeper("not-a-prefect-server")
    try:
        record_server(tmp_path, dead_pid, stranger.pid)
        assert stop_orphaned_servers(tmp_path) == []
        assert stranger.poll() is None
        assert list(tmp_path.iterdir()) == []  # the stale record is dropped
    finally:
        stranger.kill()
        stranger.wait()


def test_a_configured_server_is_used_and_no_temporary_one_is_started(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: "http://prefect.internal:4200/api"}),
        prefect_api(tmp_path) as url,
    ):
        assert url == "http://prefect.internal:4200/api"
    assert not any(tmp_path.iterdir())


RUN_ON_A_TEMPORARY_SERVER = """
import sys, time
from pathlib import Path
from bcmirakl.prefect_api import prefect_api
with prefect_api(Path(sys.argv[1])) as url:
    print(url, flush=True)
    time.sleep(600)
"""


def test_kill_9_of_a_run_on_a_temporary_server_leaves_it_only_until_the_next_start(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
        "PREFECT_HOME": str(tmp_path / "home"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",  # a first start migrates a fresh database
    }
    command = [sys.executable, "-c", RUN_ON_A_TEMPORARY_SERVER, str(run_dir)]
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert run.stdout is not None and run.stdout.readline().startswith("http://127.0.0.1:")
        (record,) = run_dir.glob("prefect-server-*.json")
        server_pid = int(record.read_text().split('"server_pid": ')[1].rstrip("}"))
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    os.kill(server_pid, 0)  # the kill -9 skipped Prefect's atexit hook: its server still runs

    assert stop_orphaned_servers(run_dir) == [server_pid]
    assert not list(run_dir.iterdir())
