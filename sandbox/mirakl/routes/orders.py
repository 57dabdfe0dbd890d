"""Order APIs: OR01 create, OR11 list, OR02/OR03 staging, OR21 accept, OR23 tracking, OR24 ship, OR28 refund,
OR29/OR30 cancel."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.bodies import AcceptRequest, CancelRequest, CreateOrderRequest, RefundRequest, TrackingRequest
from sandbox.mirakl.errors import MiraklError, read_body
from sandbox.mirakl.formats import MiraklJSONResponse
from sandbox.mirakl.orders import render_order
from sandbox.mirakl.paging import OffsetPage, offset_response
from sandbox.mirakl.reference import PLATFORM_TAX_MODE
from sandbox.mirakl.routes.params import date_param, list_param, store_of

__all__ = ["router"]

router = APIRouter()

LIST_FILTER_LIMIT = 100


def _no_content() -> Response:
    return Response(status_code=204)


@router.post("/api/orders")
async def create_order(request: Request) -> Response:
    """OR01: logistic orders per shop, plus the offers that could not be ordered."""
    store = store_of(request)
    body = await read_body(request, CreateOrderRequest)
    orders, not_shippable = store.orders.create(body, store.now())
    return MiraklJSONResponse({"orders": [render_order(o) for o in orders], "offers_not_shippable": not_shippable})


@router.get("/api/orders")
async def list_orders(request: Request, page: OffsetPage) -> Response:
    """OR11: list filters take at most 100 values (else 400, with the tenant's wording)."""
    store = store_of(request)
    lists = {}
    for name in ("order_ids", "commercial_ids", "shop_ids", "customer_ids", "offer_ids", "product_skus"):
        values = list_param(request, name)
        if len(values) > LIST_FILTER_LIMIT:
            raise MiraklError(400, f"The limit of {LIST_FILTER_LIMIT} is exceeded for the parameter : {name}")
        lists[name] = values
    try:
        shop_ids = [int(v) for v in lists["shop_ids"]]
    except ValueError as exc:
        raise MiraklError(400, "Error with field shop_ids. Shop ids are numbers.") from exc
    orders, total = store.orders.search(
        order_ids=lists["order_ids"],
        commercial_ids=lists["commercial_ids"],
        shop_ids=shop_ids,
        states=list_param(request, "order_state_codes"),
        start_update=date_param(request, "start_update_date"),
        end_update=date_param(request, "end_update_date"),
        start_date=date_param(request, "start_date"),
        end_date=date_param(request, "end_date"),
    )
    customers, offers, skus = set(lists["customer_ids"]), set(lists["offer_ids"]), set(lists["product_skus"])
    if customers or offers or skus:
        orders = [
            order
            for order in orders
            if (not customers or order.customer.get("customer_id") in customers)
            and (not offers or any(str(line.offer_id) in offers for line in order.lines))
            and (not skus or any(line.product_sku in skus for line in order.lines))
        ]
        total = len(orders)
    return offset_response(request, "orders", orders, total, page, render_order)


@router.put("/api/orders/valid/{commercial_id}")
async def validate_order(commercial_id: str, request: Request) -> Response:
    """OR02: release a STAGING commercial order to its sellers."""
    store = store_of(request)
    store.orders.validate(commercial_id, store.now())
    return _no_content()


@router.put("/api/orders/invalid/{commercial_id}")
async def invalidate_order(commercial_id: str, request: Request) -> Response:
    """OR03: the scoring failed; the STAGING orders are cancelled."""
    store = store_of(request)
    store.orders.invalidate(commercial_id, store.now())
    return _no_content()


@router.put("/api/orders/refund")
async def refund_order_lines(request: Request) -> Response:
    """OR28 (operator role): each refund within what is left on its line; they then wait in PA12."""
    store = store_of(request)
    body = await read_body(request, RefundRequest)
    refunds = store.orders.refund(body.refunds, store.now())
    return MiraklJSONResponse(
        {
            "order_tax_mode": body.order_tax_mode or PLATFORM_TAX_MODE,
            "refunds": [
                {
                    "refund_id": r.refund_id,
                    "order_refund_id": r.order_refund_id,
                    "order_line_id": r.order_line_id,
                    "amount": r.amount,
                    "shipping_amount": r.shipping_amount,
                    "quantity": r.quantity,
                    "reason_code": r.reason_code,
                    "currency_iso_code": store.orders.orders[r.order_id].currency_iso_code,
                    "taxes": r.taxes,
                    "shipping_taxes": r.shipping_taxes,
                    "excluded_from_shipment": False,
                }
                for r in refunds
            ],
        }
    )


@router.put("/api/orders/cancel")
async def cancel_order_lines(request: Request) -> Response:
    """OR30: partial cancelations before the customer is debited."""
    store = store_of(request)
    body = await read_body(request, CancelRequest)
    return MiraklJSONResponse({"cancelations": store.orders.cancel_lines(body.cancelations, store.now())})


@router.put("/api/orders/{order_id}/accept")
async def accept_order(order_id: str, request: Request) -> Response:
    """OR21."""
    store = store_of(request)
    body = await read_body(request, AcceptRequest)
    store.orders.accept(order_id, body, store.now())
    return _no_content()


@router.put("/api/orders/{order_id}/tracking")
async def update_tracking(order_id: str, request: Request) -> Response:
    """OR23: an unknown `carrier_code` is a 400."""
    store = store_of(request)
    body = await read_body(request, TrackingRequest)
    store.orders.set_tracking(order_id, body, store.now())
    return _no_content()


@router.put("/api/orders/{order_id}/ship")
async def ship_order(order_id: str, request: Request) -> Response:
    """OR24 (bodyless): only from SHIPPING."""
    store = store_of(request)
    store.orders.ship(order_id, store.now())
    return _no_content()


@router.put("/api/orders/{order_id}/cancel")
async def cancel_order(order_id: str, request: Request) -> Response:
    """OR29 (bodyless): only before the customer is debited."""
    store = store_of(request)
    store.orders.cancel(order_id, store.now())
    return _no_content()
