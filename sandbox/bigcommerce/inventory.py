"""Inventory v3 routes: absolute adjustments, inventory items, locations.

Absolute adjustments accept up to 2000 items identified by `variant_id`, `sku` or `product_id` plus a
`location_id`; a bad item rejects the whole request and nothing is saved, answered as `application/problem+json`
(bigcommerce.md §2.1). Only the default location exists, and it feeds the catalog's `inventory_level`.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.paging import collection, page_request
from sandbox.bigcommerce.settings import MAX_ABSOLUTE_ADJUSTMENT_ITEMS, MAX_INVENTORY_LEVEL, MAX_INVENTORY_PAGE_LIMIT
from sandbox.bigcommerce.store import BigCommerceStore
from sandbox.bigcommerce.wire import ApiJSONResponse, parse_int_list, read_json

__all__ = ["inventory_router"]


def _problem(status: int, title: str, errors: dict[str, str] | None = None) -> ApiError:
    return ApiError("v3", status, title, errors=errors or {}, problem_json=True)


def _resolve(store: BigCommerceStore, index: int, item: Any) -> tuple[int, int]:
    """(variant_id, quantity) for one adjustment item, or the 422 a real store gives."""
    if not isinstance(item, dict):
        raise _problem(422, "Payload contains invalid fields", {f"items.{index}": "must be an object"})
    identities = [name for name in ("variant_id", "sku", "product_id") if name in item]
    if len(identities) != 1:
        raise _problem(
            422, "Payload contains invalid fields", {f"items.{index}": "exactly one of variant_id, sku, product_id"}
        )
    location_id = item.get("location_id")
    if location_id not in store.locations:
        raise _problem(
            422, f"Location {location_id} does not exist", {f"items.{index}.location_id": "unknown location"}
        )
    quantity = item.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= MAX_INVENTORY_LEVEL:
        raise _problem(
            422, "Payload contains invalid fields", {f"items.{index}.quantity": f"must be 0 to {MAX_INVENTORY_LEVEL}"}
        )
    if "product_id" in item:
        product = store.products.get(item["product_id"])
        if product is None:
            raise _problem(422, f"[Item with product_id {item['product_id']} does not exist]")
        if product["inventory_tracking"] == "variant":
            raise _problem(
                422,
                f"[Item with product_id {product['id']} is tracked by variant, please update stock by variant id]",
            )
        return product["base_variant_id"], quantity
    variant = store.variant(item["variant_id"]) if "variant_id" in item else store.variant_by_sku(str(item["sku"]))
    if variant is None:
        name = identities[0]
        raise _problem(422, f"[Item with {name} {item[name]} does not exist]")
    if store.products[variant["product_id"]]["inventory_tracking"] == "product":
        raise _problem(
            422,
            f"[Item with variant_id {variant['id']} is tracked by product, please update stock by product id]",
        )
    return variant["id"], quantity


def _item(store: BigCommerceStore, variant: dict[str, Any]) -> dict[str, Any]:
    location = store.locations[store.default_location_id]
    level = variant["inventory_level"]
    return {
        "identity": {
            "sku": variant["sku"],
            "variant_id": variant["id"],
            "product_id": variant["product_id"],
            "sku_id": variant["sku_id"],
        },
        "locations": [
            {
                "location_id": location["id"],
                "location_code": location["code"],
                "location_name": location["label"],
                "available_to_sell": level,
                "total_inventory_onhand": level,
                "location_enabled": location["enabled"],
                "settings": {
                    "safety_stock": 0,
                    "is_in_stock": True,
                    "warning_level": variant["inventory_warning_level"],
                    "bin_picking_number": variant["bin_picking_number"],
                },
            }
        ],
    }


def inventory_router(store: BigCommerceStore) -> APIRouter:
    router = APIRouter(prefix="/stores/{store_hash}/v3/inventory")

    @router.put("/adjustments/absolute")
    async def absolute_adjustment(request: Request) -> ApiJSONResponse:
        body = await read_json(request, "v3")
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise _problem(422, "Payload contains invalid fields", {"items": "error.path.missing"})
        if len(items) > MAX_ABSOLUTE_ADJUSTMENT_ITEMS:
            raise _problem(
                413,
                "The request payload is too large. The maximum items allowed in the array is "
                f"{MAX_ABSOLUTE_ADJUSTMENT_ITEMS}",
            )
        resolved = [_resolve(store, index, item) for index, item in enumerate(items)]
        for variant_id, quantity in resolved:
            store.set_inventory_level(variant_id, quantity)
        transaction_id = str(uuid.uuid4())
        store.inventory_transactions.append(
            {"transaction_id": transaction_id, "reason": body.get("reason", ""), "items": len(resolved)}
        )
        return ApiJSONResponse({"transaction_id": transaction_id})

    @router.get("/items")
    async def list_items(request: Request) -> ApiJSONResponse:
        page = page_request(request, "v3", max_limit=MAX_INVENTORY_PAGE_LIMIT)
        query = request.query_params
        filtered: set[int] | None = None
        if (raw := query.get("sku:in")) is not None:
            filtered = {store.variant_id_by_sku[s] for s in raw.split(",") if s in store.variant_id_by_sku}
        if (raw := query.get("variant_id:in")) is not None:
            ids = {i for i in parse_int_list(raw, field="variant_id:in", version="v3") or [] if i in store.variants}
            filtered = ids if filtered is None else filtered & ids
        if (raw := query.get("product_id:in")) is not None:
            products = parse_int_list(raw, field="product_id:in", version="v3") or []
            ids = {v for p in products for v in store.variant_ids_by_product.get(p, ())}
            filtered = ids if filtered is None else filtered & ids
        locations = parse_int_list(query.get("location_id:in"), field="location_id:in", version="v3")
        candidates = store.variant_ids if filtered is None else sorted(filtered)
        if locations is not None and store.default_location_id not in locations:
            candidates = []
        data = [_item(store, store.variants[i]) for i in page.slice(candidates)]
        return ApiJSONResponse(collection(request, page, len(candidates), data))

    @router.get("/locations")
    async def list_locations(request: Request) -> ApiJSONResponse:
        page = page_request(request, "v3")
        locations = list(store.locations.values())
        data = page.slice(locations)
        return ApiJSONResponse(collection(request, page, len(locations), data))

    return router
