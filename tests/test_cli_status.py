"""`bcmirakl status` and CLI progress: what an operator sees, read from a seeded state store alone."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bcmirakl.cli import main
from bcmirakl.progress import ticking
from bcmirakl.status import collect_status, render_status
from bridge.streams import Stream
from connectors.state import (
    LogisticOrder,
    claim_batch,
    create_state_engine,
    enqueue_many,
    ledger_begin,
    ledger_finish,
    mark_failed,
    open_cs_case,
    quarantine_many,
    resolve_cs_case,
    session_factory,
    set_cursor,
    upgrade,
)
from tasks.progress import report_progress

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _seed(session: Session) -> None:
    set_cursor(session, Stream.OFFER_SYNC, "2026-03-02T11:50:00Z", now=NOW - timedelta(minutes=3))
    set_cursor(session, "offer_sync:full", "2026-03-02T02:00:00Z", now=NOW - timedelta(hours=10))
    set_cursor(session, "order_routing", "2026-03-02T11:58:00Z", now=NOW - timedelta(seconds=45))
    enqueue_many(session, Stream.OFFER_SYNC, "variant", [(f"v:{n}", {"variant_id": n}) for n in range(5)], now=NOW)
    claimed = claim_batch(session, Stream.OFFER_SYNC, "variant", 2, "worker-a", NOW)
    mark_failed(session, claimed[0].id, "422 variant not found", None, NOW)
    quarantine_many(
        session,
        "offer_sync",
        [{"record_key": f"sku-{n}", "reason": "price above ceiling", "payload": None} for n in range(3)]
        + [{"record_key": "sku-9", "reason": "unmapped SKU", "payload": None}],
        now=NOW,
    )
    open_cs_case(session, "acceptance_guard", "ORD-1-A", "deadline_at_risk", {"deadline": "2026-03-02T18:00:00Z"})
    open_cs_case(session, "acceptance_guard", "ORD-2-A", "deadline_at_risk", {"deadline": "2026-03-02T13:00:00Z"})
    warned = (("M-7-A", "2026-03-02T12:30:00Z", "WAITING_ACCEPTANCE"), ("M-8-A", "2026-03-02T12:10:00Z", "SHIPPING"))
    for order, deadline, state in warned:
        entry = ledger_begin(
            session,
            "prefect",
            "bcmirakl.acceptance.at-risk",
            f"{order}:acceptance",
            {"mirakl_order_id": order, "phase": "acceptance", "deadline": deadline},
        )
        ledger_finish(session, entry, "succeeded")
        session.add(LogisticOrder(mirakl_order_id=order, commercial_id=order[:-2], state=state))
    open_cs_case(session, "shipment_sync", "ORD-3-A", "unknown_carrier", {"carrier": "ZZ"})
    open_cs_case(session, "shipment_sync", "ORD-4-A", "unknown_carrier", {"carrier": "YY"})
    resolve_cs_case(session, "shipment_sync", "ORD-4-A", "unknown_carrier")
    session.commit()


@pytest.fixture
def state_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = create_state_engine(url)
    upgrade(engine)
    with session_factory(engine)() as session:
        _seed(session)
    engine.dispose()
    return url


def _collect(state_url: str):  # type: ignore[no-untyped-def]
    engine = create_state_engine(state_url)
    try:
        with session_factory(engine)() as session:
            return collect_status(session, ["offer_sync", "order_routing", "refund_mirror"], now=NOW)
    finally:
        engine.dispose()


def test_status_gives_last_success_and_lag_from_the_latest_cursor_of_each_stream(state_url: str) -> None:
    streams = {s.stream: s for s in _collect(state_url).streams}
    assert streams["offer_sync"].last_success == NOW - timedelta(minutes=3)  # newest of its two cursors
    assert streams["offer_sync"].lag == timedelta(minutes=3)
    assert streams["order_routing"].lag == timedelta(seconds=45)
    assert streams["refund_mirror"].last_success is None  # registered, no trace yet: listed with a dash
    assert set(streams) == {"offer_sync", "order_routing", "refund_mirror", "acceptance_guard", "shipment_sync"}


def test_status_counts_queue_quarantine_and_open_cases_per_stream(state_url: str) -> None:
    report = _collect(state_url)
    offers = next(s for s in report.streams if s.stream == "offer_sync")
    assert offers.queue == {"pending": 3, "in_flight": 1, "failed": 1}
    assert offers.quarantined == 4
    assert report.quarantine_by_reason == [
        ("offer_sync", "price above ceiling", 3),
        ("offer_sync", "unmapped SKU", 1),
    ]
    kinds = {(s, k): n for s, k, n, _ in report.exceptions_by_kind}
    assert kinds == {("acceptance_guard", "deadline_at_risk"): 2, ("shipment_sync", "unknown_carrier"): 1}


def test_status_lists_waiting_orders_soonest_deadline_first(state_url: str) -> None:
    deadlines = _collect(state_url).deadlines
    # M-8-A was warned about but has shipped since: no longer at risk.
    assert [(order, deadline) for _, order, _, deadline in deadlines] == [
        ("M-7-A", "2026-03-02T12:30:00Z"),
        ("ORD-2-A", "2026-03-02T13:00:00Z"),
        ("ORD-1-A", "2026-03-02T18:00:00Z"),
    ]


def test_rendered_status_is_a_plain_table_with_every_section(state_url: str) -> None:
    text = render_status(_collect(state_url))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("stream"))
    assert header.split() == [
        "stream",
        "last",
        "success",
        "lag",
        "queued",
        "stuck",
        "failed",
        "quarantined",
        "open",
        "cases",
    ]
    offer_line = next(line for line in lines if line.startswith("offer_sync "))
    assert offer_line.split()[1:] == ["2026-03-02T11:57:00+00:00", "3m", "4", "0", "1", "4", "0"]
    refund_line = next(line for line in lines if line.startswith("refund_mirror"))
    assert refund_line.split()[1:3] == ["-", "-"]
    for title in ("quarantined records by reason:", "open exception cases:", "next deadlines at risk:"):
        assert title in lines
    assert "stuck in flight (worker silent; the stream's next run takes them over):" in lines


def test_status_shows_items_stuck_in_flight_once_their_worker_is_silent(state_url: str) -> None:
    engine = create_state_engine(state_url)
    try:
        with session_factory(engine)() as session:
            fresh = collect_status(session, ["offer_sync"], now=NOW + timedelta(seconds=30))
            silent = collect_status(session, ["offer_sync"], now=NOW + timedelta(minutes=5))
    finally:
        engine.dispose()
    offers = {s.stream: s for s in fresh.streams}["offer_sync"]
    assert offers.stuck == 0 and fresh.stuck_claims == []  # worker-a claimed 30 s ago: still presumed alive
    offers = {s.stream: s for s in silent.streams}["offer_sync"]
    assert offers.stuck == 1
    [holder] = silent.stuck_claims
    assert (holder.worker, holder.items, holder.registered) == ("worker-a", 1, False)
    text = render_status(silent)
    assert "worker-a" in text.split("stuck in flight")[1]


def test_status_command_reads_the_configured_state_store(
    state_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BCMIRAKL_DATABASE_URL", state_url)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "price above ceiling" in out
    assert "ORD-2-A" in out
    assert "ORD-4-A" not in out  # resolved cases are not shown


async def test_long_runs_print_progress_while_the_body_runs_and_stop_after() -> None:
    out = io.StringIO()
    async with ticking("offer_sync", every_s=0.02, out=out):
        # Wait for three ticks however loaded the machine is, rather than for a fixed time.
        while len(out.getvalue().splitlines()) < 3:
            await asyncio.sleep(0.01)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3
    assert all(line.startswith("offer_sync: running for ") for line in lines)
    await asyncio.sleep(0.05)
    assert out.getvalue().splitlines() == lines


async def test_piped_progress_lines_say_how_far_the_long_steps_are() -> None:
    out = io.StringIO()
    async with ticking("offer_sync", every_s=0.02, out=out):
        report_progress("offer push", 40, 100)
        while "offer push" not in out.getvalue():
            await asyncio.sleep(0.01)
    assert "; offer push 40/100" in out.getvalue().splitlines()[-1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_on_a_terminal_the_long_steps_show_as_progress_bars() -> None:
    out = Terminal()
    async with ticking("commission_reconciliation", out=out):
        report_progress("TL02 days", 3, 7)
    assert "TL02 days" in out.getvalue() and "3/7" in out.getvalue()
