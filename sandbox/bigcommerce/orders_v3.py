"""Orders v3 routes: order metafields, transactions and payment actions (refund quotes, refunds, listings).

Refund listings answer `{data, meta: {}}` as `metaEmpty_Full` in orders.v3.yml says, although they take
`page`/`limit`: a client has to page until a short page, exactly as against a real store (bigcommerce.md §5.3).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.metafield_api import (
    batch_create,
    batch_update,
    caller_client,
    create_metafield,
    list_metafields,
    update_metafield,
)
from sandbox.bigcommerce.paging import page_request
from sandbox.bigcommerce.refunds import create_refund, plan_refund, quote, transactions
from sandbox.bigcommerce.store import BigCommerceStore, Order
from sandbox.bigcommerce.wire import ApiJSONResponse, parse_datetime, parse_int_list, read_json

__all__ = ["orders_v3_router"]


def orders_v3_router(store: BigCommerceStore) -> APIRouter:
    router = APIRouter(prefix="/stores/{store_hash}/v3/orders")

    def order_of(order_id: int) -> Order:
        order = store.order(order_id)
        if order is None:
            raise ApiError("v3", 404, f"Order {order_id} not found")
        return order

    @router.get("/payment_actions/refunds")
    async def list_all_refunds(request: Request) -> ApiJSONResponse:
        page = page_request(request, "v3")
        query = request.query_params
        order_ids = parse_int_list(query.get("order_id:in"), field="order_id:in", version="v3")
        refund_ids = parse_int_list(query.get("id:in"), field="id:in", version="v3")
        bounds = {}
        for name in ("created:min", "created:max"):
            if (raw := query.get(name)) is not None:
                parsed = parse_datetime(raw)
                if parsed is None:
                    raise ApiError("v3", 422, "JSON data is missing or invalid", errors={name: "must be RFC 3339"})
                bounds[name] = parsed
        refunds = [
            r
            for r in store.refunds
            if (order_ids is None or r["order_id"] in order_ids)
            and (refund_ids is None or r["id"] in refund_ids)
            and ("created:min" not in bounds or r["created"] >= bounds["created:min"])
            and ("created:max" not in bounds or r["created"] <= bounds["created:max"])
        ]
        return ApiJSONResponse({"data": page.slice(refunds), "meta": {}})

    @router.get("/{order_id}/payment_actions/refunds")
    async def list_order_refunds(order_id: int) -> ApiJSONResponse:
        order_of(order_id)
        return ApiJSONResponse({"data": [r for r in store.refunds if r["order_id"] == order_id], "meta": {}})

    @router.post("/{order_id}/payment_actions/refund_quotes")
    async def post_refund_quote(request: Request, order_id: int) -> ApiJSONResponse:
        order = order_of(order_id)
        plan = plan_refund(order, await read_json(request, "v3"))
        return ApiJSONResponse({"data": quote(order, plan), "meta": {}}, status_code=201)

    @router.post("/{order_id}/payment_actions/refunds")
    async def post_refund(request: Request, order_id: int) -> ApiJSONResponse:
        order = order_of(order_id)
        refund = create_refund(store, order, await read_json(request, "v3"))
        return ApiJSONResponse({"data": refund, "meta": {}}, status_code=201)

    @router.get("/{order_id}/transactions")
    async def list_transactions(order_id: int) -> ApiJSONResponse:
        """orders.v3.yml getOrderTransactions: `{data: [Transaction], meta}`."""
        return ApiJSONResponse({"data": transactions(store, order_of(order_id)), "meta": {}})

    # orders.v3.yml, tag "Batch metafields", path `/orders/metafields`: GET "Get All Order Metafields"
    # (getOrdersMetafields, MetaFieldCollectionResponse), POST "Create multiple Metafields" (items
    # MetafieldBase_Post + required `resource_id`, "The ID for the order with which the metafield is
    # associated"), PUT "Update multiple Metafields" (items MetafieldBase_Post + required `id`; MetafieldBase_Post
    # requires permission_set, namespace, key and value). Both writes answer 200
    # MetaFieldCollectionResponse_POST_PUT, or 422 MetaFieldCollectionResponsePartialSuccess_POST_PUT
    # ("Response object for metafields creation with partial success"). The spec states no item limit.
    @router.get("/metafields")
    async def list_all_order_metafields(request: Request) -> ApiJSONResponse:
        return ApiJSONResponse(list_metafields(request, store, "order", resource_ids=None))

    @router.post("/metafields")
    async def create_order_metafields(request: Request) -> ApiJSONResponse:
        items = await read_json(request, "v3")
        status, body = batch_create(store, "order", items, store.orders.__contains__, caller_client(request))
        return ApiJSONResponse(body, status_code=status)

    @router.put("/metafields")
    async def update_order_metafields(request: Request) -> ApiJSONResponse:
        items = await read_json(request, "v3")
        status, body = batch_update(store, "order", items, caller_client(request), complete=True)
        return ApiJSONResponse(body, status_code=status)

    @router.get("/{order_id}/metafields")
    async def list_order_metafields(request: Request, order_id: int) -> ApiJSONResponse:
        order_of(order_id)
        return ApiJSONResponse(list_metafields(request, store, "order", resource_ids=[order_id]))

    @router.post("/{order_id}/metafields")
    async def create_order_metafield(request: Request, order_id: int) -> ApiJSONResponse:
        order_of(order_id)
        record = create_metafield(store, "order", order_id, await read_json(request, "v3"), caller_client(request))
        return ApiJSONResponse({"data": record, "meta": {}})

    @router.put("/{order_id}/metafields/{metafield_id}")
    async def update_order_metafield(request: Request, order_id: int, metafield_id: int) -> ApiJSONResponse:
        order_of(order_id)
        record = store.metafields.records.get(metafield_id)
        if record is None or record["resource_type"] != "order" or record["resource_id"] != order_id:
            raise ApiError("v3", 404, f"Metafield {metafield_id} not found on order {order_id}")
        # orders.v3.yml, PUT /orders/{order_id}/metafields/{metafield_id}: body `MetafieldPut` = allOf
        # `MetafieldBase_Post`, required [permission_set, namespace, key, value]; a value-only body is refused.
        body = await read_json(request, "v3")
        updated = update_metafield(store, record, body, caller_client(request), complete=True)
        return ApiJSONResponse({"data": updated, "meta": {}})

    return router
