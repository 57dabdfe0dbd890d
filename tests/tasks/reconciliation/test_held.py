"""The lines whose refund the bridge held for finance are read from the refund mirror's open quarantine and cases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bridge.streams import Stream
from connectors.state import (
    create_state_engine,
    open_cs_case,
    quarantine,
    resolve_cs_case,
    resolve_quarantine,
    session_factory,
    upgrade,
)
from tasks.reconciliation.held import held_refund_lines


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    with session_factory(engine)() as state_session:
        yield state_session


def test_an_open_or28_quarantine_and_an_open_case_each_hold_their_line(session: Session) -> None:
    quarantine(session, Stream.REFUND_MIRROR, "or28:3:100-200002", "refund exceeds amount paid", {"amount": "27.79"})
    open_cs_case(session, Stream.REFUND_MIRROR, "or28:4:101-200005", "or28-recovery-ambiguous", None)
    open_cs_case(session, Stream.REFUND_MIRROR, "k", "other-kind", {"mirakl_order_line_id": "102-200007"})

    assert held_refund_lines(session) == {
        "100-200002": "quarantine or28:3:100-200002 (refund exceeds amount paid)",
        "101-200005": "case or28-recovery-ambiguous or28:4:101-200005",
        "102-200007": "case other-kind k",
    }


def test_resolved_records_other_streams_and_cases_naming_no_line_hold_nothing(session: Session) -> None:
    record = quarantine(session, Stream.REFUND_MIRROR, "or28:3:100-200002", "refund exceeds amount paid")
    resolve_quarantine(session, [record.id])
    open_cs_case(session, Stream.REFUND_MIRROR, "or28:5:103-200009", "mirakl-refund-refused", None)
    resolve_cs_case(session, Stream.REFUND_MIRROR, "or28:5:103-200009", "mirakl-refund-refused")
    quarantine(session, Stream.OFFER_SYNC, "or28:6:104-200011", "not a refund")
    open_cs_case(session, Stream.REFUND_MIRROR, "mirakl-refund:1001", "refund-not-paid", {"order_id": "103-A"})

    assert held_refund_lines(session) == {}
