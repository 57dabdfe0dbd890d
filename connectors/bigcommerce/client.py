"""The BigCommerce client: one async method per API operation the bridge uses, returning typed models.

Every request goes through the shared `ApiTransport` (quota pacing, error classification, call counters, retries),
which reads the body inside each attempt, so a truncated 200 is retried exactly like a 500. Writes that are not
safe to repeat (creating shipments, refunds, metafields, hooks, products) are sent `repeatable=False`: retried
only on 429, which BigCommerce answers before doing anything; after a timeout or a 5xx such a write may have
happened, so the caller must reconcile before trying again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

from connectors.bigcommerce import settings
from connectors.bigcommerce.batches import locate_rejected_variants, unsaved_metafields
from connectors.bigcommerce.errors import BatchRejectedError, map_bigcommerce_error
from connectors.bigcommerce.matching import Sweep, iter_matching
from connectors.bigcommerce.models import (
    InventoryAdjustment,
    InventoryItem,
    Location,
    MerchantOverride,
    Metafield,
    MetafieldBatchResult,
    MetafieldCreate,
    MetafieldUpdate,
    Order,
    OrderProduct,
    OrderStatus,
    Product,
    ProductCreate,
    Refund,
    RefundItem,
    RefundPaymentRequest,
    RefundQuote,
    SavedMetafield,
    Shipment,
    ShipmentCreate,
    ShippingAddress,
    Transaction,
    UpdatedVariant,
    Variant,
    VariantBatchResult,
    VariantUpdate,
    Webhook,
    describe_validation_error,
)
from connectors.bigcommerce.pagination import CursorPaginator, ResponsePaginator, V2PagePaginator, V3OffsetPaginator
from connectors.http import (
    DEFAULT_RETRY_POLICY,
    ApiTransport,
    ConfigurationError,
    MalformedResponseError,
    QuotaLimiter,
    RetryPolicy,
    parse_page,
)
from connectors.http.records import DataList, data_adapter, list_adapter
from connectors.http.retry import Sleep
from connectors.http.transport import api_http_client

__all__ = ["BigCommerceClient"]

M = TypeVar("M", bound=BaseModel)


class BigCommerceClient:
    """Async client for one store's REST Management API (v2 orders, v3 catalog/inventory/refunds/hooks)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        store_hash: str,
        *,
        limiter: QuotaLimiter | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        sleep: Sleep | None = None,
        rand: Callable[[], float] | None = None,
        location_id: int | None = None,
    ) -> None:
        if not store_hash or "/" in store_hash:
            raise ConfigurationError("BigCommerce store_hash is missing or malformed")
        self.http = http
        self.store_hash = store_hash
        self.transport = ApiTransport(
            http,
            system=settings.SYSTEM,
            error_mapper=map_bigcommerce_error,
            limiter=limiter,
            retry_policy=retry_policy,
            sleep=sleep,
            rand=rand,
        )
        self._v2 = settings.V2.format(store_hash=quote(store_hash, safe=""))
        self._v3 = settings.V3.format(store_hash=quote(store_hash, safe=""))
        self._owns_http = False
        self._location_id = location_id  # configured stock location; None: the store's default location
        self._default_location_id: int | None = None

    @classmethod
    def create(
        cls,
        base_url: str,
        store_hash: str,
        access_token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        reserve_share: float = 0.1,
        **kwargs: Any,
    ) -> BigCommerceClient:
        """A client with its own `httpx.AsyncClient` and quota limiter; the only place the token is set.

        Args:
            base_url: `https://api.bigcommerce.com` for a real store, or the sandbox's URL with its path prefix.
            store_hash: the store's permanent id.
            access_token: the API account's token, sent as `X-Auth-Token`.
            transport: an httpx transport to use instead of the network (tests, the in-process sandbox).
            timeout: seconds for connect, read, write and pool waits.
            reserve_share: share of the store quota left for the store's other apps.
            **kwargs: passed to `__init__` (`limiter`, `retry_policy`, `sleep`, `rand`, `location_id`).

        Raises:
            ConfigurationError: a setting is missing or malformed.
        """
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError("BigCommerce base_url must start with http:// or https://")
        if not access_token:
            raise ConfigurationError("BigCommerce access_token is missing")
        if kwargs.get("limiter") is None:
            limiter_kwargs = {"sleep": kwargs["sleep"]} if kwargs.get("sleep") is not None else {}
            kwargs["limiter"] = QuotaLimiter(reserve_share=reserve_share, **limiter_kwargs)
        http = api_http_client(
            base_url=base_url.rstrip("/") + "/",
            headers={"X-Auth-Token": access_token, "Accept": "application/json", "User-Agent": settings.USER_AGENT},
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )
        client = cls(http, store_hash, **kwargs)
        client._owns_http = True
        return client

    async def aclose(self) -> None:
        """Close the HTTP client if this client created it (`create`); an injected one belongs to the caller."""
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> BigCommerceClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # --- catalog ---------------------------------------------------------------------------------------------

    def iter_products(self, **filters: Any) -> AsyncIterator[list[Product]]:
        """Pages of products (GET /v3/catalog/products).

        Args:
            **filters: query filters as the API names them (`id:in`, `sku:in`, `include`, `limit`, ...);
                lists are sent comma-separated.

        Returns:
            An async iterator of pages.

        Raises:
            ApiError: a page could not be fetched. A product that does not match `Product` is set aside in the
                page's `rejected` (see `connectors.http.records`).
        """
        return self._iter_v3(f"{settings.PRODUCTS}", "iter_products", filters, Product)

    async def create_product(self, payload: ProductCreate) -> Product:
        """Create one product (POST /v3/catalog/products): by default a hidden, unbuyable draft.

        Args:
            payload: the product; its SKU becomes the base variant's SKU.

        Returns:
            The created product.

        Raises:
            ConflictError: a product with this name or SKU exists. Not repeated after a timeout or 5xx.
        """
        body = await self._json(
            "POST", f"{self._v3}/{settings.PRODUCTS}", "create_product", json_body=payload.to_api(), repeatable=False
        )
        return self._one(Product, _v3_object(body, "create_product"), "create_product")

    def iter_variants(self, **filters: Any) -> AsyncIterator[list[Variant]]:
        """Pages of variants across the catalog (GET /v3/catalog/variants).

        Args:
            **filters: `product_id:in`, `sku`, `id:in`, `include_fields`, `limit` (default 250), ...

        Returns:
            An async iterator of pages.

        Raises:
            ApiError: a page could not be fetched.
        """
        return self._iter_v3(settings.VARIANTS, "iter_variants", filters, Variant)

    def iter_variants_by_id(
        self, variant_ids: Iterable[int], *, fields: Sequence[str] | None = None, sweep: Sweep[Variant] | None = None
    ) -> AsyncIterator[list[Variant]]:
        """Pages of exactly these variants (`id:in`, undocumented: every row checked, see `matching`).

        `fields` lists only those fields with the id (`include_fields`, documented on GET /v3/catalog/variants:
        "The ID and the specified fields will be returned"): a first sync lists a whole catalog, and most of a
        variant's fields are not read by a caller that only maps SKUs. `sweep` keeps the other variants it wants
        if the store ignores the filter (see `matching.Sweep`).
        """
        return iter_matching(
            lambda chunk: self.iter_variants(**{"id:in": chunk}, **_included(fields)),
            (int(v) for v in variant_ids),
            lambda variant: variant.id,
            settings.IDS_PER_FILTER,
            operation="iter_variants",
            sweep=sweep,
        )

    def iter_variants_by_sku(
        self, skus: Iterable[str], *, fields: Sequence[str] | None = None
    ) -> AsyncIterator[list[Variant]]:
        """Pages of the variants with these SKUs (`sku:in`, undocumented: every row checked, see `matching`);
        `fields` as for `iter_variants_by_id` (the SKU is always asked: it is how rows are matched)."""
        wanted = None if fields is None else ["sku", *(name for name in fields if name != "sku")]
        return iter_matching(
            lambda chunk: self.iter_variants(**{"sku:in": chunk}, **_included(wanted)),
            skus,
            lambda variant: variant.sku,
            settings.SKUS_PER_FILTER,
            operation="iter_variants",
        )

    async def update_variants(self, items: Sequence[VariantUpdate | Mapping[str, Any]]) -> VariantBatchResult:
        """Update up to 50 variants in one batch (PUT /v3/catalog/variants).

        On 422 with `batch_errors` the refused items are identified (by variant id or index in the error keys
        or `instance`) and the remaining good items are re-submitted once, so one bad price cannot hold back
        the other 49. Every submitted id ends in `updated` or `rejected`.

        Args:
            items: at most 50 updates: models, or bodies already shaped as the endpoint's items (a caller that
                builds them from its own typed data, such as the offer push, skips a model per item).

        Returns:
            The updated variants and, per refused variant id, the API's message.

        Raises:
            ValueError: more than 50 items.
            BatchRejectedError: the API refused the batch without saying which items were at fault.
            ApiError: any other failure.
        """
        if len(items) > settings.VARIANT_BATCH_LIMIT:
            raise ValueError(f"at most {settings.VARIANT_BATCH_LIMIT} variants per batch, got {len(items)}")
        if not items:
            return VariantBatchResult()
        bodies = _bodies(items)
        try:
            return VariantBatchResult(updated=await self._put_variants(bodies))
        except BatchRejectedError as exc:
            rejected = locate_rejected_variants([int(body["id"]) for body in bodies], exc.item_errors)
            if not rejected:
                raise
        remaining = [body for body in bodies if body["id"] not in rejected]
        if not remaining:
            return VariantBatchResult(rejected=rejected)
        try:
            updated = await self._put_variants(remaining)
        except BatchRejectedError as again:
            second = locate_rejected_variants([int(body["id"]) for body in remaining], again.item_errors)
            for body in remaining:
                rejected[body["id"]] = second.get(body["id"], f"refused on re-submission: {again.api_message}")
            return VariantBatchResult(rejected=rejected)
        return VariantBatchResult(updated=updated, rejected=rejected)

    async def _put_variants(self, bodies: list[dict[str, Any]]) -> list[UpdatedVariant]:
        return await self._written("PUT", f"{self._v3}/{settings.VARIANTS}", "update_variants", UpdatedVariant, bodies)

    def iter_variant_metafields(
        self, *, namespace: str | None = None, key: str | None = None, **filters: Any
    ) -> AsyncIterator[list[Metafield]]:
        """Pages of variant metafields visible to this API account (GET /v3/catalog/variants/metafields).

        Args:
            namespace: only this namespace.
            key: only this key.
            **filters: other filters (`key:in`, `namespace:in`, `date_modified:min`, `limit`, ...).

        Returns:
            An async iterator of pages (cursor paging, or page numbers when the API gives no cursor).

        Raises:
            ApiError: a page could not be fetched.
        """
        params = {"namespace": namespace, "key": key, **filters}
        limit = int(params.pop("limit", settings.PAGE_SIZE))
        pager = CursorPaginator("iter_variant_metafields", limit)
        return self._iter(f"{self._v3}/{settings.VARIANT_METAFIELDS}", pager, params, Metafield)

    def iter_variant_metafields_of(
        self, variant_ids: Iterable[int], *, namespace: str, key: str
    ) -> AsyncIterator[list[Metafield]]:
        """Pages of the `namespace.key` metafields of these variants.

        `namespace` and `key` are documented filters; `resource_id:in` is not, so every row is checked (`matching`).
        """

        def key_of(metafield: Metafield) -> int | None:
            return metafield.resource_id if (metafield.namespace, metafield.key) == (namespace, key) else None

        return iter_matching(
            lambda chunk: self.iter_variant_metafields(namespace=namespace, key=key, **{"resource_id:in": chunk}),
            (int(v) for v in variant_ids),
            key_of,
            settings.IDS_PER_FILTER,
            operation="iter_variant_metafields",
        )

    async def create_variant_metafields(
        self, items: Sequence[MetafieldCreate | Mapping[str, Any]]
    ) -> MetafieldBatchResult:
        """Create up to 50 variant metafields (POST /v3/catalog/variants/metafields).

        Args:
            items: metafields, each with `resource_id` = the variant id: models, or bodies already shaped as the
                endpoint's items.

        Returns:
            Saved metafields, and each refused item with the API's message (422 partial success).

        Raises:
            ValueError: more than 50 items, or an item without `resource_id`.
            ApiError: the batch failed as a whole. Not repeated after a timeout or 5xx.
        """
        if any(body.get("resource_id") is None for body in _bodies(items)):
            raise ValueError("variant metafields need resource_id (the variant id)")
        return await self._metafield_batch("POST", settings.VARIANT_METAFIELDS, items, "create_variant_metafields")

    async def update_variant_metafields(
        self, items: Sequence[MetafieldUpdate | Mapping[str, Any]]
    ) -> MetafieldBatchResult:
        """Update up to 50 variant metafields by id (PUT /v3/catalog/variants/metafields).

        Args:
            items: changes, each with the metafield `id`: models, or bodies already shaped as the endpoint's items.

        Returns:
            Saved metafields, and each refused item with the API's message (422 partial success).

        Raises:
            ValueError: more than 50 items.
            ApiError: the batch failed as a whole.
        """
        return await self._metafield_batch("PUT", settings.VARIANT_METAFIELDS, items, "update_variant_metafields")

    async def _metafield_batch(
        self,
        method: str,
        resource: str,
        items: Sequence[MetafieldCreate | MetafieldUpdate | Mapping[str, Any]],
        operation: str,
    ) -> MetafieldBatchResult:
        if len(items) > settings.METAFIELD_BATCH_LIMIT:
            raise ValueError(f"at most {settings.METAFIELD_BATCH_LIMIT} metafields per batch, got {len(items)}")
        if not items:
            return MetafieldBatchResult()
        path = f"{self._v3}/{resource}"
        bodies = _bodies(items)
        try:
            saved = await self._written(method, path, operation, SavedMetafield, bodies, repeatable=method == "PUT")
        except BatchRejectedError as exc:
            accepted = self._page(Metafield, exc.accepted, operation)
            unsaved = unsaved_metafields(bodies, accepted, exc)
            return MetafieldBatchResult(saved=accepted, rejected=[(items[at], message) for at, message in unsaved])
        return MetafieldBatchResult(saved=saved)

    # --- inventory -------------------------------------------------------------------------------------------

    async def adjust_inventory_absolute(
        self, items: Sequence[InventoryAdjustment | Mapping[str, Any]], reason: str
    ) -> str:
        """Set stock levels (PUT /v3/inventory/adjustments/absolute); applied asynchronously by BigCommerce.

        Args:
            items: at most 2000 adjustments, best grouped by location: models, or bodies already shaped as the
                endpoint's items (location_id, quantity and one identity).
            reason: free text recorded with the adjustment.

        Returns:
            The transaction id of the accepted adjustment.

        Raises:
            ValueError: more than 2000 items.
            PermanentApiError: refused (e.g. an item tracked by product addressed by variant); nothing saved.
        """
        if len(items) > settings.INVENTORY_ADJUSTMENT_BATCH_LIMIT:
            raise ValueError(
                f"at most {settings.INVENTORY_ADJUSTMENT_BATCH_LIMIT} adjustments per call, got {len(items)}"
            )
        operation = "adjust_inventory_absolute"
        body = await self._json(
            "PUT",
            f"{self._v3}/{settings.INVENTORY_ABSOLUTE}",
            operation,
            json_body={"reason": reason, "items": _bodies(items)},
        )
        transaction_id = body.get("transaction_id") if isinstance(body, dict) else None
        if transaction_id is None:
            raise MalformedResponseError("no transaction_id", system=settings.SYSTEM, operation=operation, status=200)
        return str(transaction_id)

    def iter_inventory_items(self, **filters: Any) -> AsyncIterator[list[InventoryItem]]:
        """Pages of stock per item and location (GET /v3/inventory/items).

        Args:
            **filters: `sku:in`, `variant_id:in`, `product_id:in`, `location_id:in`, `limit`, ...

        Returns:
            An async iterator of pages; levels may lag recent adjustments.

        Raises:
            ApiError: a page could not be fetched.
        """
        return self._iter_v3(settings.INVENTORY_ITEMS, "iter_inventory_items", filters, InventoryItem)

    async def list_locations(self) -> list[Location]:
        """All inventory locations (GET /v3/inventory/locations).

        Returns:
            The locations, enabled or not.

        Raises:
            ApiError: the list could not be fetched.
        """
        return await _flatten(self._iter_v3(settings.INVENTORY_LOCATIONS, "list_locations", {}, Location))

    async def default_location_id(self) -> int:
        """The location the bridge writes stock to: the configured one, else the store's default location (id 1).

        A Location has no "default" field (the Locations API returns id, code, label, enabled, type_id, ...), so
        it is not read from one: the Catalog API's `inventory_level` is the default location's stock, and the
        inventory docs address it as `location_id: 1` (`../shared/api/bigcommerce.md` §2.3). Either way the
        location must be listed and enabled; no other location is guessed.

        Returns:
            The location id (looked up once per client).

        Raises:
            ConfigurationError: that location is missing or disabled; configure the one to write to.
        """
        if self._default_location_id is None:
            wanted = self._location_id if self._location_id is not None else settings.DEFAULT_LOCATION_ID
            enabled = {loc.id for loc in await self.list_locations() if loc.enabled}
            if wanted not in enabled:
                raise ConfigurationError(
                    f"BigCommerce inventory location {wanted} is missing or disabled: set the location to write "
                    "stock to (BCMIRAKL_BC_LOCATION_ID)"
                )
            self._default_location_id = wanted
        return self._default_location_id

    # --- orders v2 -------------------------------------------------------------------------------------------

    def iter_orders(
        self,
        *,
        min_date_modified: datetime | None = None,
        max_date_modified: datetime | None = None,
        status_id: int | None = None,
        sort: str = "date_modified:asc",
        limit: int = settings.ORDER_PAGE_SIZE,
        with_lines: bool = False,
    ) -> AsyncIterator[list[Order]]:
        """Pages of orders (GET /v2/orders), oldest modification first so a saved cursor only moves forward.

        Args:
            min_date_modified: only orders modified at or after this aware datetime.
            max_date_modified: only orders modified at or before this aware datetime.
            status_id: only this status (the API takes one value).
            sort: `field:asc|desc`.
            limit: page size, at most 250.
            with_lines: ask for every order's lines and shipping addresses in `consignments`
                (`include=consignments.line_items&consignment_structure=object`); read them with
                `connectors.bigcommerce.consignments.embedded_lines_and_addresses`.

        Returns:
            An async iterator of pages; 204 or a short page ends it.

        Raises:
            ValueError: a naive datetime.
            ApiError: a page could not be fetched.
        """
        params = {
            "min_date_modified": _api_datetime(min_date_modified),
            "max_date_modified": _api_datetime(max_date_modified),
            "status_id": status_id,
            "sort": sort,
            **(settings.ORDER_LINES_INCLUDE if with_lines else {}),
        }
        pager = V2PagePaginator("iter_orders", limit)
        return self._iter(f"{self._v2}/{settings.ORDERS}", pager, params, Order)

    async def get_order(self, order_id: int) -> Order:
        """One order (GET /v2/orders/{order_id}).

        Args:
            order_id: the BigCommerce order id.

        Returns:
            The order.

        Raises:
            NotFoundError: no such order.
        """
        body = await self._json("GET", f"{self._v2}/{settings.ORDERS}/{int(order_id)}", "get_order")
        return self._one(Order, body, "get_order")

    async def update_order(self, order_id: int, **fields: Any) -> Order:
        """Change an order (PUT /v2/orders/{order_id}), e.g. `status_id=5` or `external_order_id=...`.

        Args:
            order_id: the BigCommerce order id.
            **fields: order fields as the API names them (Decimals are sent as strings, which v2 accepts).
                A status-only PUT leaves lines and discounts alone.

        Returns:
            The updated order.

        Raises:
            PermanentApiError: refused (e.g. writing a read-only field).
        """
        body = await self._json(
            "PUT", f"{self._v2}/{settings.ORDERS}/{int(order_id)}", "update_order", json_body=to_jsonable_python(fields)
        )
        return self._one(Order, body, "update_order")

    def iter_order_products(
        self, order_id: int, *, limit: int = settings.ORDER_PAGE_SIZE
    ) -> AsyncIterator[list[OrderProduct]]:
        """Pages of an order's lines (GET /v2/orders/{order_id}/products); the API's default 50 would cut orders.

        Args:
            order_id: the BigCommerce order id.
            limit: page size, at most 250.

        Returns:
            An async iterator of pages.

        Raises:
            ApiError: a page could not be fetched.
        """
        pager = V2PagePaginator("iter_order_products", limit)
        return self._iter(f"{self._v2}/{settings.ORDERS}/{int(order_id)}/products", pager, {}, OrderProduct)

    async def list_order_products(self, order_id: int) -> list[OrderProduct]:
        """Every line of an order, all pages (GET /v2/orders/{order_id}/products).

        Args:
            order_id: the BigCommerce order id.

        Returns:
            The lines.

        Raises:
            ApiError: a page could not be fetched.
        """
        return await _flatten(self.iter_order_products(order_id))

    async def list_shipping_addresses(self, order_id: int) -> list[ShippingAddress]:
        """An order's shipping addresses (GET /v2/orders/{order_id}/shipping_addresses). Personal data: never log.

        Args:
            order_id: the BigCommerce order id.

        Returns:
            The addresses; `id` is the `order_address_id` used by shipments and shipping refunds.

        Raises:
            ApiError: the list could not be fetched.
        """
        pager = V2PagePaginator("list_shipping_addresses", settings.ORDER_PAGE_SIZE)
        path = f"{self._v2}/{settings.ORDERS}/{int(order_id)}/shipping_addresses"
        return await _flatten(self._iter(path, pager, {}, ShippingAddress))

    async def create_shipment(self, order_id: int, shipment: ShipmentCreate) -> Shipment:
        """Ship order lines (POST /v2/orders/{order_id}/shipments); may email the customer.

        Args:
            order_id: the BigCommerce order id.
            shipment: address, lines and tracking.

        Returns:
            The created shipment.

        Raises:
            PermanentApiError: refused (e.g. more quantity than remains to ship).
            TransientApiError: not repeated after a timeout or 5xx: check `list_shipments` first.
        """
        body = await self._json(
            "POST",
            f"{self._v2}/{settings.ORDERS}/{int(order_id)}/shipments",
            "create_shipment",
            json_body=shipment.to_api(),
            repeatable=False,
        )
        return self._one(Shipment, body, "create_shipment")

    async def list_shipments(self, order_id: int) -> list[Shipment]:
        """An order's shipments (GET /v2/orders/{order_id}/shipments); 204 means none.

        Args:
            order_id: the BigCommerce order id.

        Returns:
            The shipments, possibly empty.

        Raises:
            ApiError: the list could not be fetched.
        """
        pager = V2PagePaginator("list_shipments", settings.ORDER_PAGE_SIZE)
        path = f"{self._v2}/{settings.ORDERS}/{int(order_id)}/shipments"
        return await _flatten(self._iter(path, pager, {}, Shipment))

    async def list_order_statuses(self) -> list[OrderStatus]:
        """The store's order statuses with their custom labels (GET /v2/order_statuses).

        Returns:
            The statuses.

        Raises:
            ApiError: the list could not be fetched.
        """
        body = await self._json("GET", f"{self._v2}/{settings.ORDER_STATUSES}", "list_order_statuses")
        if body is None:
            return []
        if not isinstance(body, list):
            raise _malformed("list_order_statuses", "expected a JSON array")
        return self._page(OrderStatus, body, "list_order_statuses")

    # --- orders v3: metafields and refunds -------------------------------------------------------------------

    async def list_order_metafields(
        self, order_id: int, *, namespace: str | None = None, key: str | None = None
    ) -> list[Metafield]:
        """An order's metafields visible to this API account (GET /v3/orders/{order_id}/metafields).

        Args:
            order_id: the BigCommerce order id.
            namespace: only this namespace.
            key: only this key.

        Returns:
            The metafields.

        Raises:
            ApiError: the list could not be fetched.
        """
        pager = CursorPaginator("list_order_metafields", settings.PAGE_SIZE)
        path = f"{self._v3}/{settings.ORDER_METAFIELDS.format(order_id=int(order_id))}"
        return await _flatten(self._iter(path, pager, {"namespace": namespace, "key": key}, Metafield))

    async def create_order_metafield(
        self,
        order_id: int,
        namespace: str,
        key: str,
        value: str,
        *,
        permission_set: str,
        description: str | None = None,
    ) -> Metafield:
        """Create one order metafield (POST /v3/orders/{order_id}/metafields).

        Args:
            order_id: the BigCommerce order id.
            namespace: e.g. `mirakl`.
            key: e.g. `commercial_id`.
            value: the text to store.
            permission_set: who may read it (`app_only`, `read`, ...).
            description: optional note.

        Returns:
            The created metafield.

        Raises:
            ConflictError: this namespace/key exists on the order. Not repeated after a timeout or 5xx.
        """
        item = MetafieldCreate(
            namespace=namespace, key=key, value=value, permission_set=permission_set, description=description
        )
        path = f"{self._v3}/{settings.ORDER_METAFIELDS.format(order_id=int(order_id))}"
        body = await self._json("POST", path, "create_order_metafield", json_body=item.to_api(), repeatable=False)
        return self._one(Metafield, _v3_object(body, "create_order_metafield"), "create_order_metafield")

    async def update_order_metafield(
        self,
        order_id: int,
        metafield_id: int,
        *,
        namespace: str,
        key: str,
        value: str,
        permission_set: str,
        description: str | None = None,
    ) -> Metafield:
        """Change one order metafield (PUT /v3/orders/{order_id}/metafields/{metafield_id}).

        orders.v3.yml: the body is `MetafieldPut` (allOf `MetafieldBase_Post`), whose `required` is
        `permission_set`, `namespace`, `key` and `value`, so all four are sent, not only the value.

        Args:
            order_id: the BigCommerce order id.
            metafield_id: the metafield id.
            namespace: the metafield's namespace.
            key: the metafield's key.
            value: the new text.
            permission_set: who may read it (`app_only`, `read`, ...).
            description: a new note, if it changes.

        Returns:
            The updated metafield.

        Raises:
            NotFoundError: no such metafield on the order.
        """
        item = MetafieldCreate(
            namespace=namespace, key=key, value=value, permission_set=permission_set, description=description
        )
        body_json = item.to_api()
        path = f"{self._v3}/{settings.ORDER_METAFIELDS.format(order_id=int(order_id))}/{int(metafield_id)}"
        body = await self._json("PUT", path, "update_order_metafield", json_body=body_json)
        return self._one(Metafield, _v3_object(body, "update_order_metafield"), "update_order_metafield")

    async def upsert_order_metafield(
        self, order_id: int, namespace: str, key: str, value: str, *, permission_set: str
    ) -> Metafield:
        """Make sure an order metafield holds `value`: read, then create, update or leave it as it is.

        Args:
            order_id: the BigCommerce order id.
            namespace: the metafield namespace.
            key: the metafield key.
            value: the text it must hold.
            permission_set: who may read it; an existing metafield with another permission set is updated.

        Returns:
            The metafield as stored.

        Raises:
            ApiError: a call failed.
        """
        existing = await self.list_order_metafields(order_id, namespace=namespace, key=key)
        match = next((m for m in existing if m.namespace == namespace and m.key == key), None)
        if match is None:
            return await self.create_order_metafield(order_id, namespace, key, value, permission_set=permission_set)
        if match.value == value and match.permission_set == permission_set:
            return match
        return await self.update_order_metafield(
            order_id, match.id, namespace=namespace, key=key, value=value, permission_set=permission_set
        )

    async def create_order_metafields(self, items: Sequence[MetafieldCreate]) -> MetafieldBatchResult:
        """Create up to 50 order metafields in one call (POST /v3/orders/metafields).

        orders.v3.yml, createOrdersMetafields: items are MetafieldBase_Post (permission_set, namespace, key and
        value required) plus `resource_id`, "The ID for the order with which the metafield is associated"
        (required); 200 lists the created metafields, 422 "metafields creation with partial success".

        Args:
            items: metafields, each with `resource_id` = the order id.

        Returns:
            Saved metafields, and each refused item with the API's message (422 partial success).

        Raises:
            ValueError: more than 50 items, or an item without `resource_id`.
            ApiError: the batch failed as a whole. Not repeated after a timeout or 5xx.
        """
        if any(item.resource_id is None for item in items):
            raise ValueError("order metafields need resource_id (the order id)")
        return await self._metafield_batch("POST", settings.ORDER_METAFIELDS_BATCH, items, "create_order_metafields")

    async def update_order_metafields(self, items: Sequence[MetafieldUpdate]) -> MetafieldBatchResult:
        """Update up to 50 order metafields by id in one call (PUT /v3/orders/metafields).

        orders.v3.yml, updateOrdersMetafields: items are MetafieldBase_Post plus the required `id`, so each item
        must carry namespace, key, value and permission_set, not only the changed value.

        Args:
            items: whole metafields, each with its `id`.

        Returns:
            Saved metafields, and each refused item with the API's message (422 partial success).

        Raises:
            ValueError: more than 50 items, or an item missing a field the spec requires.
            ApiError: the batch failed as a whole.
        """
        required = ("namespace", "key", "value", "permission_set")
        if any(getattr(item, name) is None for item in items for name in required):
            raise ValueError("order metafield updates need namespace, key, value and permission_set")
        return await self._metafield_batch("PUT", settings.ORDER_METAFIELDS_BATCH, items, "update_order_metafields")

    async def create_refund_quote(self, order_id: int, items: Sequence[RefundItem]) -> RefundQuote:
        """Price a refund and list the ways to pay it (POST /v3/orders/{order_id}/payment_actions/refund_quotes).

        Args:
            order_id: the BigCommerce order id.
            items: lines by quantity, shipping/handling/order amounts.

        Returns:
            The quote; pay one of its `refund_methods` exactly.

        Raises:
            PermanentApiError: refused (e.g. more than is refundable).
        """
        path = f"{self._v3}/{settings.REFUND_QUOTES.format(order_id=int(order_id))}"
        body = await self._json(
            "POST", path, "create_refund_quote", json_body={"items": [item.to_api() for item in items]}
        )
        return self._one(RefundQuote, _v3_object(body, "create_refund_quote"), "create_refund_quote")

    async def create_refund(
        self,
        order_id: int,
        items: Sequence[RefundItem],
        payments: Sequence[RefundPaymentRequest],
        merchant_calculated_override: MerchantOverride | None = None,
    ) -> Refund:
        """Refund (POST /v3/orders/{order_id}/payment_actions/refunds). One at a time per order.

        Args:
            order_id: the BigCommerce order id.
            items: what is refunded.
            payments: how, matching a quoted refund method's amounts.
            merchant_calculated_override: amounts we state ourselves, skipping BigCommerce's tax calculation.

        Returns:
            The refund.

        Raises:
            PermanentApiError: refused (amount mismatch, guest store credit, ...).
            TransientApiError: not repeated after a timeout or 5xx: check `list_order_refunds` first.
        """
        body: dict[str, Any] = {
            "items": [item.to_api() for item in items],
            "payments": [payment.to_api() for payment in payments],
        }
        if merchant_calculated_override is not None:
            body["merchant_calculated_override"] = merchant_calculated_override.to_api()
        path = f"{self._v3}/{settings.ORDER_REFUNDS.format(order_id=int(order_id))}"
        answer = await self._json("POST", path, "create_refund", json_body=body, repeatable=False)
        return self._one(Refund, _v3_object(answer, "create_refund"), "create_refund")

    def iter_refunds(self, **filters: Any) -> AsyncIterator[list[Refund]]:
        """Pages of all refunds, ascending id (GET /v3/orders/payment_actions/refunds).

        Args:
            **filters: `order_id:in`, `id:in`, `created:min`, `created:max` (aware datetimes), `limit`.

        Returns:
            An async iterator of pages; a short page ends it (the API's meta is empty).

        Raises:
            ApiError: a page could not be fetched.
        """
        return self._iter_v3(settings.ALL_REFUNDS, "iter_refunds", filters, Refund)

    async def list_order_refunds(self, order_id: int) -> list[Refund]:
        """One order's refunds, ascending id (GET /v3/orders/{order_id}/payment_actions/refunds).

        Args:
            order_id: the BigCommerce order id.

        Returns:
            The refunds.

        Raises:
            ApiError: the list could not be fetched.
        """
        path = settings.ORDER_REFUNDS.format(order_id=int(order_id))
        return await _flatten(self._iter_v3(path, "list_order_refunds", {}, Refund))

    async def list_order_transactions(self, order_id: int) -> list[Transaction]:
        """The order's payment transactions (GET /v3/orders/{order_id}/transactions; 204 when there are none).

        Args:
            order_id: the BigCommerce order id.

        Returns:
            The transactions: which gateway took the payment, and each refund payment's settlement.

        Raises:
            ApiError: the list could not be fetched.
        """
        path = settings.ORDER_TRANSACTIONS.format(order_id=int(order_id))
        return await _flatten(self._iter_v3(path, "list_order_transactions", {}, Transaction))

    # --- webhooks --------------------------------------------------------------------------------------------

    async def list_webhooks(self) -> list[Webhook]:
        """This API account's webhooks (GET /v3/hooks); check `is_active`, hooks deactivate after failures.

        Returns:
            The webhooks.

        Raises:
            ApiError: the list could not be fetched.
        """
        return await _flatten(self._iter_v3(settings.HOOKS, "list_webhooks", {}, Webhook))

    async def create_webhook(
        self, scope: str, destination: str, headers: dict[str, str] | None = None, *, is_active: bool = True
    ) -> Webhook:
        """Subscribe to an event scope (POST /v3/hooks).

        Args:
            scope: e.g. `store/order/statusUpdated`.
            destination: an HTTPS URL on port 443.
            headers: sent with every callback, e.g. a shared secret.
            is_active: whether it fires right away.

        Returns:
            The webhook.

        Raises:
            PermanentApiError: refused (bad destination, duplicate). Not repeated after a timeout or 5xx.
        """
        body = {"scope": scope, "destination": destination, "is_active": is_active, "headers": headers or {}}
        answer = await self._json(
            "POST", f"{self._v3}/{settings.HOOKS}", "create_webhook", json_body=body, repeatable=False
        )
        return self._one(Webhook, _v3_object(answer, "create_webhook"), "create_webhook")

    # --- request plumbing ------------------------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        json_body: Any = None,
        repeatable: bool = True,
        shape: TypeAdapter[Any] | None = None,
    ) -> Any:
        return await self.transport.request_json(
            method, path, operation=operation, json_body=json_body, repeatable=repeatable, shape=shape
        )

    async def _written(
        self, method: str, path: str, operation: str, model: type[M], bodies: list[Any], *, repeatable: bool = True
    ) -> list[M]:
        """A batch write's answer: its `data` records as `model`, validated from the body's bytes.

        Only what `model` declares is read: the push makes a write per 50 variants or metafields, and decoding
        each answer's every field into dicts first cost more than the call's own HTTP. A body that does not fit
        (not UTF-8, no `data` list, a record that does not match) is decoded and judged as any answer is, so it
        fails, or is retried, as before.
        """
        shape = data_adapter(model)
        body = await self._json(method, path, operation, json_body=bodies, repeatable=repeatable, shape=shape)
        if isinstance(body, DataList):
            return body.data
        return self._page(model, _v3_list(body, operation), operation)

    def _iter_v3(self, path: str, operation: str, filters: dict[str, Any], model: type[M]) -> AsyncIterator[list[M]]:
        params = dict(filters)
        pager = V3OffsetPaginator(operation, int(params.pop("limit", settings.PAGE_SIZE)))
        return self._iter(f"{self._v3}/{path}", pager, params, model)

    async def _iter(
        self, path: str, pager: ResponsePaginator, filters: dict[str, Any], model: type[M]
    ) -> AsyncIterator[list[M]]:
        params = _query(filters)
        while not pager.done:
            records = await self.transport.request(
                "GET", path, operation=pager.operation, params=params | pager.params(), read=pager.update
            )
            if records:
                # A record that does not fit is set aside, never a reason to re-read the page (it would come back
                # the same); orders carry customer data, so no raw copy of a BigCommerce record is kept.
                page = parse_page(model, records, operation=pager.operation, key_of=lambda r: r.get("id", r.get("sku")))
                self.transport.rejections.add(page.rejected)
                yield page

    def _page(self, model: type[M], records: list[Any], operation: str) -> list[M]:
        """Every record of a write's answer as models: one that does not fit means the answer is not readable.

        The records are validated in one call; only when that fails are they validated one by one again, so the
        error names the first record that does not fit exactly as before.
        """
        try:
            return list_adapter(model).validate_python(records)
        except ValidationError:
            pass
        try:
            return [model.model_validate(record) for record in records]
        except ValidationError as exc:
            problem = describe_validation_error(exc)
            raise _malformed(operation, f"page does not match {model.__name__}: {problem}") from exc

    def _one(self, model: type[M], record: Any, operation: str) -> M:
        try:
            return model.model_validate(record)
        except ValidationError as exc:
            problem = describe_validation_error(exc)
            raise _malformed(operation, f"body does not match {model.__name__}: {problem}") from exc


# --- helpers -----------------------------------------------------------------------------------------------


def _malformed(operation: str, message: str) -> MalformedResponseError:
    return MalformedResponseError(message, system=settings.SYSTEM, operation=operation, status=200)


def _included(fields: Sequence[str] | None) -> dict[str, str]:
    """The `include_fields` filter for these fields (none: every field)."""
    return {} if fields is None else {"include_fields": ",".join(fields)}


def _v3_object(body: Any, operation: str) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise _malformed(operation, "expected a `data` object")
    return body["data"]


def _v3_list(body: Any, operation: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise _malformed(operation, "expected a `data` list")
    return body["data"]


_BatchItem = VariantUpdate | MetafieldCreate | MetafieldUpdate | InventoryAdjustment | Mapping[str, Any]


def _bodies(items: Sequence[_BatchItem]) -> list[dict[str, Any]]:
    """Batch items as JSON bodies: a model through its `to_api`, a body as given (its caller shaped it)."""
    return [item.to_api() if isinstance(item, BaseModel) else dict(item) for item in items]


async def _flatten(pages: AsyncIterator[list[M]]) -> list[M]:
    return [record async for page in pages for record in page]


def _api_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("BigCommerce date filters need a timezone-aware datetime")
    return value.isoformat()


def _query(filters: dict[str, Any]) -> dict[str, Any]:
    """Filters as query parameters: lists comma-separated (`id:in=1,2`), datetimes ISO-8601, unset ones dropped."""
    params: dict[str, Any] = {}
    for name, value in filters.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            params[name] = ",".join(str(v) for v in value)
        elif isinstance(value, datetime):
            params[name] = _api_datetime(value)
        else:
            params[name] = value
    return params
