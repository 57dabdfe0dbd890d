"""Rows older versions stored under a dashed stream name (`offer-sync`) read under the one `Stream` spelling."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select

from bridge.streams import Stream
from connectors.state import (
    ExceptionCase,
    QuarantineRecord,
    StreamCursor,
    get_cursor,
    session_factory,
    unresolved_cs_cases,
    upgrade,
)
from connectors.state.db import MIGRATIONS_DIR

BEFORE = "0007_marketplace_lines"


def _downgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_dashed_stream_rows_read_under_the_stream_enum_after_upgrading(engine: Engine) -> None:
    _downgrade(engine, BEFORE)
    sessions = session_factory(engine)
    with sessions() as session:
        session.add_all(
            [
                StreamCursor(stream="offer-sync", value="2026-11-30T10:00:00+00:00"),
                ExceptionCase(stream="offer-sync", key="shop:2001", kind="feed-failed"),
                ExceptionCase(stream="offer-sync", key="stream:offer-sync", kind="records-rejected"),
                QuarantineRecord(stream="commission-reconciliation", record_key="tx-1", reason="gate"),
                # Both spellings of one case: the underscored row stays the case, the dashed one is left as it was.
                ExceptionCase(stream="commission-reconciliation", key="tx-2", kind="gap"),
                ExceptionCase(stream="commission_reconciliation", key="tx-2", kind="gap"),
            ]
        )
        session.commit()

    upgrade(engine)

    with sessions() as session:
        assert get_cursor(session, Stream.OFFER_SYNC) == "2026-11-30T10:00:00+00:00"
        cases = [case.key for case in unresolved_cs_cases(session, Stream.OFFER_SYNC)]
        assert cases == ["shop:2001", f"stream:{Stream.OFFER_SYNC}"]
        quarantined = session.scalars(select(QuarantineRecord.stream).where(QuarantineRecord.record_key == "tx-1"))
        assert list(quarantined) == [Stream.COMMISSION_RECONCILIATION]
        both = session.scalars(select(ExceptionCase.stream).where(ExceptionCase.key == "tx-2"))
        assert sorted(both) == ["commission-reconciliation", "commission_reconciliation"]


def test_downgrading_gives_the_older_bridge_its_dashed_names_back(engine: Engine) -> None:
    with session_factory(engine)() as session:
        session.add(StreamCursor(stream=Stream.OFFER_SYNC, value="cursor"))
        session.commit()

    _downgrade(engine, BEFORE)

    with session_factory(engine)() as session:
        assert get_cursor(session, "offer-sync") == "cursor"
        assert get_cursor(session, Stream.OFFER_SYNC) is None
