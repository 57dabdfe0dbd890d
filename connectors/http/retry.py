"""The one retry loop: transient errors only, the API's requested wait as a floor, capped backoff with jitter.

Only this module decides whether and how long to wait before repeating a request, so every connector
behaves alike and the waits can be asserted on a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from common.errors import RateLimitError, TransientApiError

__all__ = ["DEFAULT_RETRY_POLICY", "RetryPolicy", "Sleep", "backoff_delay", "call_with_retry"]

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

_log = logging.getLogger("bcmirakl.http.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is repeated.

    `jitter` is a fraction added on top of each wait (never subtracted), so that a floor set by the API
    is always respected while many workers still spread out.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    jitter: float = 0.25


DEFAULT_RETRY_POLICY = RetryPolicy()


def backoff_delay(policy: RetryPolicy, attempt: int, retry_after: float | None, unit: float) -> float:
    """Wait before attempt `attempt + 1`; `unit` in [0, 1) is the random draw for the jitter.

    Exponential backoff is capped at `max_delay`; an API-requested wait (`retry_after`) is a floor that
    the cap never cuts.
    """
    exponential = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
    delay = max(exponential, retry_after or 0.0)
    return delay * (1.0 + policy.jitter * unit)


async def call_with_retry(
    attempt_call: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    sleep: Sleep = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> T:
    """Run `attempt_call` until it succeeds, raises a non-transient error, or attempts run out."""
    attempt = 1
    while True:
        try:
            return await attempt_call()
        except TransientApiError as exc:
            if attempt >= policy.max_attempts:
                exc.attempts = attempt  # spent: task-level retries must not repeat this whole loop
                raise
            retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
            delay = backoff_delay(policy, attempt, retry_after, rand())
            _log.warning(
                "%s %s transient failure (status %s), attempt %d/%d, waiting %.2fs",
                exc.system,
                exc.operation,
                exc.status,
                attempt,
                policy.max_attempts,
                delay,
            )
            await sleep(delay)
            attempt += 1
