"""Incremental reads restart from the saved cursor, or an operator's replay point, minus the overlap."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from connectors.state import create_state_engine, session_factory, set_cursor, upgrade
from tasks.cursors import resume_from

SAVED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    return session_factory(engine)


def test_a_first_read_starts_from_the_beginning(sessions: sessionmaker[Session]) -> None:
    assert resume_from(sessions, "refund_mirror.bc", 60) is None


def test_the_saved_cursor_is_moved_back_by_the_overlap(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        set_cursor(session, "refund_mirror.bc", SAVED.isoformat())
        session.commit()
    assert resume_from(sessions, "refund_mirror.bc", 60) == datetime(2026, 11, 26, 11, 59, tzinfo=UTC)


def test_an_operator_replay_point_wins_over_the_cursor(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        set_cursor(session, "refund_mirror.bc", SAVED.isoformat())
        session.commit()
    replay = datetime(2026, 11, 20, tzinfo=UTC)
    assert resume_from(sessions, "refund_mirror.bc", 0, since=replay) == replay
