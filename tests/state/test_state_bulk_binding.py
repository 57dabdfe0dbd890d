"""Bulk writes bound column by column (`execute_many`) store exactly what SQLAlchemy's own executemany stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

import connectors.state._sql as bulk
from connectors.state import (
    OfferMapping,
    OutboxItem,
    create_state_engine,
    enqueue_many,
    iter_offer_book,
    mark_done,
    session_factory,
    upgrade,
    upsert_offer_book,
    upsert_offer_book_columns,
    upsert_offer_map,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))


def _offer_rows() -> list[dict[str, Any]]:
    """Money needing quantization, an aware non-UTC timestamp, booleans, nulls, and no `owner` (a default)."""
    return [
        {
            "product_sku": f"P-{i}",
            "offer_id": 100 + i,
            "shop_id": 2000 + i % 3,
            "price": Decimal("19.99") if i % 2 else Decimal("7.123456"),
            "quantity": i % 4,
            "purchasable": bool(i % 2),
            "pushed_hash": None if i % 3 == 0 else f"h{i}",
            "mirakl_updated_at": T0.astimezone(PARIS) + timedelta(seconds=i),
        }
        for i in range(30)
    ]


def _write_and_read(engine: Engine, write: Callable[[Session], None]) -> tuple[list[tuple[Any, ...]], ...]:
    with session_factory(engine)() as session:
        write(session)
        session.commit()
        maps = session.execute(
            select(
                OfferMapping.product_sku,
                OfferMapping.owner,
                OfferMapping.offer_id,
                OfferMapping.price,
                OfferMapping.quantity,
                OfferMapping.purchasable,
                OfferMapping.pushed_hash,
                OfferMapping.mirakl_updated_at,
            ).order_by(OfferMapping.product_sku)
        ).all()
        items = session.execute(
            select(OutboxItem.idempotency_key, OutboxItem.payload, OutboxItem.status).order_by(
                OutboxItem.idempotency_key
            )
        ).all()
    return [tuple(row) for row in maps], [tuple(row) for row in items]


def _scenario(session: Session) -> None:
    upsert_offer_map(session, _offer_rows(), now=T0)
    upsert_offer_map(session, [{"product_sku": "P-1", "price": Decimal("5")}], now=T0)  # an update of one column
    enqueue_many(session, "offer_sync", "variant", [(f"k{i}", {"variant_id": i, "price": "1.50"}) for i in range(5)])
    session.flush()
    done = session.scalars(select(OutboxItem.id).where(OutboxItem.idempotency_key == "k0")).all()
    mark_done(session, done)
    # A done key is untouched by a re-enqueue (the statement's own literal, `status != 'done'`); the others change.
    enqueue_many(session, "offer_sync", "variant", [(f"k{i}", {"variant_id": i, "price": "2.00"}) for i in range(5)])


def test_bulk_writes_bound_by_column_store_what_sqlalchemy_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engines = []
    for name in ("by_column", "sqlalchemy"):
        engine = create_state_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        engines.append(engine)
    by_column = _write_and_read(engines[0], _scenario)
    monkeypatch.setattr(bulk, "_bound_columns", lambda *_: None)  # every statement through SQLAlchemy's path
    reference = _write_and_read(engines[1], _scenario)
    for engine in engines:
        engine.dispose()

    assert by_column == reference
    maps, items = by_column
    assert {row[1] for row in maps} == {"mirakl"}  # the column default
    assert maps[0][3] == Decimal("7.1235") and maps[0][7] == T0  # quantized money, the instant in UTC
    assert dict((key, payload["price"]) for key, payload, _ in items) == {
        "k0": "1.50",
        "k1": "2.00",
        "k2": "2.00",
        "k3": "2.00",
        "k4": "2.00",
    }


def test_a_value_its_column_refuses_fails_the_bulk_write_as_sqlalchemy_binding_does(session: Session) -> None:
    row = {**_offer_rows()[0], "mirakl_updated_at": datetime(2025, 3, 1, 12, 0)}  # naive: which zone?
    with pytest.raises(StatementError, match="naive datetime"):
        upsert_offer_map(session, [row])


def _book_columns() -> dict[str, list[Any]]:
    """Offers as columns: money needing quantization, an aware non-UTC timestamp, nulls, a repeated offer id."""
    ids = [*range(1, 13), 5]  # the last row of an offer id wins, as in a row-by-row upsert
    return {
        "offer_id": ids,
        "product_sku": [f"P-{i % 4}" for i in ids],
        "shop_id": [2000 + i % 3 for i in ids],
        "price": [Decimal("7.123456") if i % 2 else Decimal("19.99") for i in ids],
        "shipping": [None if i % 3 else Decimal("4.5") for i in ids],
        "quantity": [i % 5 for i in ids],
        "active": [bool(i % 2) for i in ids],
        "currency": ["USD"] * len(ids),
        "last_updated": [T0.astimezone(PARIS) + timedelta(seconds=i) for i in ids],
        "blocked_reason": [None if i % 4 else "tripped" for i in ids],
    }


@pytest.mark.parametrize("binding", ["by_column", "sqlalchemy"])
def test_offers_written_as_columns_are_stored_as_the_same_offers_written_as_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, binding: str
) -> None:
    if binding == "sqlalchemy":
        monkeypatch.setattr(bulk, "_bound_columns", lambda *_: None)
    columns = _book_columns()
    rows = [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]
    writes: dict[str, Callable[[Session], int]] = {
        "rows": lambda session: upsert_offer_book(session, rows),
        "columns": lambda session: upsert_offer_book_columns(session, columns),
    }
    stored = []
    for name, write in writes.items():
        engine = create_state_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        with session_factory(engine)() as session:
            assert write(session) == len(rows)
            session.commit()
            stored.append([tuple(row) for page in iter_offer_book(session) for row in page])
        engine.dispose()

    assert stored[0] == stored[1]
    assert len(stored[1]) == 12  # offer 5 twice: its last row won
    first = stored[1][0]
    assert (first[0], first[3], first[8]) == (1, Decimal("7.1235"), T0 + timedelta(seconds=1))


def test_offers_written_as_columns_read_back_as_given_on_either_database(session: Session) -> None:
    columns = _book_columns()

    assert upsert_offer_book_columns(session, columns) == 13
    session.commit()

    stored = {row[0]: row for page in iter_offer_book(session) for row in page}
    assert sorted(stored) == list(range(1, 13))
    assert stored[5][1:3] == ("P-1", 2002) and stored[12][9] == "tripped" and stored[1][4] is None
    assert stored[3][4] == Decimal("4.5") and stored[3][8] == T0 + timedelta(seconds=3)
