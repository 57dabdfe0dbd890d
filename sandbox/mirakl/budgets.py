"""Mirakl's documented call frequencies, enforced: a call past an operation's maximum usage gets a 429.

Written from the specs' "Call Frequency" blocks (`mmp-operator-openapi.json`, `mmp-front-openapi.yaml`,
`<div class="max-call-frequency">Maximum usage: ...`) and, for TL02, which the stored specs do not carry, from
Mirakl's seller-payment documentation as noted in shared/api/mirakl.md §7.2 ("max 20/min and 60/hour"). No spec
declares the 429 itself; a tenant's integration guide quoting Mirakl says it carries `Retry-After` in seconds
(mirakl.md §2.4), and the body is Mirakl's usual `{"message", "status"}`.

Windows slide: a call counts against every window it falls in. Refused calls are not counted. The clock is the
settings' `budget_clock` (a simulated one in tests and the demo), and `call_budget_scale` multiplies every
allowance for benchmarks; `enforce_call_budgets=False` turns the whole check off.
"""

from __future__ import annotations

import math
import re
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from sandbox.mirakl.errors import error_response
from sandbox.mirakl.settings import MiraklSandboxSettings

__all__ = ["CallBudgetMiddleware", "CallFrequencies", "operation_of"]

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

# (method, path pattern, operation code). Only operations with a numeric maximum are listed: "at each new order"
# (OR21), "at each refund request" (OR28) and the like bound nothing a client could count.
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("GET", re.compile(r"/api/orders$"), "OR11"),
    ("GET", re.compile(r"/api/offers/export$"), "OF51"),
    ("POST", re.compile(r"/api/offers/export/async$"), "OF52"),
    ("GET", re.compile(r"/api/offers/export/async/status/[^/]+$"), "OF53"),
    ("GET", re.compile(r"/api/offers/imports$"), "OF04"),
    ("GET", re.compile(r"/api/offers/imports/[^/]+$"), "OF02"),
    ("GET", re.compile(r"/api/offers/imports/[^/]+/error_report$"), "OF03"),
    ("GET", re.compile(r"/api/shipping/carriers$"), "SH21"),
    ("GET", re.compile(r"/api/invoices$"), "IV01"),
    ("GET", re.compile(r"/api/seller-billing-cycles$"), "SBC11"),
    ("GET", re.compile(r"/api/sellerpayment/transactions_logs$"), "TL02"),
)

# Maximum usage per operation, as (calls, window seconds).
_MAXIMUMS: dict[str, tuple[tuple[int, float], ...]] = {
    # OR11: "Maximum usage: - Asynchronous: once per minute - Synchronous: at each order page display"
    "OR11": ((1, MINUTE),),
    # OF51, OF52: "Maximum usage: - Differential: once per minute - Full: once per day"
    "OF51": ((1, MINUTE),),
    "OF52": ((1, MINUTE),),
    # OF53: "Maximum usage: Every 10 seconds"
    "OF53": ((1, 10.0),),
    # OF04, OF02, OF03: "Maximum usage: Once per minute"
    "OF04": ((1, MINUTE),),
    "OF02": ((1, MINUTE),),
    "OF03": ((1, MINUTE),),
    # SH21: "Maximum usage: Once per day"
    "SH21": ((1, DAY),),
    # IV01: "Maximum usage: Once per day and as many times as there are invoice pages returned"
    "IV01": ((1, DAY),),
    # SBC11: "Maximum usage: Once per day and as many times as there are billing cycle pages returned"
    "SBC11": ((1, DAY),),
    # TL02: "max 20/min and 60/hour" (Mirakl seller-payment documentation)
    "TL02": ((20, MINUTE), (60, HOUR)),
}

# "... and as many times as there are pages returned": a further page (offset > 0 for IV01's offset paging,
# a page_token for SBC11's seek paging) is not another use.
_PAGES_FREE = frozenset({"IV01", "SBC11"})


def operation_of(method: str, path: str) -> str | None:
    """The budgeted operation a request is, or None."""
    for route_method, pattern, operation in _ROUTES:
        if method == route_method and pattern.search(path):
            return operation
    return None


@dataclass
class CallFrequencies:
    """Admitted calls per operation, and what was refused, for the tests that prove no budget is exceeded."""

    settings: MiraklSandboxSettings
    admitted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    _calls: dict[str, deque[datetime]] = field(default_factory=dict)

    def now(self) -> datetime:
        return (self.settings.budget_clock or self.settings.now)()

    def limits(self, operation: str) -> tuple[tuple[int, float], ...]:
        scale = self.settings.call_budget_scale
        return tuple((max(1, math.floor(calls * scale)), seconds) for calls, seconds in _MAXIMUMS[operation])

    def admit(self, operation: str, now: datetime) -> float | None:
        """Count the call and return None, or refuse it and return the seconds until one would be admitted."""
        calls = self._calls.setdefault(operation, deque())
        limits = self.limits(operation)
        longest = max(seconds for _, seconds in limits)
        while calls and calls[0] <= now - timedelta(seconds=longest):
            calls.popleft()
        wait = 0.0
        for allowed, seconds in limits:
            inside = [t for t in calls if t > now - timedelta(seconds=seconds)]
            if len(inside) >= allowed:
                wait = max(wait, (inside[-allowed] + timedelta(seconds=seconds) - now).total_seconds())
        if wait > 0:
            self.refused[operation] += 1
            return wait
        calls.append(now)
        self.admitted[operation] += 1
        return None


class CallBudgetMiddleware(BaseHTTPMiddleware):
    """Answers a call past its operation's documented maximum with Mirakl's 429 and `Retry-After`."""

    def __init__(self, app: ASGIApp, *, frequencies: CallFrequencies) -> None:
        super().__init__(app)
        self.frequencies = frequencies

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        operation = operation_of(request.method, request.url.path)
        if operation is None or not self.frequencies.settings.enforce_call_budgets or _further_page(operation, request):
            return await call_next(request)
        wait = self.frequencies.admit(operation, self.frequencies.now())
        if wait is None:
            return await call_next(request)
        return error_response(
            429,
            f"Too Many Requests: {operation} is above its maximum call frequency",
            {"Retry-After": str(max(1, math.ceil(wait)))},
        )


def _further_page(operation: str, request: Request) -> bool:
    if operation not in _PAGES_FREE:
        return False
    offset = request.query_params.get("offset", "0")
    return bool(request.query_params.get("page_token")) or (offset.isdigit() and int(offset) > 0)
