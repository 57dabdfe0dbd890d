"""Alembic environment: runs the migrations on the connection handed over by `connectors.state.db.upgrade`.

There is no alembic.ini; the programmatic config passes either a live connection (the normal path) or a
`sqlalchemy.url` (the `alembic` command line, for operators who prefer it).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from connectors.state.db import create_state_engine
from connectors.state.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_state_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported; run connectors.state.db.upgrade")
_run_online()
