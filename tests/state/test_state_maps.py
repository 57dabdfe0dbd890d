"""The offer and order maps: bulk upserts that update in place, and the id lookups every stream relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from connectors.state import (
    OfferMapping,
    get_logistic_order,
    get_offer_map,
    get_order_line_by_mirakl_line,
    get_order_route,
    get_order_route_by_commercial_id,
    iter_offer_map,
    logistic_orders_for,
    order_lines_for,
    upsert_logistic_orders,
    upsert_offer_map,
    upsert_order_lines,
    upsert_order_routes,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BULK_ROWS = 20_000
# Bulk upserts go as chunked executemany (insertmanyvalues pages): far fewer statements than rows.
BULK_ROWS_PER_STATEMENT = 500


def _offer(i: int, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "product_sku": f"P-{i}",
        "bc_product_id": 1000 + i,
        "bc_variant_id": 5000 + i,
        "bc_sku": f"BC-{i}",
        "owner": "mirakl",
        "offer_id": 9_000_000_000 + i,
        "shop_id": 2001,
        "price": Decimal("19.99"),
        "quantity": 4,
        "purchasable": True,
        "pushed_hash": f"h{i}",
        "mirakl_updated_at": T0,
    }
    return row | changes


def test_offer_map_bulk_upsert_inserts_then_updates_existing_rows(session: Session) -> None:
    assert upsert_offer_map(session, [_offer(i) for i in range(3)]) == 3
    session.commit()
    before = get_offer_map(session, ["P-0", "P-1", "P-2", "P-unknown"])
    assert sorted(before) == ["P-0", "P-1", "P-2"]
    ids = {sku: row.id for sku, row in before.items()}

    upsert_offer_map(
        session,
        [
            _offer(1, price=Decimal("17.50"), quantity=0, purchasable=False, pushed_hash="h1b"),
            {"product_sku": "P-2", "bc_acknowledged_at": T0},
            _offer(3, owner="native", offer_id=None, shop_id=None),
        ],
    )
    session.commit()
    after = get_offer_map(session, ["P-0", "P-1", "P-2", "P-3"])
    assert {sku: row.id for sku, row in after.items() if sku in ids} == ids
    assert (after["P-1"].price, after["P-1"].quantity, after["P-1"].purchasable, after["P-1"].pushed_hash) == (
        Decimal("17.5000"),
        0,
        False,
        "h1b",
    )
    # A partial row updates only the columns it carries.
    assert (after["P-2"].bc_acknowledged_at, after["P-2"].price, after["P-2"].bc_sku) == (
        T0,
        Decimal("19.9900"),
        "BC-2",
    )
    assert after["P-0"].offer_id == 9_000_000_000
    assert session.scalar(select(func.count()).select_from(OfferMapping)) == 4


def test_iter_offer_map_pages_through_one_owner(session: Session) -> None:
    upsert_offer_map(session, [_offer(i, owner="native" if i % 3 == 0 else "mirakl") for i in range(10)])
    session.commit()
    pages = list(iter_offer_map(session, owner="mirakl", page_size=4))
    assert [len(page) for page in pages] == [4, 2]
    assert [row.product_sku for page in pages for row in page] == ["P-1", "P-2", "P-4", "P-5", "P-7", "P-8"]
    assert sum(len(page) for page in iter_offer_map(session)) == 10


def test_offer_map_bulk_upsert_sends_batches_not_one_statement_per_row(session: Session) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        upsert_offer_map(session, [_offer(i) for i in range(BULK_ROWS)])
        upsert_offer_map(session, [_offer(i, price=Decimal("9.99")) for i in range(BULK_ROWS)])
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # Speed is the benchmarks' business; here the behaviour behind it: rows travel in batches of hundreds.
    assert len(statements) <= 2 * BULK_ROWS // BULK_ROWS_PER_STATEMENT
    sample = get_offer_map(session, [f"P-{i}" for i in range(0, BULK_ROWS, 997)])
    assert {row.price for row in sample.values()} == {Decimal("9.9900")}
    assert session.scalar(select(func.count()).select_from(OfferMapping)) == BULK_ROWS


def test_order_map_lookups_by_every_id(session: Session) -> None:
    upsert_order_routes(
        session, [{"bc_order_id": 100, "status": "received"}, {"bc_order_id": 101, "status": "received"}]
    )
    upsert_order_routes(session, [{"bc_order_id": 100, "status": "routed", "commercial_id": "100", "routed_at": T0}])
    upsert_logistic_orders(
        session,
        [
            {"mirakl_order_id": "100-A", "commercial_id": "100", "bc_order_id": 100, "shop_id": 2001},
            {"mirakl_order_id": "100-B", "commercial_id": "100", "bc_order_id": 100, "shop_id": 2002},
        ],
    )
    # Rows without commercial_id cannot be inserted: they update a known order and ignore an unknown one.
    upsert_logistic_orders(
        session,
        [
            {"mirakl_order_id": "100-A", "state": "WAITING_ACCEPTANCE"},
            {"mirakl_order_id": "999-A", "state": "SHIPPED"},
        ],
    )
    upsert_order_lines(
        session,
        [
            {
                "bc_order_id": 100,
                "bc_order_product_id": 1,
                "mirakl_order_id": "100-A",
                "mirakl_order_line_id": "100-A-1",
                "offer_id": 77,
                "shop_id": 2001,
                "quantity": 2,
                "amount": Decimal("39.98"),
            },
            {"bc_order_id": 100, "bc_order_product_id": 2, "quantity": 1, "amount": Decimal("5.00")},
        ],
    )
    upsert_order_lines(
        session,
        [{"bc_order_id": 100, "bc_order_product_id": 2, "mirakl_order_id": "100-B", "mirakl_order_line_id": "100-B-1"}],
    )
    session.commit()

    route = get_order_route(session, 100)
    assert route is not None
    assert (route.status, route.commercial_id, route.routed_at, route.native_sent) == ("routed", "100", T0, False)
    assert get_order_route_by_commercial_id(session, "100") is not None
    assert get_order_route_by_commercial_id(session, "missing") is None
    assert get_order_route(session, 101).commercial_id is None  # type: ignore[union-attr]

    logistic = get_logistic_order(session, "100-A")
    assert logistic is not None
    assert (logistic.state, logistic.shop_id, logistic.bc_order_id) == ("WAITING_ACCEPTANCE", 2001, 100)
    assert get_logistic_order(session, "999-A") is None
    assert [o.mirakl_order_id for o in logistic_orders_for(session, bc_order_id=100)] == ["100-A", "100-B"]
    assert [o.shop_id for o in logistic_orders_for(session, commercial_id="100")] == [2001, 2002]

    lines = order_lines_for(session, bc_order_id=100)
    assert [(line.bc_order_product_id, line.mirakl_order_line_id, line.quantity, line.amount) for line in lines] == [
        (1, "100-A-1", 2, Decimal("39.9800")),
        (2, "100-B-1", 1, Decimal("5.0000")),
    ]
    assert [line.bc_order_product_id for line in order_lines_for(session, mirakl_order_id="100-B")] == [2]
    by_line = get_order_line_by_mirakl_line(session, "100-A-1")
    assert by_line is not None
    assert (by_line.bc_order_id, by_line.bc_order_product_id, by_line.offer_id) == (100, 1, 77)


def test_order_lookups_need_an_id(session: Session) -> None:
    with pytest.raises(ValueError):
        logistic_orders_for(session)
    with pytest.raises(ValueError):
        order_lines_for(session)
