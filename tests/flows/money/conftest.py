"""A store in each currency the money scenarios run in: two decimals (USD), none (JPY) and three (KWD).

Every test here runs once per currency; the sandbox seeds its store, sellers and orders in it, and the bridge is
configured with it, its finance exports under the test's own directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bridge.config import BridgeConfig, load_config
from bridge.simclock import SimulatedClock
from sandbox.app import Sandbox
from sandbox.seed import SeedConfig
from tests.support.clock import budgeted_sandbox
from tests.support.order_world import SandboxControl


@pytest.fixture(params=["USD", "JPY", "KWD"])
def currency(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sandbox(currency: str, sim_clock: SimulatedClock) -> Sandbox:
    return budgeted_sandbox(sim_clock, seed=SeedConfig(currency=currency))


@pytest.fixture
def bridge_config(currency: str, tmp_path: Path) -> BridgeConfig:
    config = load_config()
    section = config.reconciliation.model_copy(update={"export_dir": tmp_path / "exports"})
    return config.model_copy(update={"currency": currency, "reconciliation": section})


@pytest.fixture
async def control(sandbox: Sandbox) -> AsyncIterator[SandboxControl]:
    ctl = SandboxControl(sandbox)
    yield ctl
    await ctl.aclose()
