"""Lines and addresses are taken from an order's embedded consignments only when they provably hold the whole order."""

from __future__ import annotations

from typing import Any

from connectors.bigcommerce.consignments import embedded_lines_and_addresses
from connectors.bigcommerce.models import Order


def line(line_id: int, address_id: int | None = 7, quantity: int = 1) -> dict[str, Any]:
    money = {k: "10.0000" for k in ("price_ex_tax", "price_inc_tax", "total_ex_tax", "total_inc_tax")}
    return {"id": line_id, "order_id": 1, "order_address_id": address_id, "quantity": quantity, **money}


def order(consignments: Any, items_total: int | None = 2) -> Order:
    body = {"id": 1, "status_id": 11, "total_ex_tax": "20", "total_inc_tax": "21.6", "items_total": items_total}
    return Order.model_validate({**body, "consignments": consignments})


def shipping(*lines: dict[str, Any], consignment_id: int = 99) -> dict[str, Any]:
    return {
        "id": consignment_id,
        "country_iso2": "US",
        "shipping_method": "Flat Rate",
        "cost_ex_tax": 5.1,
        "cost_inc_tax": 6.2,
        "line_items": list(lines),
    }


def structure(*shipments: dict[str, Any], **others: Any) -> dict[str, Any]:
    return {"pickups": [], "shipping": list(shipments), "downloads": [], "email": {"gift_certificates": []}, **others}


def test_whole_consignments_give_every_line_and_the_address_id_the_lines_name() -> None:
    found = embedded_lines_and_addresses(order(structure(shipping(line(12), line(11)))))
    assert found is not None
    products, addresses = found
    assert [p.id for p in products] == [11, 12]
    # the consignment's own id (99) is not assumed to be the shipping address id: the lines say 7
    assert [(a.id, a.order_id, a.shipping_method, a.country_iso2) for a in addresses] == [(7, 1, "Flat Rate", "US")]
    assert str(addresses[0].cost_inc_tax) == "6.2"


def test_anything_short_of_the_whole_order_means_reading_it_one_order_at_a_time() -> None:
    links = [{"url": "https://x/orders/1/products/11", "resource": "/orders/1/products/11"}]
    pickup = {"id": 3, "line_items": [line(13)]}
    cases = {
        "no include": None,
        "consignments link": {"url": "https://x/orders/1/consignments", "resource": "/orders/1/consignments"},
        "lines as links": structure({**shipping(), "line_items": links}),
        "a pickup": structure(shipping(line(11), line(12)), pickups=[pickup]),
        "a gift certificate": structure(shipping(line(11), line(12)), email={"gift_certificates": [{"x": 1}]}),
        "lines on two addresses": structure(shipping(line(11, 7), line(12, 8))),
        "a line without address": structure(shipping(line(11, None), line(12))),
        "quantities short of items_total": structure(shipping(line(11))),
        "a line that does not parse": structure(shipping(line(11), {**line(12), "quantity": "many"})),
    }
    for name, consignments in cases.items():
        assert embedded_lines_and_addresses(order(consignments)) is None, name
    assert embedded_lines_and_addresses(order(structure(shipping(line(11), line(12))), items_total=None)) is None
