"""Everything a flow run needs to act: the three API clients, the state store and the business config.

Flows open a runtime at their start (`runtime_scope`), so a deployment run builds it from its environment,
while the demo and tests install one up front (`use_runtime`) that talks to the sandbox. Tasks receive the
runtime, never a raw secret.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bridge.blocks import (
    Credentials,
    credential_blocks_prefix,
    credentials_from_settings,
    load_credentials,
    load_database_url,
)
from bridge.config import BridgeConfig, load_config
from bridge.settings import BridgeSettings, RunSettings, load_run_settings, load_settings
from common.errors import ConfigurationError
from connectors.bigcommerce import BigCommerceClient
from connectors.erp import ErpClient
from connectors.http.ratelimit import SharedGate
from connectors.http.retry import Sleep
from connectors.mirakl import MiraklClient
from connectors.mirakl.budgets import DEFAULT_BUDGETS, CallLimit, is_continuation
from connectors.state import create_state_engine, require_schema_at_head, session_factory, upgrade
from connectors.state.budgets import CallBudgetGate

__all__ = [
    "Runtime",
    "build_runtime",
    "ensure_writable_dir",
    "mirakl_usage_this_run",
    "runtime_from_environment",
    "runtime_scope",
    "use_runtime",
]


@dataclass
class Runtime:
    bigcommerce: BigCommerceClient
    mirakl: MiraklClient
    erp: ErpClient
    engine: Engine
    sessions: sessionmaker[Session]
    config: BridgeConfig
    artifacts_dir: Path
    mirakl_budget: CallBudgetGate | None = None

    def mirakl_calls(self) -> dict[str, int]:
        """Mirakl calls made so far per operation code, for the run summary's calls-against-budget table."""
        return dict(self.mirakl.transport.calls)

    def api_calls(self) -> dict[str, int]:
        """Calls made so far per system, for run summaries and benchmarks."""
        return {
            "bigcommerce": self.bigcommerce.transport.total_calls,
            "mirakl": self.mirakl.transport.total_calls,
            "erp": self.erp.transport.total_calls,
        }

    async def aclose(self) -> None:
        await self.bigcommerce.aclose()
        await self.mirakl.aclose()
        await self.erp.aclose()
        self.engine.dispose()


def build_runtime(
    settings: RunSettings,
    *,
    credentials: Credentials | None = None,
    config: BridgeConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    migrate: bool = True,
    budget_clock: Callable[[], datetime] | None = None,
    budget_sleep: Sleep | None = None,
    hold_budgets: bool = True,
) -> Runtime:
    """Clients and state for `settings`; `transport` routes every client in-process (tests, benchmarks).

    The clients come from the credentials Blocks' `get_client()`, with the shared quotas passed in: the
    Prefect rate limit for BigCommerce, the state store's call budgets for Mirakl. `credentials` are the
    Blocks a deployment run loaded; without them, `settings` must be `BridgeSettings` and they are built
    from its environment values.
    Everything that can be checked without a call is checked first (config file, artifacts folder), so a
    mistake fails the run at start-up rather than after its work is done.
    `budget_clock`/`budget_sleep` drive the Mirakl call budgets and every other Mirakl wait (retries, OF53 polls):
    a `SimulatedClock` in the demo and tests, so no such wait costs real time; the wall clock and real sleeping
    otherwise. `migrate` brings the state store to the newest schema (the demo and tests, which own theirs);
    `hold_budgets=False` (with `migrate=False`: `bcmirakl doctor`, which must answer without the state store)
    sends calls outside the shared budgets.
    """
    if credentials is None:
        if not isinstance(settings, BridgeSettings):
            raise TypeError("build_runtime needs credentials Blocks or BridgeSettings holding the credentials")
        credentials = credentials_from_settings(settings)
    config = config or load_config(settings.config_file)
    ensure_writable_dir(settings.artifacts_dir, "BCMIRAKL_ARTIFACTS_DIR")
    engine = create_state_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    sessions = session_factory(engine)
    budget = _mirakl_budget(config, sessions, budget_clock, budget_sleep) if hold_budgets else None
    quota = _prefect_rate_limit(settings.bc_concurrency_limit) if settings.bc_concurrency_limit else None
    return Runtime(
        bigcommerce=credentials.bigcommerce.get_client(
            transport, shared_gate=quota, location_id=settings.bc_location_id
        ),
        mirakl=credentials.mirakl.get_client(transport, gate=budget, sleep=budget_sleep),
        erp=credentials.erp.get_client(transport),
        engine=engine,
        sessions=sessions,
        config=config,
        artifacts_dir=settings.artifacts_dir,
        mirakl_budget=budget,
    )


async def runtime_from_environment(
    *, transport: httpx.AsyncBaseTransport | None = None, hold_budgets: bool = True
) -> Runtime:
    """The runtime a deployment run or a CLI command builds: credentials from the Blocks when
    `BCMIRAKL_CREDENTIAL_BLOCKS` names them (else from the environment), the rest from the environment.

    It never migrates: the state store must already be at the newest schema, or the run stops naming
    `bcmirakl db upgrade` (a flow run is no place to alter a shared database). `hold_budgets=False` is
    `bcmirakl doctor`, which must answer without the state store, so it skips that check too; `transport`
    routes the clients in-process (tests).
    """
    prefix = credential_blocks_prefix()
    if prefix:
        credentials = await load_credentials(prefix)
        database_url = await load_database_url(prefix)
        settings = load_run_settings(**({"database_url": database_url} if database_url else {}))
    else:
        settings = load_settings()
        credentials = credentials_from_settings(settings)
    runtime = build_runtime(
        settings, credentials=credentials, transport=transport, migrate=False, hold_budgets=hold_budgets
    )
    if hold_budgets:
        try:
            require_schema_at_head(runtime.engine)
        except ConfigurationError:
            await runtime.aclose()
            raise
    return runtime


def _mirakl_budget(
    config: BridgeConfig,
    sessions: sessionmaker[Session],
    clock: Callable[[], datetime] | None,
    sleep: Sleep | None,
) -> CallBudgetGate | None:
    """The documented maximums, with the config file's per-operation replacements; None when switched off."""
    settings = config.mirakl_budgets
    if not settings.enabled:
        return None
    budgets = dict(DEFAULT_BUDGETS)
    for operation, limits in settings.operations.items():
        budgets[operation] = tuple(CallLimit(limit.calls, limit.seconds) for limit in limits)
    return CallBudgetGate(
        sessions,
        budgets,
        system="mirakl",
        clock=clock or (lambda: datetime.now(UTC)),
        sleep=sleep or asyncio.sleep,
        max_wait_s=settings.max_wait_seconds,
        counts=lambda operation, params: not is_continuation(operation, params),
    )


def ensure_writable_dir(path: Path, name: str) -> None:
    """Create `path` if needed and prove a file can be written there, or raise `ConfigurationError` naming `name`.

    The run's artifacts are written at its end: without this probe an unwritable folder fails the run after all
    its calls were made and its effects applied, and the operator loses the report of what it did.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise ConfigurationError(f"{name}: folder {path} is not writable ({exc.strerror or exc})") from None


_override: ContextVar[Runtime | None] = ContextVar("bcmirakl_runtime", default=None)
# Mirakl calls per operation and budget waits when the current run opened its runtime (one runtime may serve
# several runs, as in the demo), so a run reports only its own.
_run_start: ContextVar[tuple[dict[str, int], dict[str, float]]] = ContextVar("bcmirakl_run_start", default=({}, {}))


def _usage(rt: Runtime) -> tuple[dict[str, int], dict[str, float]]:
    waited = dict(rt.mirakl_budget.waited_s) if rt.mirakl_budget is not None else {}
    return rt.mirakl_calls(), waited


def mirakl_usage_this_run(rt: Runtime) -> tuple[dict[str, int], dict[str, float]]:
    """Mirakl calls per operation, and seconds waited for call budgets per operation, since the run began."""
    (calls_before, waited_before), (calls, waited) = _run_start.get(), _usage(rt)
    return (
        {op: n - calls_before.get(op, 0) for op, n in calls.items() if n - calls_before.get(op, 0)},
        {op: s - waited_before.get(op, 0.0) for op, s in waited.items() if s - waited_before.get(op, 0.0)},
    )


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Make every flow run in this context use `runtime` instead of building one from the environment."""
    token = _override.set(runtime)
    try:
        yield runtime
    finally:
        _override.reset(token)


@asynccontextmanager
async def runtime_scope() -> AsyncIterator[Runtime]:
    """The installed runtime, or one built from the environment and closed when the run ends."""
    installed = _override.get()
    if installed is not None:
        token = _run_start.set(_usage(installed))
        try:
            yield installed
        finally:
            _run_start.reset(token)
        return
    runtime = await runtime_from_environment()
    try:
        yield runtime
    finally:
        await runtime.aclose()


def _prefect_rate_limit(limit_name: str) -> SharedGate:
    """A slot of the Prefect global concurrency limit per request, so every worker shares one store quota.

    `strict=True`: a deployment whose limit is missing fails loudly instead of running unthrottled.
    """

    async def take_slot() -> None:
        from prefect.concurrency.asyncio import rate_limit

        await rate_limit(limit_name, strict=True)

    return take_slot
