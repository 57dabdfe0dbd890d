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

from bridge.config import BridgeConfig, load_config
from bridge.settings import BridgeSettings, load_settings, mirakl_role_values
from common.errors import ConfigurationError
from connectors.bigcommerce import BigCommerceClient
from connectors.erp import ErpClient
from connectors.http.ratelimit import QuotaLimiter, SharedGate
from connectors.http.retry import Sleep
from connectors.mirakl import MiraklClient
from connectors.mirakl.auth import role_credential_auth
from connectors.mirakl.budgets import DEFAULT_BUDGETS, CallLimit, is_continuation
from connectors.mirakl.roles import Role
from connectors.state import create_state_engine, session_factory, upgrade
from connectors.state.budgets import CallBudgetGate

__all__ = [
    "Runtime",
    "build_runtime",
    "current_override",
    "ensure_writable_dir",
    "mirakl_usage_this_run",
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
    settings: BridgeSettings,
    *,
    config: BridgeConfig | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    migrate: bool = True,
    budget_clock: Callable[[], datetime] | None = None,
    budget_sleep: Sleep | None = None,
    hold_budgets: bool = True,
) -> Runtime:
    """Clients and state for `settings`; `transport` routes every client in-process (tests, benchmarks).

    Everything that can be checked without a call is checked first (config file, artifacts folder), so a
    mistake fails the run at start-up rather than after its work is done.
    `budget_clock`/`budget_sleep` drive the Mirakl call budgets and every other Mirakl wait (retries, OF53 polls):
    a `SimulatedClock` in the demo and tests, so no such wait costs real time; the wall clock and real sleeping
    otherwise. `hold_budgets=False` (with
    `migrate=False`: `bcmirakl doctor`, which must answer without the state store) sends calls outside the shared
    budgets.
    """
    config = config or load_config(settings.config_file)
    ensure_writable_dir(settings.artifacts_dir, "BCMIRAKL_ARTIFACTS_DIR")
    engine = create_state_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    sessions = session_factory(engine)
    budget = _mirakl_budget(config, sessions, budget_clock, budget_sleep) if hold_budgets else None
    bigcommerce = BigCommerceClient.create(
        settings.bc_base_url,
        settings.bc_store_hash,
        settings.bc_access_token.get_secret_value(),
        transport=transport,
        reserve_share=settings.bc_reserve_share,
        location_id=settings.bc_location_id,
        limiter=QuotaLimiter(
            reserve_share=settings.bc_reserve_share,
            shared_gate=_prefect_rate_limit(settings.bc_concurrency_limit) if settings.bc_concurrency_limit else None,
        ),
    )
    mirakl = MiraklClient.create(
        settings.mirakl_base_url,
        front=_mirakl_auth(settings, Role.FRONT),
        operator=_mirakl_auth(settings, Role.OPERATOR),
        chunk_hosts=settings.mirakl_chunk_hosts,
        transport=transport,
        gate=budget,
        sleep=budget_sleep,
    )
    erp = ErpClient.create(settings.erp_base_url, settings.erp_token.get_secret_value(), transport=transport)
    return Runtime(
        bigcommerce=bigcommerce,
        mirakl=mirakl,
        erp=erp,
        engine=engine,
        sessions=sessions,
        config=config,
        artifacts_dir=settings.artifacts_dir,
        mirakl_budget=budget,
    )


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


def current_override() -> Runtime | None:
    return _override.get()


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
    from bridge.blocks import credential_overrides

    runtime = build_runtime(load_settings(**await credential_overrides()))
    try:
        yield runtime
    finally:
        await runtime.aclose()


def _mirakl_auth(settings: BridgeSettings, role: Role) -> httpx.Auth:
    return role_credential_auth(oauth_token_url=settings.mirakl_oauth_token_url, **mirakl_role_values(settings, role))


def _prefect_rate_limit(limit_name: str) -> SharedGate:
    """A slot of the Prefect global concurrency limit per request, so every worker shares one store quota.

    `strict=True`: a deployment whose limit is missing fails loudly instead of running unthrottled.
    """

    async def take_slot() -> None:
        from prefect.concurrency.asyncio import rate_limit

        await rate_limit(limit_name, strict=True)

    return take_slot
