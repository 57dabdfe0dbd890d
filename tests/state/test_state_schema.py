"""The migrations build exactly the tables the models describe, on both engines, from any working directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from connectors.state import (
    Base,
    create_state_engine,
    get_cursor,
    is_postgres,
    last_successes,
    session_factory,
    upgrade,
)

HEAD_REVISION = "0012_ship"
EXPECTED_TABLES = {
    "alembic_version",
    "call_budget",
    "call_budget_use",
    "carrier_list",
    "carrier_override",
    "exception_case",
    "ledger",
    "logistic_order",
    "offer_book",
    "offer_map",
    "offer_metafield",
    "order_line_map",
    "order_route",
    "outbox",
    "outbox_worker",
    "quarantine",
    "reconciliation_line",
    "reconciliation_run",
    "run_record",
    "stream_cursor",
    "stream_run",
}


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert set(inspect(connection).get_table_names()) == EXPECTED_TABLES
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == HEAD_REVISION


def test_upgrading_an_up_to_date_schema_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_is_postgres_tells_the_engines_apart(engine: Engine) -> None:
    assert is_postgres(engine) is (engine.dialect.name == "postgresql")


def test_default_store_is_a_sqlite_file_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    upgrade()
    database = tmp_path / ".bcmirakl" / "state.db"
    assert database.is_file()
    engine = create_state_engine()
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == HEAD_REVISION
    finally:
        engine.dispose()


def test_sqlite_engine_creates_its_folder_and_uses_wal_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'state.db'}")
    try:
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
            assert connection.scalar(text("PRAGMA busy_timeout")) > 0
        assert (tmp_path / "deep" / "er").is_dir()
    finally:
        engine.dispose()


def test_the_sh21_list_kept_under_a_cursor_moves_to_its_own_table_and_back(tmp_path: Path) -> None:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine, "0007_marketplace_lines")
    cached = '{"carriers": {"UPS": "UPS"}, "fetched_at": "2026-11-30T06:00:00+00:00"}'
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO stream_cursor (stream, value, updated_at) VALUES ('shipment_sync.sh21', :v, :t)"),
            {"v": cached, "t": "2026-11-30 06:00:00"},
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM stream_cursor")).scalar() == 0
        moved = connection.execute(text("SELECT source, carriers, fetched_at FROM carrier_list")).one()
    assert moved[0] == "SH21" and '"UPS"' in moved[1] and str(moved[2]).startswith("2026-11-30 06:00:00")
    engine.dispose()


def test_run_marks_leave_the_cursor_table_with_their_time_and_read_positions_stay(tmp_path: Path) -> None:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        upgrade(engine, "0007_marketplace_lines")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO stream_cursor (stream, value, updated_at) VALUES (:s, :v, :t)"),
                [
                    {"s": "drift_monitor.last_success", "v": "x", "t": "2026-11-30 10:00:00.000000"},
                    {"s": "order_routing", "v": "2026-11-30T09:00:00+00:00", "t": "2026-11-30 09:00:00.000000"},
                ],
            )
        upgrade(engine)
        with session_factory(engine)() as session:
            assert last_successes(session) == {"drift_monitor": datetime(2026, 11, 30, 10, 0, tzinfo=UTC)}
            assert get_cursor(session, "drift_monitor.last_success") is None
            assert get_cursor(session, "order_routing") == "2026-11-30T09:00:00+00:00"
    finally:
        engine.dispose()
