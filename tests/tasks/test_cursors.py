"""A declared cursor starts a read from the saved position, or an operator's replay point, less the overlap."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.state import create_state_engine, get_cursor, session_factory, upgrade
from tasks.cursors import Cursor

SAVED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
REFUNDS = Cursor.with_overlap("refund_mirror.bc", 60)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    sessions: sessionmaker[Session] = session_factory(engine)
    with sessions() as session:
        yield session


def _saved_at(session: Session, cursor: Cursor, position: datetime) -> None:
    cursor.advance(session, position)
    session.commit()


def test_a_first_read_starts_from_the_beginning(session: Session) -> None:
    assert REFUNDS.start(session) is None
    assert REFUNDS.saved(session) is None


def test_a_first_read_starts_at_the_declared_initial_value_without_overlap(session: Session) -> None:
    initial = datetime(2026, 1, 1, tzinfo=UTC)
    assert Cursor("refund_mirror.bc", timedelta(minutes=5), initial).start(session) == initial


def test_the_saved_cursor_is_moved_back_by_the_overlap(session: Session) -> None:
    _saved_at(session, REFUNDS, SAVED)
    assert REFUNDS.start(session) == datetime(2026, 11, 26, 11, 59, tzinfo=UTC)


def test_an_operator_replay_point_wins_over_the_cursor_and_keeps_the_overlap(session: Session) -> None:
    _saved_at(session, REFUNDS, SAVED)
    replay = datetime(2026, 11, 20, tzinfo=UTC)
    assert REFUNDS.start(session, since=replay) == replay - timedelta(seconds=60)


def test_advance_saves_the_position_in_utc_and_the_next_start_follows_it(session: Session) -> None:
    paris = timezone(timedelta(hours=1))
    saved = REFUNDS.advance(session, datetime(2026, 11, 26, 13, 0, tzinfo=paris))
    session.commit()
    assert saved == "2026-11-26T12:00:00+00:00"
    assert get_cursor(session, "refund_mirror.bc") == saved
    assert REFUNDS.saved(session) == SAVED


def test_advance_is_part_of_the_callers_transaction(session: Session) -> None:
    REFUNDS.advance(session, SAVED)
    session.rollback()  # the page's effects were not recorded: the cursor must not have moved either
    assert REFUNDS.saved(session) is None


def test_cursors_of_different_names_move_independently(session: Session) -> None:
    shipments = Cursor.with_overlap("shipment_sync.bigcommerce", 300)
    _saved_at(session, REFUNDS, SAVED)
    assert shipments.start(session) is None
