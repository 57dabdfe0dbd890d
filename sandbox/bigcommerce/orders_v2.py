"""Orders v2 routes: order listing and detail, status updates, lines, addresses, shipments, statuses.

v2 answers bare arrays, pages by `page`/`limit` (≤ 250, else 413) and answers 204 with no body for an empty page
(bigcommerce.md §0.2-0.3, §3); errors are the v2 array `[{status, message}]`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.orders_render import render_address, render_line, render_order, render_status
from sandbox.bigcommerce.paging import page_request
from sandbox.bigcommerce.settings import ORDER_STATUSES
from sandbox.bigcommerce.shipments import create_shipment
from sandbox.bigcommerce.store import BigCommerceStore, Order
from sandbox.bigcommerce.wire import ApiJSONResponse, parse_datetime, read_json

__all__ = ["orders_v2_router"]

_SORT_KEYS: dict[str, Callable[[Order], Any]] = {
    "id": lambda o: o.id,
    "date_modified": lambda o: (o.date_modified, o.id),
    "date_created": lambda o: (o.date_created, o.id),
    "status_id": lambda o: (o.status_id, o.id),
    "customer_id": lambda o: (o.customer_id, o.id),
}
_WRITABLE = {"status_id", "external_order_id", "staff_notes", "customer_message"}
_READ_ONLY = {
    "id",
    "date_created",
    "date_modified",
    "date_shipped",
    "status",
    "payment_status",
    "items_total",
    "items_shipped",
    "refunded_amount",
    "external_id",
    "custom_status",
}


def _not_found() -> ApiError:
    return ApiError("v2", 404, "The requested resource was not found.")


def _page_or_204(items: list[Any]) -> Response:
    return ApiJSONResponse(items) if items else Response(status_code=204)


def _date_filter(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    parsed = parse_datetime(raw)
    if parsed is None:
        raise ApiError("v2", 400, f"The field '{name}' is invalid: expected an RFC-2822 or ISO-8601 date.")
    return parsed


def _int_filter(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError("v2", 400, f"The field '{name}' is invalid: expected an integer.") from None


_INCLUDES = frozenset({"consignments", "consignments.line_items", "fees"})


def _includes(request: Request) -> frozenset[str]:
    """orders.v2.oas2.yml, parameter `order_includes` (`include`, form style, not exploded: comma-separated; enum
    `consignments`, `consignments.line_items`, `fees`) with `consignment_structure` (enum `object`): "Should be
    specified along with `include=consignments` or `include=consignments.line_items` to return consignments in
    the supported object structure". The spec describes no other structure, so without `object` the sandbox
    keeps the consignments link; `fees` is accepted and not rendered (the sandbox has no fees).
    """
    raw = request.query_params.get("include")
    if raw is None:
        return frozenset()
    wanted = frozenset(part.strip() for part in raw.split(",") if part.strip())
    unknown = wanted - _INCLUDES
    if unknown:
        raise ApiError("v2", 400, f"The field 'include' is invalid: {', '.join(sorted(unknown))}.")
    structure = request.query_params.get("consignment_structure")
    if structure is not None and structure != "object":
        raise ApiError("v2", 400, "The field 'consignment_structure' is invalid: expected 'object'.")
    return wanted if structure == "object" else wanted - {"consignments", "consignments.line_items"}


def _filtered_orders(store: BigCommerceStore, request: Request) -> list[Order]:
    min_modified, max_modified = _date_filter(request, "min_date_modified"), _date_filter(request, "max_date_modified")
    min_created, max_created = _date_filter(request, "min_date_created"), _date_filter(request, "max_date_created")
    status_id, customer_id = _int_filter(request, "status_id"), _int_filter(request, "customer_id")
    min_id, max_id = _int_filter(request, "min_id"), _int_filter(request, "max_id")
    external = request.query_params.get("external_order_id")
    orders = [
        o
        for o in store.orders.values()
        if (min_modified is None or o.date_modified >= min_modified)
        and (max_modified is None or o.date_modified <= max_modified)
        and (min_created is None or o.date_created >= min_created)
        and (max_created is None or o.date_created <= max_created)
        and (status_id is None or o.status_id == status_id)
        and (customer_id is None or o.customer_id == customer_id)
        and (min_id is None or o.id >= min_id)
        and (max_id is None or o.id <= max_id)
        and (external is None or o.external_order_id == external)
    ]
    field, _, direction = request.query_params.get("sort", "id:asc").partition(":")
    if field not in _SORT_KEYS or direction.lower() not in ("", "asc", "desc"):
        raise ApiError("v2", 400, f"The sort field '{field}' is invalid.")
    orders.sort(key=_SORT_KEYS[field], reverse=direction.lower() == "desc")
    return orders


def _apply_update(store: BigCommerceStore, order: Order, body: Any) -> None:
    if not isinstance(body, dict):
        raise ApiError("v2", 400, "The request body must be a JSON object.")
    for name in body:
        if name in _READ_ONLY:
            raise ApiError(
                "v2",
                400,
                f"The field '{name}' cannot be written to. Please remove it from your request before trying again.",
            )
    status_id = body.get("status_id", order.status_id)
    if not isinstance(status_id, int) or isinstance(status_id, bool) or status_id not in ORDER_STATUSES:
        raise ApiError("v2", 400, f"The field 'status_id' is invalid: {status_id!r} is not an order status.")
    for name in ("external_order_id", "staff_notes", "customer_message"):
        if name in body and body[name] is not None and not isinstance(body[name], str):
            raise ApiError("v2", 400, f"The field '{name}' is invalid.")
    order.status_id = status_id
    order.external_order_id = body.get("external_order_id", order.external_order_id)
    order.staff_notes = body.get("staff_notes", order.staff_notes) or ""
    order.customer_message = body.get("customer_message", order.customer_message) or ""
    store.touch_order(order)


def orders_v2_router(store: BigCommerceStore) -> APIRouter:
    router = APIRouter(prefix="/stores/{store_hash}/v2")
    store_hash = store.settings.store_hash

    def order_of(order_id: int) -> Order:
        order = store.order(order_id)
        if order is None:
            raise _not_found()
        return order

    @router.get("/orders")
    async def list_orders(request: Request) -> Response:
        page = page_request(request, "v2")
        orders = page.slice(_filtered_orders(store, request))
        include = _includes(request)
        return _page_or_204([render_order(o, store_hash, include) for o in orders])

    @router.get("/orders/count")
    async def count_orders() -> ApiJSONResponse:
        statuses = [
            {**render_status(status_id), "count": sum(1 for o in store.orders.values() if o.status_id == status_id)}
            for status_id in ORDER_STATUSES
        ]
        return ApiJSONResponse({"statuses": statuses, "count": len(store.orders)})

    @router.get("/orders/{order_id}")
    async def get_order(request: Request, order_id: int) -> ApiJSONResponse:
        return ApiJSONResponse(render_order(order_of(order_id), store_hash, _includes(request)))

    @router.put("/orders/{order_id}")
    async def update_order(request: Request, order_id: int) -> ApiJSONResponse:
        order = order_of(order_id)
        _apply_update(store, order, await read_json(request, "v2"))
        return ApiJSONResponse(render_order(order, store_hash))

    @router.get("/orders/{order_id}/products")
    async def list_order_products(request: Request, order_id: int) -> Response:
        order = order_of(order_id)
        page = page_request(request, "v2")
        return _page_or_204([render_line(line) for line in page.slice(order.lines)])

    @router.get("/orders/{order_id}/shipping_addresses")
    async def list_shipping_addresses(request: Request, order_id: int) -> Response:
        order = order_of(order_id)
        page = page_request(request, "v2")
        return _page_or_204([render_address(a, order) for a in page.slice(order.addresses)])

    @router.get("/orders/{order_id}/shipments")
    async def list_shipments(request: Request, order_id: int) -> Response:
        order_of(order_id)
        page = page_request(request, "v2")
        return _page_or_204(page.slice([s for s in store.shipments if s["order_id"] == order_id]))

    @router.post("/orders/{order_id}/shipments")
    async def post_shipment(request: Request, order_id: int) -> ApiJSONResponse:
        order = order_of(order_id)
        shipment = create_shipment(store, order, await read_json(request, "v2"))
        return ApiJSONResponse(shipment, status_code=201)

    @router.get("/order_statuses")
    async def list_statuses() -> ApiJSONResponse:
        return ApiJSONResponse([render_status(status_id) for status_id in ORDER_STATUSES])

    return router
