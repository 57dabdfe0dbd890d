"""The offer book repository: offers upsert by id, leave by id or with a full export, and read per product."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from connectors.state import create_state_engine, offer_metafields_for, upgrade, upsert_offer_metafields
from tasks.offers.book import BOOK_COLUMNS, block_shops, changed_skus, read_book, write_book

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
