"""Everything a flow run needs to act: the three API clients, the state store and the business config.

Flows open a runtime at their start (`runtime_scope`), so a deployment run builds it from its environment,
while the demo and tests install one up front (`use_runtime`) that talks to the sandbox. Tasks receive the
runtime, never a raw secret.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bcmirakl.config import BridgeConfig, load_config
from bcmirakl.settings import BridgeSettings, load_settings, mirakl_role_values
from connectors.bigcommerce import BigCommerceClient
from connectors.erp import ErpClient
from connectors.http.ratelimit import QuotaLimiter, SharedGate
from connectors.mirakl import MiraklClient
from connectors.mirakl.auth import role_credential_auth
from connectors.mirakl.roles import Role
from connectors.state import create_state_engine, session_factory, upgrade

__all__ = ["Runtime", "build_runtime", "current_override", "runtime_scope", "use_runtime"]


@dataclass
class Runtime:
    bigcommerce: BigCommerceClient
    mirakl: MiraklClient
    erp: ErpClient
    engine: Engine
    sessions: sessionmaker[Session]
    config: BridgeConfig
    artifacts_dir: Path

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
) -> Runtime:
    """Clients and state for `settings`; `transport` routes every client in-process (tests, benchmarks)."""
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
    )
    erp = ErpClient.create(settings.erp_base_url, settings.erp_token.get_secret_value(), transport=transport)
    engine = create_state_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return Runtime(
        bigcommerce=bigcommerce,
        mirakl=mirakl,
        erp=erp,
        engine=engine,
        sessions=session_factory(engine),
        config=config or load_config(settings.config_file),
        artifacts_dir=settings.artifacts_dir,
    )


_override: ContextVar[Runtime | None] = ContextVar("bcmirakl_runtime", default=None)


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
        yield installed
        return
    from bcmirakl.blocks import credential_overrides

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
