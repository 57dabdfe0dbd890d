"""Which BigCommerce shipments a Mirakl shipment needs, and which logistic orders BigCommerce has shipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.bigcommerce import OrderProduct, Shipment
from connectors.mirakl import Order as MiraklOrder
from connectors.state import OrderLineMapping
from tasks.shipments.carriers import load_carrier_file
from tasks.shipments.deadlines import overdue_rows
from tasks.shipments.inbound import plan_bc_shipments
from tasks.shipments.outbound import logistic_orders_shipped


def product(pid: int, quantity: int = 1, shipped: int = 0, address: int = 900) -> OrderProduct:
    money = Decimal("10")
    return OrderProduct(
        id=pid,
        order_id=1,
        quantity=quantity,
        quantity_shipped=shipped,
        order_address_id=address,
        price_ex_tax=money,
        price_inc_tax=money,
        total_ex_tax=money,
        total_inc_tax=money,
    )


def mirakl_order(lines: list[dict[str, Any]], **fields: Any) -> MiraklOrder:
    return MiraklOrder.model_validate({"order_id": "1-A", "shop_id": 2000, "order_lines": lines, **fields})


def mapping(pid: int, line_id: str) -> OrderLineMapping:
    return OrderLineMapping(
        bc_order_id=1, bc_order_product_id=pid, mirakl_order_id="1-A", mirakl_order_line_id=line_id, quantity=1
    )


def test_a_shipped_logistic_order_ships_only_its_own_unshipped_products_with_the_mapped_carrier() -> None:
    order = mirakl_order(
        [
            {"order_line_id": "1-A-1", "quantity": 2},
            {"order_line_id": "1-A-2", "quantity": 1, "order_line_state": "REFUSED"},
        ],
        shipping_carrier_code="UPS",
        shipping_tracking="1Z9",
    )
    products = [product(11, quantity=2, shipped=1), product(12), product(13)]  # 13 belongs to another seller
    [plan] = plan_bc_shipments(order, 1, [mapping(11, "1-A-1"), mapping(12, "1-A-2")], products, load_carrier_file())
    assert plan.key == "bc-shipment:1-A:1Z9"
    assert [(i.order_product_id, i.quantity) for i in plan.shipment.items] == [(11, 1)]
    assert (plan.shipment.shipping_provider, plan.shipment.tracking_carrier, plan.shipment.tracking_link) == (
        "ups",
        "ups",
        None,
    )


def test_units_cancelled_before_the_debit_are_not_shown_shipped() -> None:
    # OR11 keeps the line's quantity as ordered after a partial OR30; the cancellation carries its units.
    order = mirakl_order(
        [{"order_line_id": "1-A-1", "quantity": 2, "cancelations": [{"id": "c1", "quantity": 1, "amount": "10"}]}],
        shipping_carrier_code="UPS",
        shipping_tracking="1Z9",
    )
    [plan] = plan_bc_shipments(order, 1, [mapping(11, "1-A-1")], [product(11, quantity=2)], load_carrier_file())
    assert [(i.order_product_id, i.quantity) for i in plan.shipment.items] == [(11, 1)]


def test_a_carrier_bigcommerce_does_not_know_gets_a_custom_tracking_link() -> None:
    order = mirakl_order(
        [{"order_line_id": "1-A-1", "quantity": 1}],
        shipping_carrier_code="LOCALPOST",
        shipping_tracking="LP1",
        shipping_tracking_url="https://lp.example/LP1",
    )
    [plan] = plan_bc_shipments(order, 1, [mapping(11, "1-A-1")], [product(11)], load_carrier_file())
    assert (plan.shipment.shipping_provider, plan.shipment.tracking_carrier) == ("", "")
    assert plan.shipment.tracking_link == "https://lp.example/LP1"


def test_products_already_shipped_give_a_plan_without_shipment() -> None:
    order = mirakl_order([{"order_line_id": "1-A-1", "quantity": 1}], shipping_tracking="T")
    [plan] = plan_bc_shipments(order, 1, [mapping(11, "1-A-1")], [product(11, shipped=1)], load_carrier_file())
    assert plan.shipment is None and plan.product_ids == {11}


def test_a_logistic_order_counts_as_shipped_only_when_all_its_products_are() -> None:
    lines = {11: "1-A", 12: "1-A", 13: "1-B"}
    products = [product(11, shipped=1), product(12, quantity=2, shipped=1), product(13, shipped=1)]
    shipments = [
        Shipment(
            id=5,
            order_id=1,
            order_address_id=900,
            items=[{"order_product_id": 11, "quantity": 1}, {"order_product_id": 12, "quantity": 1}],
        ),
        Shipment(id=6, order_id=1, order_address_id=900, items=[{"order_product_id": 13, "quantity": 1}]),
    ]
    assert {order: s.id for order, s in logistic_orders_shipped(lines, products, shipments).items()} == {"1-B": 6}


def test_overdue_lists_shipping_orders_past_their_deadline_most_late_first() -> None:
    now = datetime(2026, 11, 5, tzinfo=UTC)
    orders = [
        mirakl_order([], order_id="A", order_state="SHIPPING", shipping_deadline=now - timedelta(hours=2)),
        mirakl_order([], order_id="B", order_state="SHIPPING", shipping_deadline=now - timedelta(hours=30)),
        mirakl_order([], order_id="C", order_state="SHIPPING", shipping_deadline=now + timedelta(hours=1)),
        mirakl_order([], order_id="D", order_state="SHIPPED", shipping_deadline=now - timedelta(hours=9)),
    ]
    assert [(r["mirakl_order_id"], r["hours_late"]) for r in overdue_rows(orders, now)] == [
        ("B", Decimal("30.0")),
        ("A", Decimal("2.0")),
    ]
