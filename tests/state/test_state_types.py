"""Timestamps come back aware and in UTC, and money comes back as exact Decimal, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from connectors.state import get_offer_map, get_order_route, upsert_offer_map, upsert_order_routes
from connectors.state.types import UtcDateTime

PARIS_WINTER = timezone(timedelta(hours=1))


def test_timestamps_are_stored_in_utc_and_read_back_aware(session: Session) -> None:
    local = datetime(2025, 1, 15, 9, 30, tzinfo=PARIS_WINTER)
    upsert_order_routes(session, [{"bc_order_id": 1, "status": "received", "routed_at": local}])
    session.commit()
    route = get_order_route(session, 1)
    assert route is not None
    assert route.routed_at == datetime(2025, 1, 15, 8, 30, tzinfo=UTC)
    assert route.routed_at is not None and route.routed_at.tzinfo == UTC
    assert route.created_at.tzinfo == UTC


def test_naive_timestamps_are_refused(session: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        upsert_order_routes(session, [{"bc_order_id": 1, "status": "x", "routed_at": datetime(2025, 1, 1)}])


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        (Decimal("0.1"), Decimal("0.1000")),
        (Decimal("1234567.8912"), Decimal("1234567.8912")),
        (Decimal("19.99"), Decimal("19.9900")),
        (Decimal("-3.5"), Decimal("-3.5000")),
    ],
)
def test_money_round_trips_as_exact_decimal(session: Session, stored: Decimal, read: Decimal) -> None:
    upsert_offer_map(session, [{"product_sku": "P-1", "price": stored}])
    session.commit()
    price = get_offer_map(session, ["P-1"])["P-1"].price
    assert isinstance(price, Decimal)
    assert price == read
    assert str(price) == str(read)


def test_money_refuses_floats(session: Session) -> None:
    with pytest.raises(StatementError, match="Decimal"):
        upsert_offer_map(session, [{"product_sku": "P-1", "price": 19.99}])


@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 1, 15, 9, 30, tzinfo=PARIS_WINTER),
        datetime(2026, 12, 1, 10, 43, 29, 888207, tzinfo=UTC),
        datetime(999, 1, 1, 0, 0, 0, 5, tzinfo=UTC),
    ],
)
def test_sqlite_timestamps_are_written_as_sqlite_datetime_wrote_them(value: datetime) -> None:
    dialect = sqlite.dialect()
    written = UtcDateTime().bind_processor(dialect)
    before = sqlite.DATETIME().bind_processor(dialect)
    assert written is not None and before is not None
    assert written(value) == before(value.astimezone(UTC))


@pytest.mark.parametrize("text", ["2026-12-01 10:43:29.888207", "2026-12-01 10:43:29", "2026-12-01 00:00:00.000000"])
def test_sqlite_timestamps_written_before_read_back_the_same(text: str) -> None:
    dialect = sqlite.dialect()
    read = UtcDateTime().result_processor(dialect, None)
    before = sqlite.DATETIME().result_processor(dialect, None)
    assert read is not None and before is not None
    assert read(text) == before(text).replace(tzinfo=UTC)
    assert read(text).tzinfo == UTC
