"""The one rate limiter, paced by BigCommerce's quota headers.

BigCommerce gives every store a request quota per fixed window (150 per 30 s on Standard plans), shared by
every app installed on the store, and reports it on each response:

    X-Rate-Limit-Requests-Quota   requests allowed per window
    X-Rate-Limit-Requests-Left    requests left in the current window
    X-Rate-Limit-Time-Window-Ms   window length
    X-Rate-Limit-Time-Reset-Ms    time until the window refreshes

The limiter spends the quota down to a reserved share (kept free for the store's other apps), then waits
for the window to reset. With a fixed window, spending early and waiting once is what reaches the bound
`quota * (1 - reserve_share) / window`. An optional shared gate (a Prefect global concurrency limit) lets
several workers split one store's quota.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping

from connectors.http.retry import Sleep

__all__ = ["HEADER_LEFT", "HEADER_QUOTA", "HEADER_RESET_MS", "HEADER_WINDOW_MS", "QuotaLimiter"]

HEADER_LEFT = "x-rate-limit-requests-left"
HEADER_QUOTA = "x-rate-limit-requests-quota"
HEADER_WINDOW_MS = "x-rate-limit-time-window-ms"
HEADER_RESET_MS = "x-rate-limit-time-reset-ms"

Clock = Callable[[], float]
SharedGate = Callable[[], Awaitable[None]]


class QuotaLimiter:
    """Hands out permission to send one request, never letting the store's quota drop below the reserve.

    Until the first response arrives the limiter knows nothing and lets requests through; after that,
    every response corrects its view of the window.
    """

    def __init__(
        self,
        *,
        reserve_share: float = 0.1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        shared_gate: SharedGate | None = None,
    ) -> None:
        if not 0.0 <= reserve_share < 1.0:
            raise ValueError("reserve_share must be in [0, 1)")
        self.reserve_share = reserve_share
        self._clock = clock
        self._sleep = sleep
        self._shared_gate = shared_gate
        self._lock = asyncio.Lock()
        self._quota: int | None = None
        self._window_s: float | None = None
        self._tokens: int | None = None
        self._reset_at: float = 0.0
        self.waited_s = 0.0

    @property
    def quota(self) -> int | None:
        return self._quota

    @property
    def window_s(self) -> float | None:
        return self._window_s

    def usable_quota(self) -> int | None:
        """Requests per window this client may spend once the reserve is kept aside."""
        if self._quota is None:
            return None
        return max(1, self._quota - math.ceil(self._quota * self.reserve_share))

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it."""
        async with self._lock:
            if self._tokens is not None:
                now = self._clock()
                if self._tokens <= 0 and now < self._reset_at:
                    wait = self._reset_at - now
                    self.waited_s += wait
                    await self._sleep(wait)
                    now = self._clock()
                if self._tokens <= 0 and now >= self._reset_at:
                    # The window has refreshed: assume the full usable quota until a response says otherwise.
                    self._tokens = self.usable_quota() or 1
                    self._reset_at = now + (self._window_s or 0.0)
                self._tokens -= 1
        if self._shared_gate is not None:
            await self._shared_gate()

    def update(self, headers: Mapping[str, str]) -> None:
        """Correct the view of the window from a response's headers (absent headers change nothing)."""
        left = _int_header(headers, HEADER_LEFT)
        reset_ms = _int_header(headers, HEADER_RESET_MS)
        if left is None or reset_ms is None:
            return
        quota = _int_header(headers, HEADER_QUOTA)
        window_ms = _int_header(headers, HEADER_WINDOW_MS)
        if quota is not None:
            self._quota = quota
        if window_ms is not None:
            self._window_s = window_ms / 1000.0
        reserve = math.ceil((self._quota or left) * self.reserve_share)
        self._tokens = max(0, left - reserve)
        self._reset_at = self._clock() + reset_ms / 1000.0

    def exhaust(self, reset_after_s: float) -> None:
        """A 429 arrived: nothing is left until the window resets."""
        self._tokens = 0
        self._reset_at = self._clock() + reset_after_s


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None
