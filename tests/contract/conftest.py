"""One seeded sandbox per contract module, reached in-process the way the bridge reaches it.

The contract tests only read what the emulators answer (the few writes touch distinct records), so sharing one
sandbox per module keeps the spec checks fast without coupling their outcomes. Mirakl's call budgets are off
here: the shapes are under test, and tests/sandbox/test_mirakl_call_budgets.py checks the 429 itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.app import Sandbox, create_sandbox
from sandbox.mirakl import MiraklSandboxSettings


@pytest.fixture(scope="module")
def contract_sandbox() -> Sandbox:
    # Shapes are under test, read many times in one instant; call budgets are tested on their own.
    return create_sandbox(mirakl=MiraklSandboxSettings(enforce_call_budgets=False))


@pytest.fixture(scope="module")
async def bigcommerce(contract_sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=contract_sandbox.app)
    headers = {"X-Auth-Token": "sandbox-token"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox/bigcommerce/stores/sandbox", headers=headers
    ) as client:
        yield client


@pytest.fixture(scope="module")
async def mirakl(contract_sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=contract_sandbox.app)
    headers = {"Authorization": "sandbox-mirakl-key"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/mirakl", headers=headers) as client:
        yield client
