"""Fixtures shared by every test: an in-process sandbox and a runtime wired to it.

Clients reach the sandbox through `httpx.ASGITransport`, so no socket or port is involved; the state store is a
fresh SQLite file per test. The sandbox enforces Mirakl's call budgets and the bridge keeps them, both on one
simulated clock (`sim_clock`), so a budget wait costs no real time. Flow tests additionally use the Prefect
harness from `tests/flows/conftest.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bridge.config import BridgeConfig, load_config
from bridge.runtime import Runtime, build_runtime
from bridge.sandbox_settings import sandbox_settings
from bridge.simclock import SimulatedClock
from sandbox.app import Sandbox
from tests.support.clock import budget_clock_kwargs, budgeted_sandbox


@pytest.fixture
def sim_clock() -> SimulatedClock:
    return SimulatedClock()


@pytest.fixture
def sandbox(sim_clock: SimulatedClock) -> Sandbox:
    return budgeted_sandbox(sim_clock)


@pytest.fixture
def bridge_config() -> BridgeConfig:
    return load_config()


@pytest.fixture
async def runtime(
    sandbox: Sandbox, tmp_path: Path, bridge_config: BridgeConfig, sim_clock: SimulatedClock
) -> AsyncIterator[Runtime]:
    transport = httpx.ASGITransport(app=sandbox.app)
    rt = build_runtime(
        sandbox_settings(sandbox.base_url, tmp_path),
        config=bridge_config,
        transport=transport,
        **budget_clock_kwargs(sim_clock),
    )
    try:
        yield rt
    finally:
        await rt.aclose()
