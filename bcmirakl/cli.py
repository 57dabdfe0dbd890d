"""`bcmirakl`: the command line for operators and engineers.

    bcmirakl demo                       seed the sandbox, run every stream against it, print what happened
    bcmirakl sandbox serve --port 8800  serve the BigCommerce, Mirakl and ERP emulators on 127.0.0.1
    bcmirakl run <stream> [k=v ...]     run one stream's flow against the configured stores (under the Prefect
                                        server PREFECT_API_URL names, else a temporary one it owns)
    bcmirakl db upgrade                 apply the state store migrations, saying which (runs only check them)
    bcmirakl status                     last success, lag, queues, stuck items, quarantine, open cases, deadlines
    bcmirakl offers held|requeue        offer pushes BigCommerce refused, and queueing them again
    (status, report, offers and carriers read a state store already at the code's schema: never migrate it)
    bcmirakl doctor                     can the configured credentials make every call? (one cheap call each)
    bcmirakl bootstrap                  prepare the Prefect server (PREFECT_API_URL) for `prefect deploy --all`

Heavy imports (Prefect, pandas, Great Expectations) happen inside the command that needs them, so `--help`
and `sandbox serve` start instantly.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import sys
from pathlib import Path
from typing import Any, get_type_hints

from bcmirakl.carriers_cli import add_carrier_commands
from bcmirakl.offers_cli import add_offer_commands
from bcmirakl.store_commands import state_store, state_store_url

__all__ = ["main"]


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"parameters are key=value, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _webhook_url(text: str) -> str:
    """The alert webhook URL checked before bootstrap saves it as a secret no one can read back to spot a typo."""
    from connectors.http.fields import check_http_url

    try:
        return check_http_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or BCMIRAKL_ALERT_WEBHOOK_URL)") from None


def _block_ref(text: str) -> str:
    """A Block reference as Prefect loads it, `type-slug/name`, checked before bootstrap changes anything."""
    slug, sep, name = text.partition("/")
    if not (sep and slug.strip() and name.strip()):
        raise argparse.ArgumentTypeError(f"must be type-slug/name, like slack-webhook/ops-alerts, got {text!r}")
    return text


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bcmirakl", description="BigCommerce x Mirakl marketplace bridge")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run every stream against the seeded sandbox")
    demo.add_argument("--workdir", type=Path, default=Path(".bcmirakl/demo"), help="state, artifacts, Prefect home")

    sandbox = commands.add_parser("sandbox", help="the API emulators")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser("serve", help="serve the emulators on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8800)

    run = commands.add_parser("run", help="run one stream's flow against the configured stores")
    run.add_argument("stream")
    run.add_argument("params", nargs="*", type=_parse_param, help="flow parameters as key=value")

    db = commands.add_parser("db", help="state store administration")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations to BCMIRAKL_DATABASE_URL (SQLite file by default)")

    commands.add_parser("status", help="the bridge's health, read from the state store (BCMIRAKL_DATABASE_URL)")
    report = commands.add_parser(
        "report", help="per-day trends: value at risk, out-of-stock buyable, latency, quarantine, unexplained amount"
    )
    report.add_argument("--days", type=int, default=30, help="how many days back, today included (default 30)")
    commands.add_parser("doctor", help="check every credential and role with one cheap call each, before a first run")

    boot = commands.add_parser("bootstrap", help="credential blocks, variables, quota limit, work pool, automations")
    boot.add_argument("--bc-quota", type=int, default=150, help="BigCommerce requests per window for the store")
    boot.add_argument("--bc-quota-window", type=float, default=30.0, help="BigCommerce quota window, seconds")
    boot.add_argument(
        "--alert-webhook-url",
        default=os.environ.get("BCMIRAKL_ALERT_WEBHOOK_URL"),
        type=_webhook_url,
        help="where alerts are POSTed as JSON (default: BCMIRAKL_ALERT_WEBHOOK_URL)",
    )
    boot.add_argument(
        "--alert-block", type=_block_ref, help="an existing notification Block instead, as type-slug/name"
    )
    boot.add_argument(
        "--handbook-url",
        default=os.environ.get("BCMIRAKL_HANDBOOK_URL", "docs/handbook"),
        help="where alerts link for what to do, e.g. https://git.example/bcmirakl/-/blob/main/docs/handbook "
        "(default: BCMIRAKL_HANDBOOK_URL, else the path in the repository)",
    )
    add_carrier_commands(commands)
    add_offer_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    from common.errors import ConfigurationError

    try:
        if args.command == "demo":
            from bcmirakl.demo import run_demo

            return asyncio.run(run_demo(args.workdir))
        if args.command == "sandbox":
            from sandbox.server import serve_forever

            print(f"sandbox on http://127.0.0.1:{args.port}  (/bigcommerce, /mirakl, /erp, /alerts); Ctrl-C to stop")
            serve_forever(args.port)
            return 0
        if args.command == "run":
            flow = _checked_flow(args.stream, dict(args.params))
            return asyncio.run(_run_stream(args.stream, flow, dict(args.params)))
        if args.command == "db":
            return _db_upgrade()
        if args.command == "status":
            return _print_status()
        if args.command == "report":
            return _print_report(args.days)
        if args.command == "doctor":
            return asyncio.run(_doctor())
        if args.command == "carriers":
            from bcmirakl.carriers_cli import run_carrier_command

            with state_store() as session:
                return run_carrier_command(args, session)
        if args.command == "offers":
            from bcmirakl.offers_cli import run_offer_command

            with state_store() as session:
                return run_offer_command(args, session)
        if args.command == "bootstrap":
            return asyncio.run(_bootstrap(args))
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return 1


def _checked_flow(stream: str, params: dict[str, Any]) -> Any:
    """The stream's flow once its name and parameters are known good, before any server starts or call is made.

    A typo on the command line is an operator's mistake, not a crash: it gets one line naming what was wrong.
    """
    from pydantic import TypeAdapter, ValidationError

    from common.errors import ConfigurationError
    from flows.registry import STREAMS, load_flow

    if stream not in STREAMS:
        raise ConfigurationError(f"unknown stream {stream!r}; known streams: {', '.join(sorted(STREAMS))}")
    flow = load_flow(stream)
    accepted = list(inspect.signature(flow.fn).parameters)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigurationError(
            f"{stream} has no parameter {', '.join(unknown)}; it takes: {', '.join(accepted) or 'no parameters'}"
        )
    hints = get_type_hints(flow.fn)
    problems = []
    for name, value in params.items():
        try:
            TypeAdapter(hints.get(name, Any)).validate_python(value)
        except ValidationError as exc:
            problems.extend(f"{name}: {error['msg']}" for error in exc.errors(include_url=False))
    if problems:
        raise ConfigurationError(f"{stream} parameters are invalid: {'; '.join(problems)}")
    return flow


async def _run_stream(stream: str, flow: Any, params: dict[str, Any]) -> int:
    from bcmirakl.prefect_api import prefect_api
    from bcmirakl.progress import ticking

    with prefect_api():
        async with ticking(stream):
            state = await flow(**params, return_state=True)
    print(f"{stream}: {state.type.value} {state.message or ''}".rstrip())
    return 0 if state.is_completed() else 1


def _print_status() -> int:
    from bcmirakl.status import collect_status, print_status
    from bcmirakl.tables import terminal_console
    from flows.registry import STREAMS

    with state_store() as session:
        print_status(collect_status(session, STREAMS), terminal_console())
    return 0


def _print_report(days: int) -> int:
    from bcmirakl.report_cli import print_trends
    from bcmirakl.tables import terminal_console
    from bridge.config import load_config
    from tasks.trends import load_trends

    if days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    config_file = os.environ.get("BCMIRAKL_CONFIG_FILE")
    currency = load_config(Path(config_file) if config_file else None).currency
    with state_store() as session:
        print_trends(load_trends(session, days), currency, terminal_console())
    return 0


async def _doctor() -> int:
    from bcmirakl.doctor import render_doctor, run_doctor
    from bridge.runtime import runtime_from_environment

    runtime = await runtime_from_environment(hold_budgets=False)
    try:
        report = await run_doctor(runtime)
    finally:
        await runtime.aclose()
    print(render_doctor(report), end="")
    return 0 if report.ok else 1


def _db_upgrade() -> int:
    """Apply the migrations and say which: the flows only check the schema, so this is the one place it moves."""
    from connectors.state import create_state_engine, upgrade

    engine = create_state_engine(state_store_url())
    try:
        migration = upgrade(engine)
        print(f"state store at {engine.url.render_as_string(hide_password=True)}: {migration.describe()}")
    finally:
        engine.dispose()
    return 0


async def _bootstrap(args: argparse.Namespace) -> int:
    from bridge.settings import load_settings
    from deployments.bootstrap import BootstrapOptions, bootstrap

    options = BootstrapOptions(
        bc_quota=args.bc_quota,
        bc_quota_window_s=args.bc_quota_window,
        alert_webhook_url=args.alert_webhook_url,
        alert_block=args.alert_block,
        handbook_url=args.handbook_url,
    )
    await bootstrap(load_settings(), options, say=lambda line: print(line, flush=True))
    print("ready: run `prefect --no-prompt deploy --all`, then `prefect worker start --pool bcmirakl-process`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
