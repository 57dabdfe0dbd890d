"""Fixtures for the state store: every test runs on SQLite and on PostgreSQL, each from a fresh schema.

The PostgreSQL side (its own schema, skipped without a URL outside CI) is `tests.support.postgres`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.state import create_state_engine, session_factory, upgrade
from tests.support.postgres import migrated_postgres_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgres":
        yield from migrated_postgres_engine()
        return
    state_engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(state_engine)
    yield state_engine
    state_engine.dispose()


@pytest.fixture
def postgres_engine() -> Iterator[Engine]:
    """For behaviour that exists only on PostgreSQL, such as row locks shared by several workers."""
    yield from migrated_postgres_engine()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as state_session:
        yield state_session
