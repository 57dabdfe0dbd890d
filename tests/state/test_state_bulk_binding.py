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


@pytest.mark.parametrize(
    ("column", "values"),
    [
        (OutboxItem.id, [3, 1, 99, 3]),
        (OutboxItem.idempotency_key, ["k-2", "k-é", "missing", "k-'quoted'"]),
        (OutboxItem.id, []),
    ],
)
def test_among_selects_what_an_in_list_selects_on_either_database(
    session: Session, column: Any, values: list[Any]
) -> None:
    keys = ["k-1", "k-2", "k-é", "k-'quoted'", "k-5"]
    enqueue_many(session, "offer_sync", "variant", [(key, {"n": n}) for n, key in enumerate(keys)])
    session.commit()

    def selected(condition: Any) -> list[int]:
        return sorted(session.scalars(select(OutboxItem.id).where(condition)))

    assert selected(bulk.among(session, column, values)) == selected(column.in_(values))
    if values:
        assert selected(bulk.among(session, column, values))  # the case selects some rows, not none on both sides


def test_stored_json_reads_back_the_values_written_with_times_in_isoformat(session: Session) -> None:
    payload = {"sku": "Ré-1", "price": Decimal("19.90"), "at": T0, "paris": T0.astimezone(PARIS), "n": [1, 2.5]}
    enqueue_many(session, "offer_sync", "variant", [("k", payload)])
    session.commit()
    session.expire_all()

    stored = session.scalars(select(OutboxItem.payload)).one()
    assert stored == {
        "sku": "Ré-1",
        "price": "19.90",
        "at": T0.isoformat(),  # "+00:00", as json.dumps wrote it, not the serialiser's "Z"
        "paris": T0.astimezone(PARIS).isoformat(),
        "n": [1, 2.5],
    }


def test_a_payload_json_cannot_encode_is_refused_with_a_type_error(session: Session) -> None:
    # SQLite's column binding wraps the encoder's TypeError as SQLAlchemy's binding does; psycopg raises it as is.
    with pytest.raises((StatementError, TypeError), match="not JSON serializable"):
        enqueue_many(session, "offer_sync", "variant", [("k", {"bad": object()})])
        session.flush()


def test_an_outbox_item_the_session_holds_reads_settled_after_mark_done(session: Session) -> None:
    enqueue_many(session, "offer_sync", "variant", [("k-1", {"n": 1}), ("k-2", {"n": 2})])
    session.commit()
    held = session.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()

    assert mark_done(session, [held[0].id]) == 1

    assert (held[0].status, held[1].status) == ("done", "pending")
    session.commit()
    session.expire_all()
    assert session.get(OutboxItem, held[0].id).status == "done"
