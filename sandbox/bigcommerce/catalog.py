"""Catalog v3 routes: products, variants, the 50-variant batch update, variant metafields.

Batch variant updates are all-or-nothing: when any item fails validation (or the fault injector rejects it) the
call answers 422 and applies nothing. The body is `{"batch_errors": [...]}` with ONE entry per failing item:
`errors` is keyed `"<index>.<field>"` (index = position in the request array, 0-based), and `instance` is
`"/v3/catalog/variants?id=<variant_id>"` (a URI reference that lists the failing variant; `"/v3/catalog/variants"`
when the item had no usable id). A client finds the item by the index prefix of any error key and cross-checks the
variant id from the `id` query parameter of `instance`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from sandbox.bigcommerce.catalog_records import product_record, variant_record
from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.metafield_api import (
    batch_create,
    batch_update,
    caller_client,
    create_metafield,
    list_metafields,
)
from sandbox.bigcommerce.paging import collection, page_request
from sandbox.bigcommerce.settings import ERROR_TYPE, MAX_INVENTORY_LEVEL, MAX_VARIANT_BATCH
from sandbox.bigcommerce.store import BigCommerceStore, calculated_price
from sandbox.bigcommerce.wire import ApiJSONResponse, parse_int_list, parse_money, read_json
from sandbox.faults import FaultInjector

__all__ = ["catalog_router"]

_MONEY_FIELDS = ("price", "sale_price", "retail_price", "cost_price", "map_price")
_MEASURE_FIELDS = ("weight", "width", "height", "depth", "fixed_cost_shipping_price")
_COUNT_FIELDS = ("inventory_level", "inventory_warning_level")
_FLAG_FIELDS = ("purchasing_disabled", "is_free_shipping")
_TEXT_LIMITS = {
    "purchasing_disabled_message": 255,
    "upc": 14,
    "mpn": 255,
    "gtin": 255,
    "bin_picking_number": 255,
    "image_url": 255,
}


def _project(record: dict[str, Any], request: Request) -> dict[str, Any]:
    include = request.query_params.get("include_fields")
    exclude = request.query_params.get("exclude_fields")
    if include:
        wanted = set(include.split(","))
        return {k: v for k, v in record.items() if k == "id" or k in wanted}
    if exclude:
        dropped = set(exclude.split(",")) - {"id"}
        return {k: v for k, v in record.items() if k not in dropped}
    return record


def _variant_item_errors(
    store: BigCommerceStore, index: int, item: Any, skus_in_batch: dict[str, int]
) -> dict[str, str]:
    """`"<index>.<field>"` → message for one item of a batch update; empty when the item is valid."""
    if not isinstance(item, dict):
        return {f"{index}": "must be an object"}
    errors: dict[str, str] = {}
    variant_id = item.get("id")
    variant = store.variant(variant_id) if isinstance(variant_id, int) and not isinstance(variant_id, bool) else None
    if variant is None:
        errors[f"{index}.id"] = "is required" if variant_id is None else f"variant {variant_id} does not exist"
    for name in _MONEY_FIELDS + _MEASURE_FIELDS:
        if name in item and item[name] is not None:
            value = parse_money(item[name], allow_string=False)
            if value is None or value < 0:
                errors[f"{index}.{name}"] = "must be a number greater than or equal to 0"
    for name in _COUNT_FIELDS:
        if name in item:
            value = item[name]
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_INVENTORY_LEVEL:
                errors[f"{index}.{name}"] = f"must be an integer from 0 to {MAX_INVENTORY_LEVEL}"
    for name in _FLAG_FIELDS:
        if name in item and not isinstance(item[name], bool):
            errors[f"{index}.{name}"] = "must be a boolean"
    for name, limit in _TEXT_LIMITS.items():
        if name in item and not (isinstance(item[name], str) and len(item[name]) <= limit):
            errors[f"{index}.{name}"] = f"must be a string of at most {limit} characters"
    if "sku" in item:
        sku = item["sku"]
        owner = store.variant_id_by_sku.get(sku) if isinstance(sku, str) else None
        if not isinstance(sku, str) or not 1 <= len(sku) <= 255:
            errors[f"{index}.sku"] = "must be a string of 1 to 255 characters"
        elif (owner is not None and owner != variant_id) or skus_in_batch.setdefault(sku, index) != index:
            errors[f"{index}.sku"] = f"SKU {sku} is already used by another variant"
    if variant is not None and "product_id" in item and item["product_id"] != variant["product_id"]:
        errors[f"{index}.product_id"] = "a variant cannot move to another product"
    return errors


def _variant_changes(item: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in _MONEY_FIELDS + _MEASURE_FIELDS:
        if name in item:
            changes[name] = None if item[name] is None else Decimal(item[name])
    for name in (*_COUNT_FIELDS, *_FLAG_FIELDS, *_TEXT_LIMITS, "sku"):
        if name in item:
            changes[name] = item[name]
    return changes


def _batch_error(index: int, item: Any, errors: dict[str, str], title: str) -> dict[str, Any]:
    variant_id = item.get("id") if isinstance(item, dict) else None
    usable = isinstance(variant_id, int) and not isinstance(variant_id, bool)
    return {
        "status": 422,
        "title": f"{title} (item {index}{f', variant {variant_id}' if usable else ''})",
        "type": ERROR_TYPE,
        "instance": f"/v3/catalog/variants?id={variant_id}" if usable else "/v3/catalog/variants",
        "errors": errors,
    }


def _new_product(store: BigCommerceStore, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError("v3", 422, "JSON data is missing or invalid", errors={"body": "must be an object"})
    errors = {name: "error.path.missing" for name in ("name", "type", "weight", "price") if name not in body}
    name = body.get("name")
    if "name" in body and not (isinstance(name, str) and 1 <= len(name) <= 250):
        errors["name"] = "must be a string of 1 to 250 characters"
    if "type" in body and body["type"] not in ("physical", "digital"):
        errors["type"] = "must be physical or digital"
    price = parse_money(body.get("price"), allow_string=False)
    if "price" in body and (price is None or price < 0):
        errors["price"] = "must be a number greater than or equal to 0"
    weight = parse_money(body.get("weight"), allow_string=False)
    if "weight" in body and (weight is None or weight < 0):
        errors["weight"] = "must be a number greater than or equal to 0"
    tracking = body.get("inventory_tracking", "none")
    if tracking not in ("none", "product", "variant"):
        errors["inventory_tracking"] = "must be none, product or variant"
    variants = body.get("variants") or [{"sku": body.get("sku", ""), "price": None}]
    skus = [v.get("sku") if isinstance(v, dict) else None for v in variants]
    for index, sku in enumerate(skus):
        if not isinstance(sku, str) or len(sku) > 255:
            errors[f"variants.{index}.sku"] = "must be a string of at most 255 characters"
    if errors:
        raise ApiError("v3", 422, "JSON data is missing or invalid", errors=errors)
    taken = {
        f"variants.{index}.sku": f"SKU {sku} is not unique"
        for index, sku in enumerate(skus)
        if sku and (sku in store.variant_id_by_sku or skus.count(sku) > 1)
    }
    if taken:
        raise ApiError("v3", 409, "The SKU is a duplicate", errors=taken)
    if name in store.product_id_by_name:
        raise ApiError("v3", 409, f"The product name is a duplicate: {name}", errors={"name": "duplicate"})
    product_id = store.next_id("product")
    assert price is not None and weight is not None
    product = product_record(
        product_id,
        name=name,
        sku=body.get("sku", ""),
        price=price,
        now=store.now(),
        product_type=body["type"],
        weight=weight,
        inventory_tracking=tracking,
        is_visible=bool(body.get("is_visible", True)),
        availability=body.get("availability", "available"),
    )
    records = []
    for index, spec in enumerate(variants):
        variant_price = parse_money(spec.get("price"), allow_string=False)
        level = spec.get("inventory_level", 0)
        record = variant_record(
            store.next_id("variant"),
            product_id=product_id,
            sku=spec["sku"],
            price=variant_price,
            inventory_level=level if isinstance(level, int) else 0,
            base=index == 0 and not body.get("variants"),
            sku_id=product_id * 1000 + index,
        )
        record["purchasing_disabled"] = bool(spec.get("purchasing_disabled", False))
        record["calculated_price"] = calculated_price(record, product)
        records.append(record)
    store.add_product(product, records)
    return {**product, "variants": records}


def catalog_router(store: BigCommerceStore, faults: FaultInjector) -> APIRouter:
    router = APIRouter(prefix="/stores/{store_hash}/v3/catalog")

    def with_variants(product: dict[str, Any], request: Request) -> dict[str, Any]:
        rendered = _project(product, request)
        if "variants" in request.query_params.get("include", "").split(","):
            rendered = {
                **rendered,
                "variants": [store.variants[v] for v in store.variant_ids_by_product[product["id"]]],
            }
        return rendered

    @router.get("/products")
    async def list_products(request: Request) -> ApiJSONResponse:
        page = page_request(request, "v3")
        query = request.query_params
        ids = parse_int_list(query.get("id:in"), field="id:in", version="v3")
        if query.get("id") is not None:
            ids = parse_int_list(query["id"], field="id", version="v3")
        skus = query["sku:in"].split(",") if query.get("sku:in") else None
        if query.get("sku") is not None:
            skus = [query["sku"]]
        candidates: list[int] = store.product_ids
        if ids is not None:
            candidates = [i for i in sorted(set(ids)) if i in store.products]
        if skus is not None:
            by_sku = {store.product_id_by_sku[s] for s in skus if s in store.product_id_by_sku}
            candidates = [i for i in candidates if i in by_sku] if ids is not None else sorted(by_sku)
        if query.get("name") is not None:
            candidates = [i for i in candidates if store.products[i]["name"] == query["name"]]
        chosen = page.slice(candidates)
        data = [with_variants(store.products[i], request) for i in chosen]
        return ApiJSONResponse(collection(request, page, len(candidates), data))

    @router.post("/products")
    async def create_product(request: Request) -> ApiJSONResponse:
        product = _new_product(store, await read_json(request, "v3"))
        return ApiJSONResponse({"data": product, "meta": {}})

    @router.get("/products/{product_id}")
    async def get_product(request: Request, product_id: int) -> ApiJSONResponse:
        product = store.products.get(product_id)
        if product is None:
            raise ApiError("v3", 404, "The requested product was not found.")
        return ApiJSONResponse({"data": with_variants(product, request), "meta": {}})

    @router.get("/products/{product_id}/variants")
    async def list_product_variants(request: Request, product_id: int) -> ApiJSONResponse:
        if product_id not in store.products:
            raise ApiError("v3", 404, "The requested product was not found.")
        page = page_request(request, "v3")
        ids = store.variant_ids_by_product[product_id]
        data = [_project(store.variants[i], request) for i in page.slice(ids)]
        return ApiJSONResponse(collection(request, page, len(ids), data))

    @router.get("/variants")
    async def list_variants(request: Request) -> ApiJSONResponse:
        page = page_request(request, "v3")
        query = request.query_params
        candidates: list[int] = store.variant_ids
        filtered: set[int] | None = None

        def narrow(ids: set[int]) -> None:
            nonlocal filtered
            filtered = ids if filtered is None else filtered & ids

        # product-variants_catalog.v3.yml, GET /catalog/variants documents only `id` ("Filter items by variant
        # ID", integer), `sku` ("Filter items by variant SKU", string), `upc` and `product_id:in`. `id:in` and
        # `sku:in` are not documented, so they are ignored here, as by an API that does not know them.
        if (raw := query.get("id")) is not None:
            narrow({i for i in parse_int_list(raw, field="id", version="v3") or [] if i in store.variants})
        if (raw := query.get("sku")) is not None:
            narrow({store.variant_id_by_sku[raw]} if raw in store.variant_id_by_sku else set())
        if (raw := query.get("product_id:in")) is not None:
            products = parse_int_list(raw, field="product_id:in", version="v3") or []
            narrow({v for p in products for v in store.variant_ids_by_product.get(p, ())})
        if filtered is not None:
            candidates = sorted(filtered)
        if (upc := query.get("upc")) is not None:
            candidates = [i for i in candidates if store.variants[i]["upc"] == upc]
        data = [_project(store.variants[i], request) for i in page.slice(candidates)]
        return ApiJSONResponse(collection(request, page, len(candidates), data))

    @router.put("/variants")
    async def update_variants(request: Request) -> ApiJSONResponse:
        items = await read_json(request, "v3")
        if not isinstance(items, list):
            raise ApiError(
                "v3", 422, "JSON data is missing or invalid", errors={"body": "must be an array of variants"}
            )
        if len(items) > MAX_VARIANT_BATCH:
            raise ApiError(
                "v3",
                413,
                f"The request payload is too large. The maximum items allowed in the array is {MAX_VARIANT_BATCH}",
                errors={},
            )
        batch_errors: list[dict[str, Any]] = []
        skus_in_batch: dict[str, int] = {}
        for index, item in enumerate(items):
            errors = _variant_item_errors(store, index, item, skus_in_batch)
            if errors:
                batch_errors.append(_batch_error(index, item, errors, "JSON data is missing or invalid"))
            elif faults.item_rejected(request.method, request.url.path):
                rejected = {f"{index}.id": "the variant could not be saved"}
                batch_errors.append(_batch_error(index, item, rejected, "The variant could not be updated"))
        if batch_errors:
            raise ApiError("v3", 422, "Batch failed", body={"batch_errors": batch_errors})
        updated = []
        for item in items:
            variant = store.variants[item["id"]]
            store.set_variant_fields(variant, _variant_changes(item))
            store.variant_writes[variant["id"]] += 1
            updated.append(variant)
        return ApiJSONResponse({"data": updated, "meta": {}})

    @router.get("/variants/metafields")
    async def list_variant_metafields(request: Request) -> ApiJSONResponse:
        return ApiJSONResponse(list_metafields(request, store, "variant"))

    @router.post("/variants/metafields")
    async def create_variant_metafields(request: Request) -> ApiJSONResponse:
        items = await read_json(request, "v3")
        status, body = batch_create(store, "variant", items, lambda i: i in store.variants, caller_client(request))
        return ApiJSONResponse(body, status_code=status)

    @router.put("/variants/metafields")
    async def update_variant_metafields(request: Request) -> ApiJSONResponse:
        status, body = batch_update(store, "variant", await read_json(request, "v3"), caller_client(request))
        return ApiJSONResponse(body, status_code=status)

    def variant_of(product_id: int, variant_id: int) -> dict[str, Any]:
        # The spec says product_id is only there for path consistency, so only the variant is checked.
        variant = store.variant(variant_id)
        if variant is None:
            raise ApiError("v3", 404, "The requested variant was not found.")
        return variant

    @router.get("/products/{product_id}/variants/{variant_id}/metafields")
    async def list_one_variant_metafields(request: Request, product_id: int, variant_id: int) -> ApiJSONResponse:
        variant = variant_of(product_id, variant_id)
        body = list_metafields(request, store, "variant", resource_ids=[variant["id"]])
        return ApiJSONResponse(body)

    @router.post("/products/{product_id}/variants/{variant_id}/metafields")
    async def create_one_variant_metafield(request: Request, product_id: int, variant_id: int) -> ApiJSONResponse:
        variant = variant_of(product_id, variant_id)
        body = await read_json(request, "v3")
        record = create_metafield(store, "variant", variant["id"], body, caller_client(request))
        return ApiJSONResponse({"data": record, "meta": {}})

    return router
