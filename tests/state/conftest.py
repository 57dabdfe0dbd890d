"""Fixtures for the state store: every test runs on SQLite and on PostgreSQL, each from a fresh schema.

PostgreSQL tests work in a schema of their own (via `search_path`), so they never touch tables that other
test suites keep in the same database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from connectors.state import create_state_engine, session_factory, upgrade

POSTGRES_URL_ENV = "BCMIRAKL_TEST_POSTGRES_URL"
PG_SCHEMA = f"bcmirakl_state_test_{os.getpid()}"


def postgres_url() -> str:
    """The PostgreSQL URL under test, scoped to this run's schema; skips locally, fails in CI without it."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        message = f"{POSTGRES_URL_ENV} is not set; the state store must be tested on PostgreSQL"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
    return scoped.render_as_string(hide_password=False)


def fresh_postgres_schema(engine: Engine) -> None:
    # Dropping the whole schema drops every table, alembic_version included.
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))


def migrated_postgres_engine() -> Iterator[Engine]:
    state_engine = create_state_engine(postgres_url())
    fresh_postgres_schema(state_engine)
    upgrade(state_engine)
    yield state_engine
    with state_engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
    state_engine.dispose()


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
