"""The one retry loop: which errors repeat, and exactly how long it waits."""

from __future__ import annotations

import pytest

from common.errors import (
    MalformedResponseError,
    PermanentApiError,
    RateLimitError,
    TransientApiError,
)
from connectors.http.retry import RetryPolicy, backoff_delay, call_with_retry
from tests.support.doubles import RecordingSleep as Recorder

POLICY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=4.0, jitter=0.25)


def failing(errors: list[Exception], result: str = "ok"):
    calls = {"n": 0}

    async def attempt() -> str:
        calls["n"] += 1
        if errors:
            raise errors.pop(0)
        return result

    return attempt, calls


def transient(status: int = 500) -> TransientApiError:
    return TransientApiError("boom", system="test", operation="op", status=status)


async def test_transient_errors_back_off_exponentially_then_succeed() -> None:
    sleep = Recorder()
    attempt, calls = failing([transient(), transient(), transient()])
    assert await call_with_retry(attempt, policy=POLICY, sleep=sleep, rand=lambda: 0.0) == "ok"
    assert calls["n"] == 4
    assert sleep.waits == [0.5, 1.0, 2.0]


async def test_rate_limit_wait_is_a_floor_that_jitter_only_adds_to() -> None:
    sleep = Recorder()
    error = RateLimitError("slow down", retry_after=12.0, system="bc", operation="op", status=429)
    attempt, _ = failing([error])
    await call_with_retry(attempt, policy=POLICY, sleep=sleep, rand=lambda: 0.5)
    # 12 s asked for, above the 4 s cap: the cap never cuts an API-requested wait; jitter adds 12.5 %.
    assert sleep.waits == [pytest.approx(12.0 * 1.125)]


async def test_backoff_is_capped() -> None:
    assert backoff_delay(POLICY, attempt=10, retry_after=None, unit=0.0) == 4.0


@pytest.mark.parametrize(
    "error",
    [
        PermanentApiError("bad", system="bc", operation="op", status=422),
        ValueError("a bug, not the network"),
    ],
)
async def test_non_transient_errors_are_never_retried(error: Exception) -> None:
    sleep = Recorder()
    attempt, calls = failing([error])
    with pytest.raises(type(error)):
        await call_with_retry(attempt, policy=POLICY, sleep=sleep, rand=lambda: 0.0)
    assert calls["n"] == 1
    assert sleep.waits == []


async def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    sleep = Recorder()
    attempt, calls = failing([transient() for _ in range(10)])
    with pytest.raises(TransientApiError):
        await call_with_retry(attempt, policy=POLICY, sleep=sleep, rand=lambda: 0.0)
    assert calls["n"] == POLICY.max_attempts
    assert len(sleep.waits) == POLICY.max_attempts - 1


async def test_malformed_body_counts_as_transient() -> None:
    sleep = Recorder()
    attempt, calls = failing([MalformedResponseError("bad json", system="m", operation="op", status=200)])
    assert await call_with_retry(attempt, policy=POLICY, sleep=sleep, rand=lambda: 0.0) == "ok"
    assert calls["n"] == 2
