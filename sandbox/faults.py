"""Fault injection for the emulators: make any route slow, failing, rate-limited or malformed on request.

Chaos tests and benchmarks declare rules (per method and path pattern) through the control endpoint
`POST {prefix}/_sandbox/faults` or directly on a `FaultInjector`. Each platform's app decides what an injected
error looks like (its own error body and headers) by passing `render_error` to the middleware.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

__all__ = ["FaultInjector", "FaultMiddleware", "FaultRule", "RenderError", "fault_control_router"]

RenderError = Callable[[Request, int], Response]


class FaultRule(BaseModel):
    """One rule; the first matching rule with something left to inject wins."""

    path: str = Field(description="regular expression matched against the request path (search, not full match)")
    method: str | None = Field(default=None, description="HTTP method, any when unset")
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="share of requests answered with `status`")
    status: int = Field(default=500, description="status of injected errors")
    latency_ms: int = Field(default=0, ge=0, description="delay added before answering")
    burst_429: int = Field(default=0, ge=0, description="the next N matching requests get a 429")
    malformed_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="share answered 200 with a broken body")
    partial_failure_rate: float = Field(
        default=0.0, ge=0.0, le=1.0, description="share of items in a batch write that the route rejects"
    )
    times: int | None = Field(default=None, ge=0, description="stop injecting after this many faults")
    lose_response: bool = Field(
        default=False,
        description="injected errors are answered after the route ran: the write is applied and its answer lost",
    )


class FaultRules(BaseModel):
    rules: list[FaultRule]


@dataclass
class _ActiveRule:
    rule: FaultRule
    pattern: re.Pattern[str]
    injected: int = 0
    bursts_left: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.rule.method and self.rule.method.upper() != method.upper():
            return False
        return self.pattern.search(path) is not None

    def exhausted(self) -> bool:
        return self.rule.times is not None and self.injected >= self.rule.times


@dataclass
class FaultInjector:
    """Holds the active rules and a seeded random source, so a chaos run is repeatable."""

    seed: int = 7
    _rules: list[_ActiveRule] = field(default_factory=list)
    injected_total: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def set_rules(self, rules: list[FaultRule]) -> None:
        self._rules = [_ActiveRule(r, re.compile(r.path), bursts_left=r.burst_429) for r in rules]

    def add_rule(self, rule: FaultRule) -> None:
        self._rules.append(_ActiveRule(rule, re.compile(rule.path), bursts_left=rule.burst_429))

    def clear(self) -> None:
        self._rules = []

    def _matching(self, method: str, path: str) -> list[_ActiveRule]:
        return [r for r in self._rules if r.matches(method, path) and not r.exhausted()]

    def decide(self, method: str, path: str) -> tuple[int, str | None, int]:
        """(latency_ms, fault kind or None, status) for one request; kinds: "429", "error", "lost", "malformed"."""
        latency = 0
        for active in self._matching(method, path):
            latency = max(latency, active.rule.latency_ms)
            kind: str | None = None
            if active.bursts_left > 0:
                active.bursts_left -= 1
                kind = "429"
            elif active.rule.error_rate and self._random.random() < active.rule.error_rate:
                kind = "lost" if active.rule.lose_response else "error"
            elif active.rule.malformed_rate and self._random.random() < active.rule.malformed_rate:
                kind = "malformed"
            if kind is not None:
                active.injected += 1
                self.injected_total += 1
                return latency, kind, 429 if kind == "429" else active.rule.status
        return latency, None, 200

    def item_rejected(self, method: str, path: str) -> bool:
        """For batch routes: whether this item of the batch should be rejected (partial failure)."""
        for active in self._matching(method, path):
            if active.rule.partial_failure_rate and self._random.random() < active.rule.partial_failure_rate:
                active.injected += 1
                self.injected_total += 1
                return True
        return False


class FaultMiddleware(BaseHTTPMiddleware):
    """Applies the injector's decision before the real route runs."""

    def __init__(self, app: ASGIApp, *, injector: FaultInjector, render_error: RenderError) -> None:
        super().__init__(app)
        self.injector = injector
        self.render_error = render_error

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if "/_sandbox/" in request.url.path:
            return await call_next(request)
        latency_ms, kind, status = self.injector.decide(request.method, request.url.path)
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000.0)
        if kind in ("429", "error"):
            return self.render_error(request, status)
        if kind == "lost":
            await call_next(request)  # the platform did the work; the caller only sees the error
            return self.render_error(request, status)
        if kind == "malformed":
            return Response(content=b'{"data": [{"id": 1, "trunc', status_code=200, media_type="application/json")
        return await call_next(request)


def fault_control_router(injector: FaultInjector) -> APIRouter:
    """`/_sandbox/faults` endpoints: replace, add to, or clear the active rules."""
    router = APIRouter()

    @router.put("/_sandbox/faults", status_code=204)
    async def replace_rules(body: FaultRules) -> Response:
        injector.set_rules(body.rules)
        return Response(status_code=204)

    @router.post("/_sandbox/faults", status_code=204)
    async def add_rule(rule: FaultRule) -> Response:
        injector.add_rule(rule)
        return Response(status_code=204)

    @router.delete("/_sandbox/faults", status_code=204)
    async def clear_rules() -> Response:
        injector.clear()
        return Response(status_code=204)

    return router
