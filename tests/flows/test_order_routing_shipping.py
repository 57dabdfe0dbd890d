"""Each marketplace line asks Mirakl for a shipping type its seller ships to the customer's zone (SH02 before OR01).

Seller 2 (shop 2001) ships only express inside the US; order 100 (Austin, BigCommerce method "Flat Rate") has
one line from shop 2000 and one from shop 2001.
"""

from __future__ import annotations

import pytest

from bridge.config import BridgeConfig, load_config
from bridge.runtime import Runtime, use_runtime
from connectors.state import get_order_route, unresolved_cs_cases
from flows.order_routing import order_routing
from sandbox.app import Sandbox
from tests.support.orders import seed_offer_map
from tests.support.sandbox_api import mirakl_orders

MIXED = 100
EXPRESS_ONLY_SHOP = 2001


@pytest.fixture
def only_mixed_basket_paid(sandbox: Sandbox) -> None:
    for order in sandbox.bigcommerce.state.store.orders.values():
        if order.id != MIXED and order.status_id == 11:
            order.status_id = 7


def with_shipping_methods(methods: dict[str, list[str]]) -> BridgeConfig:
    data = load_config().model_dump()
    data["orders"]["shipping_methods"] = methods
    return BridgeConfig.model_validate(data)


async def test_a_seller_without_standard_shipping_gets_the_express_type_the_customers_method_allows(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "config", with_shipping_methods({"Flat Rate": ["STD", "EXP"]}))
    seed_offer_map(runtime, sandbox, [MIXED])
    with use_runtime(runtime):
        report = await order_routing()

    orders = await mirakl_orders(sandbox, str(MIXED))
    assert [(o["shop_id"], o["shipping_type_code"]) for o in orders] == [(2000, "STD"), (EXPRESS_ONLY_SHOP, "EXP")]
    assert report.counts["orders_routed"] == 1 and report.counts["api_calls_mirakl"] == 2  # SH02 + OR01
    with runtime.sessions() as session:
        assert unresolved_cs_cases(session, "order_routing") == []


async def test_when_no_type_the_method_allows_fits_the_line_is_an_exception_before_or01(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "config", with_shipping_methods({"flat rate": ["STD"]}))
    seed_offer_map(runtime, sandbox, [MIXED])
    with use_runtime(runtime):
        await order_routing()

    orders = await mirakl_orders(sandbox, str(MIXED))
    assert [(o["shop_id"], o["shipping_type_code"]) for o in orders] == [(2000, "STD")]
    assert [len(o["order_lines"]) for o in orders] == [1]
    with runtime.sessions() as session:
        assert get_order_route(session, MIXED).status == "exception"
        cases = [(c.kind, c.detail["reason"]) for c in unresolved_cs_cases(session, "order_routing")]
    assert cases == [("no_shipping_type", "shipping method 'Flat Rate' allows STD; the offer ships to US: EXP")]


async def test_an_offer_sh02_no_longer_knows_is_not_shippable_before_or01(
    runtime: Runtime, sandbox: Sandbox, only_mixed_basket_paid: None
) -> None:
    seed_offer_map(runtime, sandbox, [MIXED])
    catalog = sandbox.mirakl.state.store.catalog
    gone = next(o for o in catalog.offers.values() if o.product_sku == "MKP-000002" and o.shop_id == EXPRESS_ONLY_SHOP)
    gone.deleted = True
    with use_runtime(runtime):
        await order_routing()

    assert [(o["shop_id"], len(o["order_lines"])) for o in await mirakl_orders(sandbox, str(MIXED))] == [(2000, 1)]
    with runtime.sessions() as session:
        cases = [
            (c.kind, c.detail["reason"], c.detail["offer_id"]) for c in unresolved_cs_cases(session, "order_routing")
        ]
    assert cases == [("offers_not_shippable", "OFFER_NOT_FOUND", gone.offer_id)]
