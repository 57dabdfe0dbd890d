"""The quota limiter: spends down to the reserve, then waits exactly until the window resets."""

from __future__ import annotations

import pytest

from connectors.http.ratelimit import QuotaLimiter
from tests.support.clock import FakeClock


def headers(left: int, reset_ms: int, quota: int = 150, window_ms: int = 30_000) -> dict[str, str]:
    return {
        "x-rate-limit-requests-left": str(left),
        "x-rate-limit-requests-quota": str(quota),
        "x-rate-limit-time-window-ms": str(window_ms),
        "x-rate-limit-time-reset-ms": str(reset_ms),
    }


async def test_requests_pass_freely_before_any_headers_are_known() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(clock=clock, sleep=clock.sleep)
    for _ in range(5):
        await limiter.acquire()
    assert clock.waits == []


async def test_waits_until_reset_once_only_the_reserve_is_left() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(reserve_share=0.1, clock=clock, sleep=clock.sleep)
    # 17 left, 15 of them reserved for the store's other apps: two more requests may go.
    limiter.update(headers(left=17, reset_ms=12_000))
    await limiter.acquire()
    await limiter.acquire()
    assert clock.waits == []
    await limiter.acquire()
    assert clock.waits == [pytest.approx(12.0)]


async def test_after_a_reset_the_usable_quota_is_available_again() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(reserve_share=0.1, clock=clock, sleep=clock.sleep)
    limiter.update(headers(left=15, reset_ms=5_000))
    await limiter.acquire()  # waits 5 s, then a fresh window of 135 usable requests
    for _ in range(134):
        await limiter.acquire()
    assert clock.waits == [pytest.approx(5.0)]
    await limiter.acquire()
    assert clock.waits == [pytest.approx(5.0), pytest.approx(30.0)]


async def test_a_429_exhausts_the_window_for_the_requested_time() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(clock=clock, sleep=clock.sleep)
    limiter.update(headers(left=100, reset_ms=20_000))
    limiter.exhaust(7.5)
    await limiter.acquire()
    assert clock.waits == [pytest.approx(7.5)]


async def test_responses_without_quota_headers_change_nothing() -> None:
    clock = FakeClock()
    limiter = QuotaLimiter(clock=clock, sleep=clock.sleep)
    limiter.update({"content-type": "application/json"})
    await limiter.acquire()
    assert limiter.quota is None
    assert clock.waits == []


async def test_shared_gate_is_consulted_for_every_request() -> None:
    clock = FakeClock()
    gate_calls: list[int] = []

    async def gate() -> None:
        gate_calls.append(1)

    limiter = QuotaLimiter(clock=clock, sleep=clock.sleep, shared_gate=gate)
    await limiter.acquire()
    await limiter.acquire()
    assert len(gate_calls) == 2


def test_reserve_share_must_leave_something_usable() -> None:
    with pytest.raises(ValueError):
        QuotaLimiter(reserve_share=1.0)
