"""Order routing throughput against the BigCommerce quota bound.

Routing is bounded by the BigCommerce calls each order needs (its lines, its shipping addresses, the CX
metafield, plus its share of the order-list page), so the figure that matters is orders per second against
`quota * (1 - reserve) / window / calls_per_order`. The benchmark plants mixed baskets (one native line and
two marketplace lines from two sellers) in the sandbox, routes them through the stream's tasks (Prefect's own
per-run overhead is left out), and reports both figures and their ratio.

    python -m benchmarks.order_routing --orders 2000 --json PATH
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from bcmirakl.config import load_config
from bcmirakl.runtime import Runtime, build_runtime
from bcmirakl.sandbox_settings import sandbox_settings
from bcmirakl.simclock import SimulatedClock
from connectors.state import logistic_orders_for, upsert_offer_map
from expectations import run_gate
from sandbox.app import Sandbox, create_sandbox
from sandbox.bigcommerce import BigCommerceSandboxSettings
from sandbox.bigcommerce.store import Order, OrderLine, ShippingAddress
from sandbox.mirakl import MiraklSandboxSettings
from sandbox.seed import SANDBOX_EPOCH, SeedConfig
from tasks.orders import changed_orders, load_order_cursor, route_order_page
from tasks.reporting import RunReport

CENT = Decimal("0.01")
RESERVE = 0.1


def plant_orders(sandbox: Sandbox, count: int) -> list[dict[str, Any]]:
    """Mixed baskets on two open sellers' offers (with ample Mirakl stock); returns the offer-map rows."""
    world = sandbox.world
    open_shops = sorted(s.shop_id for s in world.sellers if s.shop_state == "OPEN" and not s.refuses_orders)[:2]
    catalog = sandbox.mirakl.state.store.catalog
    picks = []
    for shop_id in open_shops:
        offer = next(
            o
            for o in world.offers
            if o.shop_id == shop_id
            and o.active
            and o.product_sku.startswith("MKP")
            and o.product_sku not in {p[0].product_sku for p in picks}
        )
        product = next(p for p in world.products if p.product_sku == offer.product_sku)
        catalog.offers[offer.offer_id].quantity = 10 * count + 10
        catalog.offers[offer.offer_id].active = True
        picks.append((offer, product))
    native = world.natives[1]
    store = sandbox.bigcommerce.state.store
    for i in range(count):
        order_id = 10_000 + i
        address_id = store.next_id("order_address")
        order = Order(
            id=order_id,
            customer_id=20 + i % 50,
            status_id=11,
            date_created=SANDBOX_EPOCH + timedelta(seconds=i),
            date_modified=SANDBOX_EPOCH + timedelta(seconds=i),
            billing_address=dict(store.orders[100].billing_address),
        )
        template = store.orders[100].addresses[0]
        order.addresses.append(
            ShippingAddress(
                address_id,
                order_id,
                template.first_name,
                template.last_name,
                template.street_1,
                template.city,
                template.state,
                template.zip,
                template.country_iso2,
                template.email,
                Decimal("5.00"),
                Decimal("5.40"),
            )
        )
        lines = [(native.bc_product_id, native.bc_variant_id, native.sku, native.price)]
        lines += [(p.bc_product_id, p.bc_variant_id, p.product_sku, o.price) for o, p in picks]
        for product_id, variant_id, sku, price in lines:
            order.lines.append(
                OrderLine(
                    store.next_id("order_product"),
                    order_id,
                    product_id,
                    variant_id,
                    sku,
                    sku,
                    1,
                    price,
                    (price * Decimal("1.08")).quantize(CENT, rounding=ROUND_HALF_UP),
                    address_id,
                )
            )
        store.add_order(order)
    return [
        {
            "product_sku": p.product_sku,
            "bc_product_id": p.bc_product_id,
            "bc_variant_id": p.bc_variant_id,
            "owner": "mirakl",
            "offer_id": o.offer_id,
            "shop_id": o.shop_id,
        }
        for o, p in picks
    ]


def warm_up_gate() -> None:
    """Load Great Expectations once before the clock starts: a process start-up cost, not a per-order one."""
    row = {"line_id": "warm", "offer_id": 1, "quantity": 1, "offer_price": 1.0, "currency_ok": True}
    run_gate(pd.DataFrame([row]), "orders_out")


async def route_everything(rt: Runtime) -> RunReport:
    report = RunReport(stream="order-routing", title="benchmark")
    since = await load_order_cursor.fn(rt)
    async for page in changed_orders(rt, since):
        await route_order_page.fn(rt, page, report)
    return report


async def run(orders: int, quota: int, window_ms: int, workdir: Path) -> dict[str, Any]:
    # Mirakl's call budgets are kept on both sides on a simulated clock: a budget wait costs no benchmark time.
    clock = SimulatedClock()
    sandbox = create_sandbox(
        seed=SeedConfig(orders=12),
        bigcommerce=BigCommerceSandboxSettings(quota=quota, window_ms=window_ms),
        mirakl=MiraklSandboxSettings(budget_clock=clock.now),
    )
    offer_rows = plant_orders(sandbox, orders)
    settings = sandbox_settings(sandbox.base_url, workdir, bc_reserve_share=RESERVE)
    transport = httpx.ASGITransport(app=sandbox.app)
    rt = build_runtime(
        settings, config=load_config(), transport=transport, budget_clock=clock.now, budget_sleep=clock.sleep
    )
    try:
        with rt.sessions() as session:
            upsert_offer_map(session, offer_rows)
            session.commit()
        warm_up_gate()
        started = time.perf_counter()
        report = await route_everything(rt)
        elapsed = time.perf_counter() - started
        calls = rt.api_calls()
        with rt.sessions() as session:
            split_ok = len(logistic_orders_for(session, bc_order_id=10_000)) == 2
    finally:
        await rt.aclose()
    routed = int(report.counts.get("orders_routed", 0))
    calls_per_order = calls["bigcommerce"] / max(routed, 1)
    bound = quota * (1 - RESERVE) / (window_ms / 1000) / calls_per_order
    rate = routed / elapsed
    return {
        "orders": orders,
        "orders_routed": routed,
        "seconds": round(elapsed, 2),
        "orders_per_second": round(rate, 2),
        "bigcommerce_calls": calls["bigcommerce"],
        "bigcommerce_calls_per_order": round(calls_per_order, 3),
        "mirakl_calls": calls["mirakl"],
        "erp_calls": calls["erp"],
        "quota": quota,
        "window_ms": window_ms,
        "reserve_share": RESERVE,
        "quota_bound_orders_per_second": round(bound, 2),
        "ratio_to_bound": round(rate / bound, 3),
        "split_into_two_logistic_orders": split_ok,
        "mirakl_logistic_orders": len(sandbox.mirakl.state.store.orders.orders),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--quota", type=int, default=150, help="BigCommerce requests per window (Standard plan)")
    parser.add_argument("--window-ms", type=int, default=6000, help="the sandbox's quota window (real: 30000)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(run(args.orders, args.quota, args.window_ms, Path(tmp)))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
