"""The PostgreSQL state store under test: a URL scoped to a schema of this test process, made fresh and dropped.

PostgreSQL tests work in a schema of their own (via `search_path`), so they never touch tables that other test
processes or suites keep in the same database. Without `BCMIRAKL_TEST_POSTGRES_URL` they skip, except under CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, make_url, text

from connectors.state import create_state_engine, upgrade

__all__ = ["PG_SCHEMA", "POSTGRES_URL_ENV", "migrated_postgres_engine", "postgres_schema", "postgres_url"]

POSTGRES_URL_ENV = "BCMIRAKL_TEST_POSTGRES_URL"
PG_SCHEMA = f"bcmirakl_state_test_{os.getpid()}"


def postgres_url(schema: str = PG_SCHEMA) -> str:
    """The PostgreSQL URL under test, scoped to `schema`; skips locally, fails in CI without it."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        message = f"{POSTGRES_URL_ENV} is not set; the state store must be tested on PostgreSQL"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False)


@contextmanager
def postgres_schema(schema: str = PG_SCHEMA) -> Iterator[str]:
    """A URL whose tables live in `schema`, empty when given and dropped (every table with it) afterwards."""
    admin = create_state_engine(postgres_url(schema))
    try:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        yield admin.url.render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    finally:
        admin.dispose()


def migrated_postgres_engine() -> Iterator[Engine]:
    """An engine on a fresh schema at the migrations' head (a fixture body: `yield from`)."""
    with postgres_schema() as url:
        state_engine = create_state_engine(url)
        upgrade(state_engine)
        yield state_engine
        state_engine.dispose()
