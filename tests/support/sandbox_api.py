"""Test readers of outcomes through the sandbox's HTTP API: what the real platforms would show of a run.

A test that reads the emulators' internals shares whatever idea of a field the bridge and the sandbox both hold;
reading through the operation a real store or tenant offers (Mirakl OR11, BigCommerce v2 shipments, v3 refunds
and order metafields, the ERP's order list) checks the outcome as the platform's API tells it. Setup stays with
the sandbox's seed and `/_sandbox` control endpoints. Amounts are parsed as `Decimal`, as the bridge reads them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from decimal import Decimal
from typing import Any

import httpx

from bridge.sandbox_settings import SANDBOX_ERP_TOKEN, SANDBOX_MIRAKL_OPERATOR_API_KEY
from sandbox.app import Sandbox

__all__ = [
    "bc_refunds",
    "bc_shipments",
    "cx_document",
    "cx_metafield",
    "cx_metafields",
    "erp_orders",
    "mirakl_debits",
    "mirakl_orders",
]

# Another API account of the sandbox store (a helpdesk, say): BigCommerce outcomes are read as another app of the
# store sees them, with its own token, so a metafield only the bridge could read would not pass for visible.
OTHER_APP_TOKEN = "sandbox-other-app-token"
# Mirakl offset paging (OR11, PA11): `max` is capped at 100, so readers page on `total_count` (shared/api/mirakl.md).
MIRAKL_PAGE = 100


@asynccontextmanager
async def _client(sandbox: Sandbox, base_url: str, headers: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=base_url, headers=headers
    ) as client:
        yield client


def _json(response: httpx.Response) -> Any:
    response.raise_for_status()
    return response.json(parse_float=Decimal)


@contextmanager
def _outside_the_bridge_budget(sandbox: Sandbox) -> Iterator[None]:
    """OR11's "Maximum usage: - Asynchronous: once per minute - Synchronous: at each order page display": a test
    looking at the orders is an order page display, not the bridge's polling, so it neither spends nor meets the
    once-a-minute budget the sandbox counts for the bridge (and a later run of the flow finds it untouched)."""
    settings = sandbox.mirakl.state.call_frequencies.settings
    enforced, settings.enforce_call_budgets = settings.enforce_call_budgets, False
    try:
        yield
    finally:
        settings.enforce_call_budgets = enforced


async def _mirakl_offset_pages(
    sandbox: Sandbox, path: str, params: dict[str, Any], items_of: Callable[[Any], list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Every item of a Mirakl offset-paged listing, read as the operator, page by page on `total_count`."""
    items: list[dict[str, Any]] = []
    with _outside_the_bridge_budget(sandbox):
        async with _client(sandbox, sandbox.mirakl_url, {"Authorization": SANDBOX_MIRAKL_OPERATOR_API_KEY}) as mirakl:
            while True:
                page = _json(await mirakl.get(path, params={**params, "max": MIRAKL_PAGE, "offset": len(items)}))
                found = items_of(page)
                items += found
                if not found or len(items) >= page["total_count"]:
                    return items


async def mirakl_orders(sandbox: Sandbox, commercial_id: str) -> list[dict[str, Any]]:
    """OR11 `commercial_ids=<id>`: the Mirakl orders of one commercial order, in creation order."""
    params = {"commercial_ids": commercial_id}
    return await _mirakl_offset_pages(sandbox, "/api/orders", params, lambda page: page["orders"])


async def mirakl_debits(sandbox: Sandbox) -> dict[str, Decimal]:
    """PA11: what Mirakl asks the operator to debit (`amount`, taxes included), by logistic order id."""
    debits = await _mirakl_offset_pages(sandbox, "/api/payment/debit", {}, lambda page: page["orders"]["order"])
    return {d["order_id"]: Decimal(d["amount"]) for d in debits}


async def erp_orders(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The ERP's `GET /orders`: every order it accepted, with the idempotency key it was sent under."""
    async with _client(sandbox, sandbox.erp_url, {"Authorization": f"Bearer {SANDBOX_ERP_TOKEN}"}) as erp:
        return list(_json(await erp.get("/orders"))["orders"])


@asynccontextmanager
async def _store(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    base_url = f"{sandbox.bigcommerce_url}/stores/sandbox"
    async with _client(sandbox, base_url, {"X-Auth-Token": OTHER_APP_TOKEN, "Accept": "application/json"}) as store:
        yield store


async def bc_shipments(sandbox: Sandbox, order_id: int) -> list[dict[str, Any]]:
    """orders.v2.oas2.yml `GET /orders/{order_id}/shipments`: the order's shipments, their items and tracking."""
    async with _store(sandbox) as store:
        response = await store.get(f"/v2/orders/{order_id}/shipments")
    return [] if response.status_code == 204 else list(_json(response))


async def bc_refunds(sandbox: Sandbox, order_id: int) -> list[dict[str, Any]]:
    """orders.v3.yml `GET /orders/{order_id}/payment_actions/refunds`: the refunds the store made on the order."""
    async with _store(sandbox) as store:
        return list(_json(await store.get(f"/v3/orders/{order_id}/payment_actions/refunds"))["data"])


async def cx_metafields(sandbox: Sandbox) -> dict[int, dict[str, Any]]:
    """Every order's CX metafield record (`bcmirakl`/`fulfilment`), by order id, as another app of the store reads
    them: orders.v3.yml `GET /orders/metafields` ("Get All Order Metafields"), one listing for all orders, so a
    test of fifty orders costs the store's rate window one call, not fifty. Each order holds at most one, shared
    read-only with the store's apps."""
    records: dict[int, dict[str, Any]] = {}
    async with _store(sandbox) as store:
        page, pages = 1, 1
        while page <= pages:
            params = {"namespace": "bcmirakl", "key": "fulfilment", "limit": 250, "page": page}
            body = _json(await store.get("/v3/orders/metafields", params=params))
            for record in body["data"]:
                assert record["resource_id"] not in records, f"order {record['resource_id']} has two CX metafields"
                assert record["permission_set"] == "read"
                records[record["resource_id"]] = record
            page, pages = page + 1, body["meta"]["pagination"]["total_pages"]
    return records


def cx_document(records: dict[int, dict[str, Any]], order_id: int) -> dict[str, Any]:
    """The CX document (each line's seller and state) an order's metafield holds, from `cx_metafields`."""
    assert order_id in records, f"order {order_id} shows no CX metafield to the store's apps"
    return dict(json.loads(records[order_id]["value"]))


async def cx_metafield(sandbox: Sandbox, order_id: int) -> dict[str, Any]:
    """The CX document of one order, as another app of the store reads it."""
    return cx_document(await cx_metafields(sandbox), order_id)
