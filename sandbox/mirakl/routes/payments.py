"""Payment APIs in Mirakl's XML-shaped JSON: debits PA11 (list) / PA01 (confirm), refunds PA12 / PA02."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.bodies import DebitRequest, RefundPaymentRequest
from sandbox.mirakl.errors import read_body
from sandbox.mirakl.formats import MiraklJSONResponse, money
from sandbox.mirakl.orders import Order
from sandbox.mirakl.paging import OffsetPage, OffsetParams
from sandbox.mirakl.routes.params import store_of
from sandbox.mirakl.workflow import debit_entity

__all__ = ["router"]

router = APIRouter()


def _payment_base(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "order_commercial_id": order.commercial_id,
        "shop_id": str(order.shop_id),
        "customer_id": order.customer.get("customer_id"),
        "currency_iso_code": order.currency_iso_code,
        "imprint_number": order.imprint_number,
        "payment_type": order.payment_type,
        "pay_out_psp_code": "NOT_SPECIFIED",
        # Required by PA11/PA12_Response_200 as an object; a card payment has no bank-transfer destination.
        "payment_destination": {},
    }


def _debit_json(order: Order, entity_kind: str) -> dict[str, Any]:
    lines = [
        {
            "order_line_id": line.order_line_id,
            "offer_id": str(line.offer_id),
            "order_line_amount": line.debitable(order.order_tax_mode),
            "order_line_quantity": line.quantity,
        }
        for line in order.open_lines
    ]
    return {
        **_payment_base(order),
        "amount": order.debitable(),
        "debit_entity": debit_entity(order, entity_kind),
        "order_lines": {"order_line": lines},
    }


def _xml_page(items: Iterable[Any], total: int, page: OffsetParams, render: Any) -> Response:
    window = islice(items, page.offset, page.offset + page.max) if page.paginate else items
    return MiraklJSONResponse({"orders": {"order": [render(item) for item in window]}, "total_count": total})


@router.get("/api/payment/debit")
async def list_debits(request: Request, page: OffsetPage) -> Response:
    """PA11: orders in WAITING_DEBIT_PAYMENT; `amount` is what PA01 must confirm (taxes included)."""
    store = store_of(request)
    book, kind = store.orders, store.settings.debit_entity
    waiting = book.by_state.get("WAITING_DEBIT_PAYMENT", {})
    return _xml_page(waiting, len(waiting), page, lambda order_id: _debit_json(book.orders[order_id], kind))


@router.put("/api/payment/debit")
async def confirm_debits(request: Request) -> Response:
    """PA01: OK moves the order to SHIPPING, REFUSED cancels it; a wrong amount is a 400."""
    store = store_of(request)
    body = await read_body(request, DebitRequest)
    store.orders.debit(body.orders, store.now(), store.settings.debit_entity)
    return Response(status_code=204)


@router.get("/api/payment/refund")
async def list_refunds(request: Request, page: OffsetPage) -> Response:
    """PA12: refunds waiting for the operator's payment, grouped by order."""
    book = store_of(request).orders
    order_ids = book.refunds_to_pay

    def render(order_id: str) -> dict[str, Any]:
        order = book.orders[order_id]
        refunds = [book.refunds[refund_id] for refund_id in book.refunds_to_pay[order_id]]
        lines = []
        for line in order.lines:
            mine = [r for r in refunds if r.order_line_id == line.order_line_id]
            if mine:
                lines.append(
                    {
                        "order_line_id": line.order_line_id,
                        "offer_id": str(line.offer_id),
                        "order_line_amount": money(
                            sum(r.payable(order.order_tax_mode) for r in mine), order.currency_iso_code
                        ),
                        "order_line_quantity": line.quantity,
                        "refunds": {
                            "refund": [{"id": r.refund_id, "amount": r.payable(order.order_tax_mode)} for r in mine]
                        },
                    }
                )
        return {
            **_payment_base(order),
            "payment_workflow": order.payment_workflow,
            "amount": money(sum(r.payable(order.order_tax_mode) for r in refunds), order.currency_iso_code),
            "order_lines": {"order_line": lines},
        }

    return _xml_page(order_ids, len(order_ids), page, render)


@router.put("/api/payment/refund")
async def confirm_refunds(request: Request) -> Response:
    """PA02: OK marks the refund REFUNDED (and books the REFUND_* transaction lines)."""
    store = store_of(request)
    body = await read_body(request, RefundPaymentRequest)
    store.orders.pay_refunds(body, store.now(), store.settings.partial_refunds)
    return Response(status_code=204)
