"""The emulator's own `/_sandbox` endpoints: what sellers and time would do on a real tenant.

Tests and the demo use them to change offers (price, stock, activation, deletion), record seller feed results,
move the order state machine one step, ship, refuse or refund as a seller, and plant transaction lines that
reconciliation must catch. They need no credentials and are never part of Mirakl's API.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.bodies import (
    ImportIn,
    OfferChanges,
    OfferDefects,
    RefundIn,
    SellerRefundIn,
    ShipIn,
    TrackingRequest,
    TransactionsIn,
)
from sandbox.mirakl.catalog import MiraklOffer
from sandbox.mirakl.errors import MiraklError, read_body
from sandbox.mirakl.formats import MiraklJSONResponse, iso, money
from sandbox.mirakl.imports import OfferImport
from sandbox.mirakl.routes.params import store_of

__all__ = ["router"]

router = APIRouter()


@router.post("/_sandbox/offers")
async def upsert_offers(request: Request) -> Response:
    """Change offers by id (an unknown id with shop, SKUs and price creates one); `last_updated` becomes now."""
    store = store_of(request)
    body = await read_body(request, OfferChanges)
    now = store.now()
    for change in body.offers:
        offer = store.catalog.offers.get(change.offer_id)
        if offer is None:
            if change.shop_id is None or not change.product_sku or change.price is None:
                raise MiraklError(400, f"Offer {change.offer_id} is new: shop_id, product_sku and price are needed")
            store.catalog.add(
                MiraklOffer(
                    offer_id=change.offer_id,
                    shop_id=change.shop_id,
                    product_sku=change.product_sku,
                    shop_sku=change.shop_sku or f"S{change.shop_id}-{change.product_sku}",
                    price=change.price,
                    min_shipping_price=change.min_shipping_price or Decimal("0"),
                    quantity=change.quantity or 0,
                    active=True if change.active is None else change.active,
                    deleted=bool(change.deleted),
                    currency_iso_code=store.shops[change.shop_id].currency_iso_code
                    if change.shop_id in store.shops
                    else "USD",
                    date_created=now,
                    last_updated=now,
                )
            )
            continue
        for name in ("price", "min_shipping_price", "quantity", "active", "deleted", "product_sku", "shop_sku"):
            value = getattr(change, name)
            if value is not None:
                setattr(offer, name, value)
        store.catalog.touch(offer, now)
    return MiraklJSONResponse({"updated": [c.offer_id for c in body.offers], "last_updated": iso(now)})


@router.post("/_sandbox/offers/defects")
async def plant_offer_defects(request: Request) -> Response:
    """Fault injection: plant raw values over offers' export rows (a malformed offer among good ones); the offers
    count as changed, so the next delta export carries them. `fields: {}` removes an offer's defect."""
    store = store_of(request)
    body = await read_body(request, OfferDefects)
    now = store.now()
    for defect in body.defects:
        offer = store.catalog.offers.get(defect.offer_id)
        if offer is None:
            raise MiraklError(404, f"Offer with id {defect.offer_id} not found")
        offer.export_overrides = dict(defect.fields)
        store.catalog.touch(offer, now)
    return MiraklJSONResponse({"updated": [d.offer_id for d in body.defects], "last_updated": iso(now)})


@router.post("/_sandbox/imports")
async def add_import(request: Request) -> Response:
    """Record a seller's offer import result (e.g. FAILED) as OF02/OF04 will report it."""
    store = store_of(request)
    body = await read_body(request, ImportIn)
    if body.shop_id not in store.shops:
        raise MiraklError(404, f"Shop with id {body.shop_id} not found")
    errors = body.lines_read if body.status == "FAILED" and not body.lines_in_error else body.lines_in_error
    offer_import = store.imports.add(
        OfferImport(
            import_id=store.imports.next_id(),
            shop_id=body.shop_id,
            date_created=body.date_created or store.now(),
            status=body.status,
            lines_read=body.lines_read,
            lines_in_success=0 if body.status == "FAILED" else body.lines_read - errors,
            lines_in_error=errors,
            offer_updated=0 if body.status == "FAILED" else body.lines_read - errors,
            reason_status=body.reason_status,
        )
    )
    return MiraklJSONResponse(offer_import.to_json(with_shop=True), status_code=201)


@router.post("/_sandbox/tick")
async def tick(request: Request) -> Response:
    """One step of the sellers' side: waiting orders are accepted, or auto-refused for a non-answering seller."""
    store = store_of(request)
    return MiraklJSONResponse(store.orders.tick(store.now()))


@router.post("/_sandbox/orders/{order_id}/ship")
async def seller_ships(order_id: str, request: Request) -> Response:
    """The seller enters tracking (OR23) and confirms shipment (OR24)."""
    store = store_of(request)
    raw = await request.body()
    body = await read_body(request, ShipIn) if raw else ShipIn()
    now = store.now()
    order = store.orders.get(order_id)
    tracking = TrackingRequest(
        carrier_code=body.carrier_code, tracking_number=body.tracking_number or f"TRK{order.seq:08d}"
    )
    store.orders.set_tracking(order_id, tracking, now)
    store.orders.ship(order_id, now)
    return Response(status_code=204)


@router.post("/_sandbox/orders/{order_id}/refuse")
async def seller_refuses(order_id: str, request: Request) -> Response:
    store = store_of(request)
    store.orders.refuse(order_id, store.now())
    return Response(status_code=204)


@router.post("/_sandbox/orders/{order_id}/refund")
async def seller_refunds(order_id: str, request: Request) -> Response:
    """The seller refunds a line (by default, everything left on the first open line); it lands in PA12."""
    store = store_of(request)
    raw = await request.body()
    body = await read_body(request, SellerRefundIn) if raw else SellerRefundIn()
    order = store.orders.get(order_id)
    line = order.line(body.order_line_id) if body.order_line_id else (order.open_lines or [None])[0]
    if line is None:
        raise MiraklError(404, f"Order line {body.order_line_id} not found on order {order_id}")
    goods_left, _ = line.refundable()
    entry = RefundIn(
        order_line_id=line.order_line_id,
        amount=money(body.amount if body.amount is not None else goods_left, order.currency_iso_code),
        shipping_amount=body.shipping_amount,
        reason_code=body.reason_code,
        quantity=body.quantity,
    )
    refunds = store.orders.refund([entry], store.now())
    return MiraklJSONResponse({"refund_ids": [r.refund_id for r in refunds]}, status_code=201)


@router.post("/_sandbox/finance/transactions")
async def plant_transactions(request: Request) -> Response:
    """Add arbitrary TL02 lines (a missing commission, a stray manual credit) for reconciliation tests."""
    store = store_of(request)
    body = await read_body(request, TransactionsIn)
    created = []
    for item in body.lines:
        order = store.orders.orders.get(item.order_id) if item.order_id else None
        line = store.ledger.add(
            item.type,
            item.amount,
            item.shop_id,
            item.date_created or store.now(),
            payment_state=item.payment_state,
            order_id=item.order_id,
            commercial_id=item.commercial_id or (order.commercial_id if order else None),
            order_created=order.created_date if order else None,
            order_line_id=item.order_line_id,
        )
        created.append(line.id)
    return MiraklJSONResponse({"ids": created}, status_code=201)
