"""`make e2e`: the operated path, for real: a Prefect server on PostgreSQL, bootstrap, deploy, a worker, runs.

Steps, each failing with a clear message: fresh databases for Prefect and the state store; the sandbox served
over HTTP; `prefect server start` on PostgreSQL; `bcmirakl bootstrap`; `bcmirakl db upgrade` (runs never
migrate); `prefect deploy` of every deployment
whose flow exists; a process worker whose environment holds no bridge credential (runs must read the Blocks);
then the `smoke` deployment (and `offer-sync-delta` when the offer sync flow exists) is run and must complete
and publish its summary artifact; the run is retried the way the UI's Retry button does and must complete again
without any new external write; finally a run made to fail must reach the sandbox's alert receiver through
the failed-run automation. Every process started here is stopped on exit.

    python -m deployments.e2e [--workdir .bcmirakl/e2e] [--timeout 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from bridge.sandbox_settings import sandbox_environment
from deployments.plan import ENV_PREFIX, SCHEDULE_DEFAULTS, load_deployments, load_pool

__all__ = ["main"]

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BCMIRAKL_E2E_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
PREFECT_DB = "prefect_e2e"
STATE_DB = "bcmirakl_e2e"
# Deployments the check runs when their flow exists, in order; smoke always exists.
TRIGGERED = ("smoke", "offer-sync-delta")
# The summary artifact each triggered deployment's run must publish (delta and full offer syncs keep apart).
SUMMARY_KEYS = {"smoke": "smoke-summary", "offer-sync-delta": "offer-sync-delta-summary"}
QUIET_CRON = "0 0 1 1 *"


class E2EError(RuntimeError):
    """A step failed; the message says which and where its log is."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deployments.e2e", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=REPO / ".bcmirakl" / "e2e")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole check")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        ran = _run(args.workdir.resolve(), deadline=started + args.timeout)
    except E2EError as exc:
        print(f"e2e FAILED after {time.monotonic() - started:.0f}s: {exc}", file=sys.stderr)
        return 1
    print(f"e2e passed in {time.monotonic() - started:.0f}s: ran {', '.join(ran)}")
    return 0


def _run(workdir: Path, deadline: float) -> list[str]:
    shutil.rmtree(workdir, ignore_errors=True)
    (workdir / "logs").mkdir(parents=True)
    _step("databases", lambda: _fresh_databases(PREFECT_DB, STATE_DB))
    sandbox_port, server_port = _free_port(), _free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    ui_url = f"http://127.0.0.1:{server_port}"
    api_url = f"{ui_url}/api"
    base_env = _base_env(workdir, api_url)
    bridge_env = {**base_env, **_bridge_env(sandbox_url, workdir)}
    with _background() as start:
        start("sandbox", [str(BIN / "bcmirakl"), "sandbox", "serve", "--port", str(sandbox_port)], base_env, workdir)
        _wait_http(f"{sandbox_url}/alerts/hook", "sandbox", workdir, deadline)
        server_env = {
            **base_env,
            "PREFECT_API_DATABASE_CONNECTION_URL": f"postgresql+asyncpg://{_pg_authority()}/{PREFECT_DB}",
            "PREFECT_UI_ENABLED": "true",  # the browser check reads the UI
            "PREFECT_UI_URL": ui_url,  # alert links to runs are built from it
        }
        server_cmd = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(server_port)]
        start("server", server_cmd, server_env, workdir)
        _wait_http(f"{api_url}/health", "server", workdir, deadline)
        os.environ.update(base_env)  # this process's own Prefect client talks to the server started here
        _run_logged("bootstrap", [str(BIN / "bcmirakl"), "bootstrap"], bridge_env, workdir, deadline)
        # Runs only check the schema: migrating the shared state store is the operator's explicit step.
        _run_logged("db-upgrade", [str(BIN / "bcmirakl"), "db", "upgrade"], bridge_env, workdir, deadline)
        deployments = [spec for spec in load_deployments() if (REPO / spec.flow_file).exists()]
        names = [arg for spec in deployments for arg in ("--name", spec.name)]
        deploy_cmd = [str(BIN / "prefect"), "--no-prompt", "deploy", *names]
        _run_logged("deploy", deploy_cmd, base_env, workdir, deadline)
        _step("schedules from variables", lambda: asyncio.run(_assert_schedules_from_variables(deployments)))
        # The worker carries no bridge credential: its runs must find them in the Blocks bootstrap wrote.
        worker_env = {**base_env, "BCMIRAKL_ARTIFACTS_DIR": str(workdir / "artifacts")}
        start("worker", [str(BIN / "prefect"), "worker", "start", "--pool", load_pool().name], worker_env, workdir)
        wanted = [name for name in TRIGGERED if name in {spec.name for spec in deployments}]
        state_url = bridge_env["BCMIRAKL_DATABASE_URL"]
        completed: dict[str, UUID] = {}
        _step(f"run {', '.join(wanted)}", lambda: completed.update(asyncio.run(_run_all(wanted))))
        _step(f"retry {wanted[-1]}", lambda: asyncio.run(_retry_changes_nothing(wanted[-1], state_url)))
        failed: list[UUID] = []
        _step("failed-run alert", lambda: failed.append(asyncio.run(_failed_run_alerts(sandbox_url, deadline))))
        shown = wanted[-1]
        _step(
            f"browser: {shown}'s summary, the failed run's logs",
            lambda: asyncio.run(_browser(ui_url, shown, completed[shown], failed[0], workdir)),
        )
    return [
        *wanted,
        f"a UI-style retry of {wanted[-1]}",
        "a failed smoke run and its alert",
        f"the UI in Chromium (screenshots in {workdir})",
    ]


def _step(name: str, action: Callable[[], object]) -> None:
    t0 = time.monotonic()
    print(f"[e2e] {name} ...", flush=True)
    action()
    print(f"[e2e] {name} ok ({time.monotonic() - t0:.1f}s)", flush=True)


def _base_env(workdir: Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BCMIRAKL_", "PREFECT_"))}
    env.update(
        {
            "PREFECT_HOME": str(workdir / "prefect"),
            "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
            "PREFECT_WORKER_PREFETCH_SECONDS": "2",
            "PREFECT_LOGGING_LEVEL": "INFO",
        }
    )
    return env


def _quiet_schedules() -> dict[str, str]:
    """Schedules set far away through bootstrap's environment overrides, so only the runs triggered here run
    (a 2-core CI machine has no room for every-minute pollers), which also proves the Variables reach prefect.yaml."""
    return {f"{ENV_PREFIX}{key.upper()}": QUIET_CRON for key in SCHEDULE_DEFAULTS if key.endswith("_cron")}


def _bridge_env(sandbox_url: str, workdir: Path) -> dict[str, str]:
    return {
        **sandbox_environment(sandbox_url, workdir, f"postgresql+psycopg://{_pg_authority()}/{STATE_DB}"),
        "BCMIRAKL_ALERT_WEBHOOK_URL": f"{sandbox_url}/alerts/hook",
        **_quiet_schedules(),
    }


def _pg_authority() -> str:
    # "postgresql://user[:pw]@host:port/db" -> "user[:pw]@host:port"
    return ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]


def _fresh_databases(*names: str) -> None:
    import psycopg

    try:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL at {ADMIN_URL} is not reachable ({exc}); start it or set BCMIRAKL_E2E_POSTGRES"
        raise E2EError(message) from None


@contextmanager
def _background() -> Iterator[Callable[[str, list[str], dict[str, str], Path], None]]:
    """Start long-running processes in their own process groups, and stop exactly those on exit."""
    started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(name: str, cmd: list[str], env: dict[str, str], workdir: Path) -> None:
        log = (workdir / "logs" / f"{name}.log").open("wb")
        process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append((name, process))

    try:
        yield start
    finally:
        for _name, process in reversed(started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process in reversed(started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def _run_logged(name: str, cmd: list[str], env: dict[str, str], workdir: Path, deadline: float) -> None:
    log = workdir / "logs" / f"{name}.log"
    t0 = time.monotonic()
    print(f"[e2e] {name} ...", flush=True)
    with log.open("wb") as out:
        try:
            done = subprocess.run(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=max(5.0, deadline - t0)
            )
        except subprocess.TimeoutExpired:
            raise E2EError(f"{name} timed out; see {log}") from None
    if done.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        raise E2EError(f"{name} exited {done.returncode}; see {log}:\n" + "\n".join(tail))
    print(f"[e2e] {name} ok ({time.monotonic() - t0:.1f}s)", flush=True)


def _wait_http(url: str, name: str, workdir: Path, deadline: float) -> None:
    limit = min(deadline, time.monotonic() + 90)
    while time.monotonic() < limit:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise E2EError(f"{name} did not answer {url}; see {workdir / 'logs' / (name + '.log')}")


def _free_port() -> int:
    from sandbox.server import free_port

    return free_port()


async def _run_all(names: list[str]) -> dict[str, UUID]:
    """Run the deployments side by side; each must complete and publish its summary artifact. Returns run ids."""
    from prefect import get_client

    async with get_client() as client:
        deployments = [await _deployment(client, name) for name in names]
        runs = [await client.create_flow_run_from_deployment(d.id) for d in deployments]
        for name, flow_run in zip(names, runs, strict=True):
            await _wait_final(client, flow_run.id, name)
            await _assert_artifact(client, flow_run.id, SUMMARY_KEYS[name])
    return {name: flow_run.id for name, flow_run in zip(names, runs, strict=True)}


async def _retry_changes_nothing(name: str, state_url: str) -> None:
    """Retry the deployment's last run as the UI's Retry button does; it must complete and write nothing new."""
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.states import Scheduled

    async with get_client() as client:
        filters = DeploymentFilter(name=DeploymentFilterName(any_=[name]))
        runs = await client.read_flow_runs(deployment_filter=filters, sort=FlowRunSort.START_TIME_DESC, limit=1)
        first = runs[0]
        writes_before = _ledger_rows(state_url)
        await client.set_flow_run_state(
            first.id, Scheduled(name="AwaitingRetry", message="Retry from the UI"), force=True
        )
        second = await _wait_final(client, first.id, f"{name} (retried)")
        if second.run_count <= first.run_count:
            raise E2EError(f"retry of {name} did not run again (run_count {second.run_count})")
        if (after := _ledger_rows(state_url)) != writes_before:
            raise E2EError(f"retry of {name} wrote again: ledger {writes_before} -> {after}")


async def _assert_schedules_from_variables(deployments: list[Any]) -> None:
    from prefect import get_client

    async with get_client() as client:
        for spec in deployments:
            deployment = await _deployment(client, spec.name)
            crons = {getattr(s.schedule, "cron", None) for s in deployment.schedules}
            if deployment.schedules and crons != {QUIET_CRON}:
                raise E2EError(f"{spec.name} schedules {crons} do not come from the schedule Variables")


async def _failed_run_alerts(sandbox_url: str, deadline: float) -> UUID:
    """A smoke run made to fail (Mirakl answers 403 to its OF52) must reach the alert receiver through the automation,
    in words, with a link to the run and to the handbook. Returns the failed run's id.

    OF52, not SH21: SH21 is read once a day and shared through the state store, so a later smoke run may not call it.
    """
    from prefect import get_client

    fail_export = {"rules": [{"path": "offers/export/async", "error_rate": 1.0, "status": 403}]}
    _http_json("PUT", f"{sandbox_url}/mirakl/_sandbox/faults", fail_export)
    try:
        async with get_client() as client:
            deployment = await _deployment(client, "smoke")
            flow_run = await client.create_flow_run_from_deployment(deployment.id)
            final = await _wait_final(client, flow_run.id, "smoke (made to fail)", expect_failure=True)
    finally:
        _http_json("DELETE", f"{sandbox_url}/mirakl/_sandbox/faults", None)
    while time.monotonic() < deadline:
        alerts = _http_json("GET", f"{sandbox_url}/alerts/hook", None)["alerts"]
        about = [alert["body"] for alert in alerts if str(final.name) in json.dumps(alert)]
        if about:
            text = str(about[0].get("body", ""))
            for part in (f"/runs/flow-run/{final.id}", "Nothing is lost", "What to do:"):
                if part not in text:
                    raise E2EError(f"the alert for failed run {final.name} lacks {part!r}: {text}")
            return final.id
        await asyncio.sleep(1)
    raise E2EError(f"no alert for failed run {final.name} reached {sandbox_url}/alerts/hook")


async def _browser(ui_url: str, name: str, completed: UUID, failed: UUID, workdir: Path) -> None:
    """What an operator sees: the completed run's summary on its Artifacts tab, the failure sentence in the Logs."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from deployments.e2e_browser import browser_check, first_error_line, summary_on_screen

    async with get_client() as client:
        artifact = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=[SUMMARY_KEYS[name]]), flow_run_id=ArtifactFilterFlowRunId(any_=[completed])
            ),
            sort=ArtifactSort.CREATED_DESC,
        )
        if not artifact:
            raise E2EError(f"no {SUMMARY_KEYS[name]} artifact to look for in the UI")
        summary = summary_on_screen(str(artifact[0].data), SUMMARY_KEYS[name])
        sentence = await first_error_line(client, failed)
    try:
        await asyncio.to_thread(browser_check, ui_url, (completed, summary), (failed, sentence), workdir)
    except AssertionError as exc:
        raise E2EError(str(exc)) from None


async def _deployment(client: Any, name: str) -> Any:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    found = await client.read_deployments(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name])))
    if not found:
        raise E2EError(f"deployment {name} was not created by `prefect deploy`; see logs/deploy.log")
    return found[0]


async def _wait_final(client: Any, flow_run_id: UUID, label: str, *, expect_failure: bool = False) -> Any:
    limit = time.monotonic() + 150
    while time.monotonic() < limit:
        flow_run = await client.read_flow_run(flow_run_id)
        state = flow_run.state
        if state is not None and state.is_final():
            ok = state.is_failed() if expect_failure else state.is_completed()
            if not ok:
                raise E2EError(f"{label} ended {state.type.value}: {state.message}; see logs/worker.log")
            return flow_run
        await asyncio.sleep(1)
    raise E2EError(f"{label} did not finish in time; see logs/worker.log")


async def _assert_artifact(client: Any, flow_run_id: UUID, key: str) -> None:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    artifacts = await client.read_artifacts(
        artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=[key]), flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])
        )
    )
    if not artifacts:
        raise E2EError(f"flow run {flow_run_id} published no artifact {key!r}")


def _ledger_rows(state_url: str) -> dict[str, int]:
    from sqlalchemy import func, select
    from sqlalchemy.exc import ProgrammingError

    from connectors.state import LedgerEntry, create_state_engine

    engine = create_state_engine(state_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(LedgerEntry.outcome, func.count()).group_by(LedgerEntry.outcome))
            return {outcome: count for outcome, count in rows}
    except ProgrammingError:  # no schema yet: no run has started, so nothing was written
        return {}
    finally:
        engine.dispose()


def _http_json(method: str, url: str, body: dict[str, Any] | None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


if __name__ == "__main__":
    raise SystemExit(main())
