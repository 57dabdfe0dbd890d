"""The offer book repository: offers upsert by id, leave by id or with a full export, and read per product."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from connectors.state import (
    block_offers,
    create_state_engine,
    offer_metafields_for,
    upgrade,
    upsert_offer_metafields,
)
from tasks.offers.book import BOOK_COLUMNS, WrittenBook, block_shops, changed_skus, read_book, write_book
from tests.support.postgres import migrated_postgres_engine

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def offers(*rows: tuple[int, str, int, str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [(oid, sku, shop, Decimal(price), None, qty, True, "USD", NOW, None) for oid, sku, shop, price, qty in rows],
        columns=BOOK_COLUMNS,
    )


def session_on(tmp_path: Path) -> Session:
    engine = create_state_engine(f"sqlite:///{tmp_path / 'state.db'}")
    upgrade(engine)
    return Session(engine)


def test_book_upserts_deletes_and_reads_offers_of_given_products(tmp_path: Path) -> None:
    with session_on(tmp_path) as session:
        write_book(session, offers((1, "A", 10, "9.50", 3), (2, "A", 11, "9.00", 1), (3, "B", 10, "4.00", 2)), [])
        write_book(session, offers((1, "A", 10, "9.25", 0)), [2])
        a = read_book(session, ["A"])
        assert a[["offer_id", "price", "quantity"]].values.tolist() == [[1, Decimal("9.25"), 0]]
        assert sorted(read_book(session)["offer_id"]) == [1, 3]
        write_book(session, offers((3, "B", 10, "4.00", 2)), [], full=True)
        assert read_book(session)["offer_id"].tolist() == [3]
        block_shops(session, [10], "tripped")
        assert read_book(session)["blocked_reason"].tolist() == ["tripped"]


def test_changed_skus_ignores_offers_re_exported_unchanged(tmp_path: Path) -> None:
    with session_on(tmp_path) as session:
        write_book(session, offers((1, "A", 10, "9.50", 3), (2, "B", 10, "5.00", 1)), [])
        again = offers((1, "A", 10, "9.5", 3), (2, "B", 10, "5.00", 2), (3, "C", 11, "1.00", 1))
        assert changed_skus(session, again) == {"B", "C"}


def test_offer_metafield_ids_and_hashes_are_recorded_per_variant(tmp_path: Path) -> None:
    with session_on(tmp_path) as session:
        upsert_offer_metafields(
            session, [{"bc_variant_id": 7, "product_sku": "A", "metafield_id": 70, "pushed_hash": "h1"}]
        )
        upsert_offer_metafields(session, [{"bc_variant_id": 7, "product_sku": "A", "pushed_hash": "h2"}])
        state = offer_metafields_for(session, [7, 8])
        assert list(state) == [7]
        assert state[7][:2] == (70, "h2")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Session]:
    """A fresh state store on SQLite, and on PostgreSQL when `BCMIRAKL_TEST_POSTGRES_URL` is set."""
    if request.param == "postgres":
        for engine in migrated_postgres_engine():
            with Session(engine) as session:
                yield session
        return
    with session_on(tmp_path) as session:
        yield session


def test_a_full_writes_book_in_hand_is_what_reading_it_back_gives(store: Session) -> None:
    """The full run decides from `WrittenBook` instead of `read_book`: the same rows, values and column types,
    whatever the engine does to money (four places; a float on SQLite) and to time zones."""
    paris = timezone(timedelta(hours=1))
    stale = offers((9, "A", 10, "1.00", 1), (8, "Z", 10, "1.00", 1))  # 8 leaves with the full export
    write_book(store, stale, [])
    export = pd.DataFrame(
        [
            (1, "A", 10, Decimal("9.123456"), Decimal("0.00005"), 3, True, "USD", NOW, None),
            (
                2,
                "A",
                11,
                Decimal("99999999999999.9999"),
                None,
                0,
                False,
                "EUR",
                datetime(2026, 1, 1, 5, tzinfo=paris),
                None,
            ),
            (3, "B", None, None, Decimal("4.5"), None, None, None, None, "price drop"),
            (4, "B", 12, Decimal("10"), Decimal("-1.23456"), 7, True, "USD", NOW, None),
            (5, "C", 12, Decimal("0.1"), None, 2, True, "USD", NOW, None),
            (9, "A", 13, Decimal("2.50"), None, 1, True, "USD", NOW, None),
            (5, "C", 12, Decimal("0.2"), None, 2, True, "USD", NOW, None),  # the last row of an offer id wins
        ],
        columns=BOOK_COLUMNS,
    )
    write_book(store, export, [9], full=True)
    written = WrittenBook(store, export)
    for shops, offer_ids in (([12], []), ([], [2, 77])):
        block_shops(store, shops, "tripped")
        written.block_shops(shops, "tripped")
        block_offers(store, offer_ids, "rejected")
        written.block_offers(offer_ids, "rejected")
    for skus in (["A", "B", "C", "Z"], ["B"], ["none"], ["C", "A", "C"], []):
        stored = read_book(store, skus).sort_values("offer_id", ignore_index=True)
        in_hand = written.of_products(skus).sort_values("offer_id", ignore_index=True)
        assert stored.dtypes.equals(in_hand.dtypes)
        assert repr(stored.to_dict("records")) == repr(in_hand.to_dict("records"))
    assert written.of_products(["A"])["offer_id"].tolist() == [1, 2, 9]
