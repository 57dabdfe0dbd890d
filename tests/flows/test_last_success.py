"""Every completed run marks its stream's last success, so `bcmirakl status` shows it for streams without a cursor."""

from __future__ import annotations

from bcmirakl.status import collect_status
from bridge.runtime import Runtime, use_runtime
from flows.acceptance_guard import acceptance_guard
from flows.registry import STREAMS


async def test_a_completed_run_shows_as_the_streams_last_success(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        before = {s.stream: s.last_success for s in collect_status(session, STREAMS).streams}
    assert before["acceptance_guard"] is None

    with use_runtime(runtime):
        await acceptance_guard()

    with runtime.sessions() as session:
        after = {s.stream: s.last_success for s in collect_status(session, STREAMS).streams}
    assert after["acceptance_guard"] is not None
    assert after["order_routing"] is None  # untouched streams stay unknown
