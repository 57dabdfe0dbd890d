"""Fixtures for the BigCommerce connector tests: a fake clock and a client factory over a scripted server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.bigcommerce import BigCommerceClient
from connectors.http import QuotaLimiter
from tests.connectors.bigcommerce.bc_doubles import BASE, STORE
from tests.support.clock import FakeClock
from tests.support.doubles import ScriptedServer


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., BigCommerceClient]:
    """Build a client over a scripted server, with the fake clock driving both the retry loop and the limiter."""

    def build(server: ScriptedServer, *, base_url: str = BASE, **kwargs: Any) -> BigCommerceClient:
        limiter = kwargs.pop("limiter", QuotaLimiter(reserve_share=0.1, clock=clock, sleep=clock.sleep))
        return BigCommerceClient.create(
            base_url,
            STORE,
            "test-token",
            transport=httpx.MockTransport(server),
            limiter=limiter,
            sleep=clock.sleep,
            rand=lambda: 0.0,
            **kwargs,
        )

    return build
