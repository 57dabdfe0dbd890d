"""Accounting APIs: transaction lines TL02 (seek), accounting documents IV01 (offset), billing cycles SBC11
(seek)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.formats import MiraklJSONResponse, iso, parse_date
from sandbox.mirakl.paging import OffsetPage, offset_response
from sandbox.mirakl.routes.params import date_param, list_param, seek_page, store_of

__all__ = ["router"]

router = APIRouter()

TL02_MAX_LIMIT = 2000
SBC11_MAX_LIMIT = 1000


def _int_or_400(value: str | None, name: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise MiraklError(400, f"Error with field {name}. It must be a number.")
    return int(value)


def _transaction_filters(request: Request) -> dict[str, Any]:
    order_ids = list_param(request, "order_id")
    if len(order_ids) > 100:
        raise MiraklError(400, "The limit of 100 is exceeded for the parameter : order_id")
    return {
        "shop_id": _int_or_400(request.query_params.get("shop_id"), "shop_id"),
        "order_ids": order_ids,
        "order_line_ids": list_param(request, "order_line_id"),
        "types": list_param(request, "transaction_type"),
        "payment_states": list_param(request, "payment_state"),
        "from": iso(date_param(request, "date_created_from")),
        "to": iso(date_param(request, "date_created_to")),
    }


@router.get("/api/sellerpayment/transactions_logs")
async def list_transactions(request: Request) -> Response:
    """TL02: oldest first, `limit` up to 2000; a single shop or order narrows through its own index."""
    ledger = store_of(request).ledger

    def keys_for(filters: dict[str, Any]) -> list[tuple[int, int]]:
        if len(filters["order_ids"]) == 1:
            return ledger.by_order.get(filters["order_ids"][0], [])
        if filters["shop_id"] is not None:
            return ledger.by_shop.get(filters["shop_id"], [])
        return ledger.keys

    def accept_for(filters: dict[str, Any]) -> Any:
        start = parse_date(filters["from"]) if filters["from"] else None
        end = parse_date(filters["to"]) if filters["to"] else None
        orders, lines = set(filters["order_ids"]), set(filters["order_line_ids"])
        types, states = set(filters["types"]), set(filters["payment_states"])

        def accept(key: tuple[int, int]) -> bool:
            line = ledger.lines[key[1]]
            return (
                (filters["shop_id"] is None or line.shop_id == filters["shop_id"])
                and (not orders or line.order_id in orders)
                and (not lines or line.order_line_id in lines)
                and (not types or line.type in types)
                and (not states or line.payment_state in states)
                and (start is None or line.date_created >= start)
                and (end is None or line.date_created <= end)
            )

        return accept

    body = seek_page(
        request,
        read_filters=_transaction_filters,
        keys_for=keys_for,
        accept_for=accept_for,
        render=lambda key: ledger.lines[key[1]].to_json(ledger.cycle_id(ledger.lines[key[1]].shop_id)),
        max_limit=TL02_MAX_LIMIT,
    )
    return MiraklJSONResponse(body)


@router.get("/api/invoices")
async def list_invoices(request: Request, page: OffsetPage) -> Response:
    """IV01: AUTO_INVOICE documents by default (`type=ALL` for every type)."""
    ledger = store_of(request).ledger
    shop = _int_or_400(request.query_params.get("shop"), "shop")
    doc_type = request.query_params.get("type", "AUTO_INVOICE")
    states = set(list_param(request, "states")) or {"GENERATED", "COMPLETE"}
    payment_status = request.query_params.get("payment_status")
    start, end = date_param(request, "start_date"), date_param(request, "end_date")
    found = [
        doc
        for doc in ledger.invoices()
        if (shop is None or doc["shop_id"] == shop)
        and (doc_type == "ALL" or doc["type"] == doc_type)
        and doc["state"] in states
        and (not payment_status or doc["payment"]["state"] == payment_status)
        and (start is None or parse_date(doc["date_created"]) >= start)
        and (end is None or parse_date(doc["date_created"]) <= end)
    ]
    return offset_response(request, "invoices", found, len(found), page, lambda doc: doc)


def _cycle_filters(request: Request) -> dict[str, Any]:
    return {
        "shop_ids": [_int_or_400(v, "shop_id") for v in list_param(request, "shop_id")],
        "ids": list_param(request, "id"),
        "pay_out_states": list_param(request, "pay_out_state"),
    }


@router.get("/api/seller-billing-cycles")
async def list_billing_cycles(request: Request) -> Response:
    """SBC11: one open cycle per shop, summarising every transaction line booked for it."""
    store = store_of(request)
    ledger = store.ledger
    keys = [(0, shop_id) for shop_id in sorted(store.shops)]

    def accept_for(filters: dict[str, Any]) -> Any:
        shops, ids, states = set(filters["shop_ids"]), set(filters["ids"]), set(filters["pay_out_states"])

        def accept(key: tuple[int, int]) -> bool:
            return (
                (not shops or key[1] in shops)
                and (not ids or ledger.cycle_id(key[1]) in ids)
                and (not states or "TO_PAY" in states)
            )

        return accept

    body = seek_page(
        request,
        read_filters=_cycle_filters,
        keys_for=lambda _filters: keys,
        accept_for=accept_for,
        render=lambda key: ledger.billing_cycle(store.shops[key[1]]),
        max_limit=SBC11_MAX_LIMIT,
    )
    return MiraklJSONResponse(body)
