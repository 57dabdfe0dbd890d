"""The Mirakl emulator enforces the documented maximum call frequencies with 429 and `Retry-After`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bridge.simclock import SimulatedClock
from sandbox.mirakl import MiraklSandboxSettings, create_mirakl_app
from sandbox.seed import build_world

KEY = {"Authorization": "sandbox-mirakl-key"}
TL02 = "/api/sellerpayment/transactions_logs"
WINDOW = {"date_created_from": "2026-11-01T00:00:00Z", "date_created_to": "2026-11-02T00:00:00Z"}


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


def _client(clock: SimulatedClock, **settings: Any) -> httpx.AsyncClient:
    app = create_mirakl_app(
        build_world(), MiraklSandboxSettings(base_url="http://sandbox", budget_clock=clock.now, **settings)
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox", headers=KEY)


@pytest.fixture
async def mirakl(clock: SimulatedClock) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(clock) as client:
        yield client


async def test_a_second_or11_within_the_minute_gets_429_with_retry_after_and_mirakl_s_error_body(
    mirakl: httpx.AsyncClient, clock: SimulatedClock
) -> None:
    assert (await mirakl.get("/api/orders")).status_code == 200
    clock.advance(20)
    refused = await mirakl.get("/api/orders", params={"order_state_codes": "SHIPPING"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "40"
    assert refused.json() == {"message": "Too Many Requests: OR11 is above its maximum call frequency", "status": 429}
    clock.advance(40)
    assert (await mirakl.get("/api/orders")).status_code == 200


async def test_tl02_admits_twenty_a_minute_and_sixty_an_hour(mirakl: httpx.AsyncClient, clock: SimulatedClock) -> None:
    statuses = [(await mirakl.get(TL02, params=WINDOW)).status_code for _ in range(21)]
    assert statuses == [200] * 20 + [429]
    clock.advance(60)
    statuses = [(await mirakl.get(TL02, params=WINDOW)).status_code for _ in range(20)]
    clock.advance(60)
    statuses += [(await mirakl.get(TL02, params=WINDOW)).status_code for _ in range(20)]
    assert statuses == [200] * 40
    clock.advance(60)
    refused = await mirakl.get(TL02, params=WINDOW)
    assert refused.status_code == 429  # 60 in the hour, although the minute is free
    assert int(refused.headers["Retry-After"]) == 3600 - 180


async def test_further_pages_of_an_invoice_read_are_free_but_a_new_read_the_same_day_is_not(
    mirakl: httpx.AsyncClient, clock: SimulatedClock
) -> None:
    window = {"start_date": "2026-11-01T00:00:00Z", "end_date": "2026-12-01T00:00:00Z"}
    assert (await mirakl.get("/api/invoices", params=window | {"max": 1})).status_code == 200
    assert (await mirakl.get("/api/invoices", params=window | {"max": 1, "offset": 1})).status_code == 200
    clock.advance(23 * 3600)
    refused = await mirakl.get("/api/invoices", params=window)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"


async def test_event_driven_writes_have_no_budget(mirakl: httpx.AsyncClient) -> None:
    answers = [(await mirakl.get("/api/reasons")).status_code for _ in range(5)]  # "each time a page must display"
    assert answers == [200] * 5


async def test_budgets_can_be_switched_off_or_scaled(clock: SimulatedClock) -> None:
    async with _client(clock, enforce_call_budgets=False) as unlimited:
        assert {(await unlimited.get("/api/orders")).status_code for _ in range(5)} == {200}
    async with _client(clock, call_budget_scale=3) as scaled:
        assert [(await scaled.get("/api/orders")).status_code for _ in range(4)] == [200, 200, 200, 429]
