"""What sellers and time do between the demo's runs, so that every stream has real work to show.

On a real marketplace these happen by themselves: a seller's stock runs out, sellers accept or ignore orders,
ship them, refund a customer. In the demo they are played on the sandbox through its `/_sandbox` control
endpoints, right before the stream that reacts to them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from bridge.streams import Stream
from sandbox.app import Sandbox

__all__ = ["BEFORE_STREAM", "demo_parameters"]

Event = Callable[[httpx.AsyncClient, Sandbox], Awaitable[str]]


async def _mirakl_orders(http: httpx.AsyncClient, sandbox: Sandbox, state: str) -> list[str]:
    """Order ids in `state` as the sellers see them (not OR11: that would spend the operator's call budget)."""
    answer = await http.get(f"{sandbox.mirakl_url}/_sandbox/orders", params={"state": state})
    answer.raise_for_status()
    return list(answer.json()["order_ids"])[:100]


async def stock_runs_out(http: httpx.AsyncClient, sandbox: Sandbox) -> str:
    """Two offers of the first (healthy) seller change: one sells out, one is repriced."""
    seller = sandbox.world.sellers[0].shop_id
    offers = sorted(
        (o for o in sandbox.world.offers if o.shop_id == seller and o.quantity > 0 and o.active),
        key=lambda o: o.offer_id,
    )
    changes = [{"offer_id": offers[0].offer_id, "quantity": 0}, {"offer_id": offers[1].offer_id, "price": "99.90"}]
    (await http.post(f"{sandbox.mirakl_url}/_sandbox/offers", json={"offers": changes})).raise_for_status()
    return f"offer {offers[0].offer_id} sold out, offer {offers[1].offer_id} repriced"


async def sellers_decide(http: httpx.AsyncClient, sandbox: Sandbox) -> str:
    """Sellers accept their waiting orders; the seller who never answers is auto-refused."""
    (await http.post(f"{sandbox.mirakl_url}/_sandbox/tick")).raise_for_status()
    return "sellers accepted or were auto-refused"


async def sellers_ship(http: httpx.AsyncClient, sandbox: Sandbox) -> str:
    """Sellers ship up to two paid orders."""
    shipping = await _mirakl_orders(http, sandbox, "SHIPPING")
    for order_id in shipping[:2]:
        (await http.post(f"{sandbox.mirakl_url}/_sandbox/orders/{order_id}/ship")).raise_for_status()
    return f"{min(2, len(shipping))} logistic orders shipped by sellers"


async def seller_refunds(http: httpx.AsyncClient, sandbox: Sandbox) -> str:
    """One seller refunds a shipped line (a customer return), which waits for payment in PA12."""
    shipped = await _mirakl_orders(http, sandbox, "SHIPPED")
    for order_id in shipped[:1]:
        (await http.post(f"{sandbox.mirakl_url}/_sandbox/orders/{order_id}/refund")).raise_for_status()
    return f"{min(1, len(shipped))} seller refund raised"


BEFORE_STREAM: dict[tuple[str, str | None], Event] = {
    (Stream.OFFER_SYNC, "delta"): stock_runs_out,
    (Stream.ACCEPTANCE_GUARD, None): sellers_decide,
    (Stream.SHIPMENT_SYNC, None): sellers_ship,
    (Stream.REFUND_MIRROR, None): seller_refunds,
}


def demo_parameters(stream: str, params: dict[str, Any]) -> dict[str, Any]:
    """Reconciliation in the demo covers today, the only day the freshly seeded sandbox has money movements."""
    if stream == Stream.COMMISSION_RECONCILIATION:
        today = datetime.now(UTC).date()
        return {**params, "start": today, "end": today}
    return params
