"""Retrying any stream's run (same parameters, same window) from the Prefect UI has no duplicate effect.

Parametrized over `flows.registry` at collection time, so a stream registered later is covered without editing
this file. The streams share one sandbox and state store, brought forward in `DEMO_SEQUENCE` order (each stream
runs on the state the earlier ones left, as in production), and before each stream the demo's scenario plays
what sellers would do (a stock-out, accepting orders, shipping, a refund), so every stream meets work to do:
the streams that write must have written on their first run, or the rerun would prove nothing. Each case runs
its stream once, then again with identical parameters, and the second run must send no successful write to
BigCommerce, Mirakl or the ERP and add no ledger row. Writes are seen by wrapping the sandbox app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bcmirakl.demo_scenario import BEFORE_STREAM, demo_parameters
from bridge.config import load_config
from bridge.runtime import Runtime, build_runtime, use_runtime
from bridge.sandbox_settings import sandbox_settings
from bridge.simclock import SimulatedClock
from connectors.state import LedgerEntry
from flows.registry import DEMO_SEQUENCE, STREAMS, load_flow
from sandbox.app import Sandbox
from tests.support.clock import budget_clock_kwargs, budgeted_sandbox

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# POSTs that change nothing: starting an offer export (OF52) and asking BigCommerce for a refund quote.
READ_ONLY_WRITES = ("/_sandbox/", "/api/offers/export/async", "/payment_actions/refund_quotes")
# Streams whose job is to change BigCommerce, Mirakl or the ERP; the others only read and report.
WRITING_STREAMS = {"offer_sync", "order_routing", "acceptance_guard", "shipment_sync", "refund_mirror"}


def _cases() -> list[Any]:
    cases = [(stream, params) for stream, params in DEMO_SEQUENCE if stream in STREAMS]
    sequenced = {stream for stream, _ in cases}
    cases += [(name, spec.demo_parameters) for name, spec in STREAMS.items() if name not in sequenced]
    return [
        pytest.param(index, stream, params, id="-".join([stream, *map(str, params.values())]))
        for index, (stream, params) in enumerate(cases)
    ]


CASES = _cases()


class WriteRecorder:
    """ASGI wrapper noting every write the sandbox accepted (2xx), as (method, path)."""

    def __init__(self, app: Callable[[Scope, Any, Any], Awaitable[None]]) -> None:
        self.app = app
        self.writes: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Any, send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def noting_send(message: Message) -> None:
            accepted = message["type"] == "http.response.start" and 200 <= message["status"] < 300
            if accepted and not any(marker in path for marker in READ_ONLY_WRITES):
                self.writes.append((scope["method"], path))
            await send(message)

        await self.app(scope, receive, noting_send)


@dataclass
class World:
    runtime: Runtime
    recorder: WriteRecorder
    sandbox: Sandbox
    done: int = 0


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    tmp: Path = tmp_path_factory.mktemp("retrigger")
    clock = SimulatedClock()
    sandbox = budgeted_sandbox(clock)
    recorder = WriteRecorder(sandbox.app)
    settings = sandbox_settings(sandbox.base_url, tmp)
    runtime = build_runtime(
        settings, config=load_config(), transport=httpx.ASGITransport(app=recorder), **budget_clock_kwargs(clock)
    )
    try:
        yield World(runtime, recorder, sandbox)
    finally:
        await runtime.aclose()


async def _play_scenario(world: World, stream: str, params: dict[str, Any]) -> None:
    event = BEFORE_STREAM.get((stream, params.get("mode")))
    if event is not None:
        transport = httpx.ASGITransport(app=world.sandbox.app)
        async with httpx.AsyncClient(transport=transport, base_url=world.sandbox.base_url) as http:
            await event(http, world.sandbox)


async def _run(world: World, stream: str, params: dict[str, Any]) -> None:
    with use_runtime(world.runtime):
        state = await load_flow(stream)(**demo_parameters(stream, params), return_state=True)
    assert state.is_completed(), f"{stream} {params}: {state.type.value} {state.message}"


def _ledger_rows(world: World) -> int:
    with world.runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


@pytest.mark.flow
@pytest.mark.parametrize(("index", "stream", "params"), CASES)
async def test_rerunning_a_stream_with_the_same_parameters_writes_nothing_again(
    world: World, index: int, stream: str, params: dict[str, Any]
) -> None:
    for _, earlier_stream, earlier_params in (case.values for case in CASES[world.done : index]):
        await _play_scenario(world, earlier_stream, earlier_params)
        await _run(world, earlier_stream, earlier_params)
    world.done = max(world.done, index + 1)

    await _play_scenario(world, stream, params)
    writes_first = len(world.recorder.writes)
    await _run(world, stream, params)
    writes_before, ledger_before = len(world.recorder.writes), _ledger_rows(world)
    if stream in WRITING_STREAMS:
        assert writes_before > writes_first, f"{stream} {params} found nothing to do: the rerun would prove nothing"
    await _run(world, stream, params)

    assert world.recorder.writes[writes_before:] == []
    assert _ledger_rows(world) == ledger_before


@pytest.mark.flow
async def test_no_artifact_of_any_stream_carries_customer_contact_data(world: World) -> None:
    for _, stream, params in (case.values for case in CASES[world.done :]):
        await _play_scenario(world, stream, params)
        await _run(world, stream, params)
    world.done = len(CASES)
    customers = world.sandbox.world.orders
    contact = {o.email for o in customers} | {o.street for o in customers} | {o.zip for o in customers if o.zip}
    published = list(world.runtime.artifacts_dir.glob("*"))
    assert published, "the streams published no artifact"
    leaks = [(path.name, value) for path in published for value in contact if value in path.read_text()]
    assert leaks == []
