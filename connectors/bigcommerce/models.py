"""Pydantic models of the BigCommerce payloads the bridge reads and writes, field names as the API spells them.

Responses ignore fields we do not use, so a new API field never breaks a sync; requests we build forbid unknown
fields, so a typo fails in our process instead of being silently dropped by the API. v2 sends money as strings
("62.6793") and dates as RFC-2822; v3 sends money as numbers and dates as ISO-8601. Both become `Decimal` and
timezone-aware `datetime` here. Customer data (addresses, emails) is kept out of `repr` so it cannot reach a log
by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, model_validator

from connectors.http import RecordRejectedError
from connectors.http.records import describe_validation_error

__all__ = [
    "BillingAddress",
    "InventoryAdjustment",
    "InventoryItem",
    "InventoryItemIdentity",
    "InventoryItemLocation",
    "JsonDecimal",
    "Location",
    "MerchantOverride",
    "Metafield",
    "MetafieldBatchResult",
    "MetafieldCreate",
    "MetafieldUpdate",
    "Order",
    "OrderConsignments",
    "OrderProduct",
    "OrderStatus",
    "PaymentOption",
    "Product",
    "ProductCreate",
    "Refund",
    "RefundItem",
    "RefundItemAdjustment",
    "RefundPayment",
    "RefundPaymentRequest",
    "RefundQuote",
    "RefundedItem",
    "RefundedItemAdjustment",
    "Rfc2822Datetime",
    "SavedMetafield",
    "Shipment",
    "ShipmentCreate",
    "ShipmentItem",
    "ShippingAddress",
    "ShippingConsignment",
    "UpdatedVariant",
    "Variant",
    "VariantBatchResult",
    "VariantUpdate",
    "Webhook",
    "describe_validation_error",
    "validate_record",
]

M = TypeVar("M", bound=BaseModel)


def _parse_api_datetime(value: Any) -> Any:
    """ISO-8601 (v3) or RFC-2822 (v2) text to an aware datetime; v2's empty string means "not set"."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError) as exc:
            raise ValueError("not an ISO-8601 or RFC-2822 date") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


Rfc2822Datetime = Annotated[datetime | None, BeforeValidator(_parse_api_datetime)]
"""A v2 (RFC-2822) or v3 (ISO-8601) timestamp as an aware datetime; `""` and null become None."""

JsonDecimal = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]
"""A Decimal sent where a v3 endpoint documents a JSON number (prices, refund amounts, weights)."""


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_api(self) -> dict[str, Any]:
        """The JSON body: only fields the caller set or that are required, money as JSON numbers."""
        return self.model_dump(mode="json", exclude_unset=True)


# --- catalog -----------------------------------------------------------------------------------------------


class Variant(_Response):
    """GET/PUT /v3/catalog/variants item; prices are null when the product's price applies."""

    id: int
    product_id: int
    sku: str | None = None
    sku_id: int | None = None
    price: Decimal | None = None
    sale_price: Decimal | None = None
    retail_price: Decimal | None = None
    calculated_price: Decimal | None = None
    inventory_level: int | None = None
    purchasing_disabled: bool | None = None
    purchasing_disabled_message: str | None = None
    option_values: list[dict[str, Any]] = Field(default_factory=list)


class VariantUpdate(_Request):
    """One item of PUT /v3/catalog/variants; unset fields are not sent, so they keep their stored value."""

    id: int
    price: JsonDecimal | None = None
    sale_price: JsonDecimal | None = None
    inventory_level: int | None = Field(default=None, ge=0, le=2_147_483_647)
    purchasing_disabled: bool | None = None
    purchasing_disabled_message: str | None = Field(default=None, max_length=255)


class UpdatedVariant(_Response):
    """A variant as a PUT /v3/catalog/variants answer echoes it: what a caller reads of the batch is which ids
    were saved, so only the identity (the fields `Variant` requires) is parsed, not its prices and options."""

    id: int
    product_id: int


class VariantBatchResult(_Response):
    """Outcome of a variant batch: every submitted id is in exactly one of `updated` and `rejected`."""

    updated: list[UpdatedVariant] = Field(default_factory=list)
    rejected: dict[int, str] = Field(default_factory=dict)


class Product(_Response):
    """GET/POST /v3/catalog/products item."""

    id: int
    name: str
    sku: str | None = None
    type: str | None = None
    price: Decimal | None = None
    sale_price: Decimal | None = None
    inventory_tracking: str | None = None
    inventory_level: int | None = None
    is_visible: bool | None = None
    availability: str | None = None
    base_variant_id: int | None = None
    date_modified: Rfc2822Datetime = None
    variants: list[Variant] | None = None


class ProductCreate(_Request):
    """Body of POST /v3/catalog/products; defaults make a hidden, unbuyable draft tracked per variant."""

    name: str = Field(min_length=1, max_length=250)
    type: Literal["physical", "digital"] = "physical"
    weight: JsonDecimal = Decimal(0)
    price: JsonDecimal = Decimal(0)
    sku: str | None = Field(default=None, max_length=255)
    is_visible: bool = False
    availability: Literal["available", "disabled", "preorder"] = "disabled"
    inventory_tracking: Literal["none", "product", "variant"] = "variant"
    categories: list[int] | None = None

    def to_api(self) -> dict[str, Any]:
        """Defaults are part of the contract here (hidden, disabled), so they are always sent."""
        return self.model_dump(mode="json", exclude_none=True)


class SavedMetafield(_Response):
    """A metafield as a batch write's answer echoes it: its identity, resource and value, without the dates (a
    Python validator per date, most of the cost of reading a 50-metafield answer, and no caller reads them)."""

    id: int
    namespace: str
    key: str
    value: str
    resource_id: int | None = None


class Metafield(SavedMetafield):
    """A metafield on a variant or an order (v3 batch and per-resource endpoints)."""

    permission_set: str | None = None
    resource_type: str | None = None
    description: str | None = None
    date_created: Rfc2822Datetime = None
    date_modified: Rfc2822Datetime = None


PermissionSet = Literal["app_only", "read", "write", "read_and_sf_access", "write_and_sf_access"]


class MetafieldCreate(_Request):
    """A new metafield; `resource_id` (the variant id) is required on the variant batch endpoint only."""

    namespace: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=1, max_length=64)
    value: str = Field(min_length=1, max_length=65_535)
    permission_set: PermissionSet = "app_only"
    description: str | None = Field(default=None, max_length=255)
    resource_id: int | None = None

    def to_api(self) -> dict[str, Any]:
        """`permission_set` is required by the API, so its default is sent too."""
        return self.model_dump(mode="json", exclude_none=True)


class MetafieldUpdate(_Request):
    """A change to an existing metafield, addressed by its `id`."""

    id: int
    value: str | None = Field(default=None, min_length=1, max_length=65_535)
    namespace: str | None = Field(default=None, min_length=1, max_length=64)
    key: str | None = Field(default=None, min_length=1, max_length=64)
    permission_set: PermissionSet | None = None
    description: str | None = Field(default=None, max_length=255)


class MetafieldBatchResult(_Response):
    """Outcome of a metafield batch: what was saved, and the API's message per rejected item."""

    saved: list[SavedMetafield] = Field(default_factory=list)
    # Each refused item as the caller gave it (a model, or a body it shaped itself), with the API's message.
    rejected: list[tuple[MetafieldCreate | MetafieldUpdate | Mapping[str, Any], str]] = Field(default_factory=list)


# --- inventory ---------------------------------------------------------------------------------------------


class InventoryAdjustment(_Request):
    """One item of PUT /v3/inventory/adjustments/absolute: exactly one identity plus location and quantity."""

    location_id: int
    quantity: int = Field(ge=0, le=2_147_483_647)
    variant_id: int | None = None
    sku: str | None = None
    product_id: int | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> InventoryAdjustment:
        named = [name for name in ("variant_id", "sku", "product_id") if getattr(self, name) is not None]
        if len(named) != 1:
            raise ValueError("exactly one of variant_id, sku, product_id is required")
        return self

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class InventoryItemIdentity(_Response):
    sku: str | None = None
    variant_id: int | None = None
    product_id: int | None = None
    sku_id: int | None = None


class InventoryItemLocation(_Response):
    location_id: int
    location_code: str | None = None
    location_name: str | None = None
    available_to_sell: int | None = None
    total_inventory_onhand: int | None = None
    location_enabled: bool | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class InventoryItem(_Response):
    """GET /v3/inventory/items entry: one variant's stock at each location; reads may lag writes."""

    identity: InventoryItemIdentity
    locations: list[InventoryItemLocation] = Field(default_factory=list)


class Location(_Response):
    """GET /v3/inventory/locations entry."""

    id: int
    code: str | None = None
    label: str | None = None
    enabled: bool = True
    type_id: str | None = None


# --- orders v2 ---------------------------------------------------------------------------------------------


class BillingAddress(_Response):
    """Customer data: kept for routing (country) and never logged; `repr` shows only the country."""

    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    street_1: str | None = None
    street_2: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    country_iso2: str | None = None
    phone: str | None = None
    email: str | None = None

    def __repr__(self) -> str:
        return f"BillingAddress(country_iso2={self.country_iso2!r}, <redacted>)"

    __str__ = __repr__


class Order(_Response):
    """GET /v2/orders item. Money fields are strings on the wire; there is no plain `subtotal`."""

    id: int
    customer_id: int | None = None
    channel_id: int | None = None
    status_id: int
    status: str | None = None
    payment_status: str | None = None
    payment_method: str | None = None
    date_created: Rfc2822Datetime = None
    date_modified: Rfc2822Datetime = None
    date_shipped: Rfc2822Datetime = None
    subtotal_ex_tax: Decimal | None = None
    subtotal_inc_tax: Decimal | None = None
    subtotal_tax: Decimal | None = None
    shipping_cost_ex_tax: Decimal | None = None
    shipping_cost_inc_tax: Decimal | None = None
    shipping_cost_tax: Decimal | None = None
    handling_cost_ex_tax: Decimal | None = None
    handling_cost_inc_tax: Decimal | None = None
    total_ex_tax: Decimal
    total_inc_tax: Decimal
    total_tax: Decimal | None = None
    discount_amount: Decimal | None = None
    coupon_discount: Decimal | None = None
    store_credit_amount: Decimal | None = None
    gift_certificate_amount: Decimal | None = None
    refunded_amount: Decimal | None = None
    is_tax_inclusive_pricing: bool | None = None
    currency_code: str | None = None
    default_currency_code: str | None = None
    currency_exchange_rate: Decimal | None = None
    items_total: int | None = None
    items_shipped: int | None = None
    shipping_address_count: int | None = None
    external_order_id: str | None = None
    external_source: str | None = None
    order_source: str | None = None
    is_deleted: bool | None = None
    billing_address: BillingAddress | None = Field(default=None, repr=False)
    consignments: Annotated[OrderConsignments | None, BeforeValidator(_object_structure)] = Field(
        default=None, repr=False
    )


class OrderProduct(_Response):
    """GET /v2/orders/{id}/products item; `id` is the order line id used by shipments and refunds."""

    id: int
    order_id: int
    product_id: int | None = None
    variant_id: int | None = None
    order_address_id: int | None = None
    name: str | None = None
    sku: str | None = None
    type: str | None = None
    quantity: int
    quantity_shipped: int = 0
    quantity_refunded: int = 0
    is_refunded: bool | None = None
    base_price: Decimal | None = None
    price_ex_tax: Decimal
    price_inc_tax: Decimal
    price_tax: Decimal | None = None
    total_ex_tax: Decimal
    total_inc_tax: Decimal
    total_tax: Decimal | None = None
    discounted_total_inc_tax: Decimal | None = None
    applied_discounts: list[dict[str, Any]] = Field(default_factory=list)


class _ShippingFields(_Response):
    """The fields a shipping address and a shipping consignment share (orders.v2.oas2.yml). Personal fields stay out
    of repr."""

    first_name: str | None = Field(default=None, repr=False)
    last_name: str | None = Field(default=None, repr=False)
    company: str | None = Field(default=None, repr=False)
    street_1: str | None = Field(default=None, repr=False)
    street_2: str | None = Field(default=None, repr=False)
    city: str | None = Field(default=None, repr=False)
    zip: str | None = Field(default=None, repr=False)
    state: str | None = Field(default=None, repr=False)
    email: str | None = Field(default=None, repr=False)
    phone: str | None = Field(default=None, repr=False)
    country: str | None = None
    country_iso2: str | None = None
    shipping_method: str | None = None
    items_total: int | None = None
    items_shipped: int | None = None
    cost_ex_tax: Decimal | None = None
    cost_inc_tax: Decimal | None = None
    shipping_zone_id: int | None = None


class ShippingAddress(_ShippingFields):
    """GET /v2/orders/{id}/shipping_addresses item; `id` is the `order_address_id`."""

    id: int
    order_id: int


def _full_lines(value: Any) -> Any:
    """orders.v2.oas2.yml, shippingConsignment_Get `line_items`: oneOf products_Resource[] (links, with
    `include=consignments`) or orderProducts[] (with `include=consignments.line_items`). Links carry nothing to
    route from, so they read as None."""
    if isinstance(value, list) and all(isinstance(x, dict) and "id" in x and "quantity" in x for x in value):
        return value
    return None


class ShippingConsignment(_ShippingFields):
    """orders.v2.oas2.yml shippingConsignment_Get: a shipping address with its lines. Personal fields stay out of repr.

    Its `id` is "ID of the shipping consignment"; the spec does not say it equals the shipping address id, so the
    address id is read from the lines' `order_address_id` (see `connectors.bigcommerce.consignments`).
    """

    id: int | None = None
    line_items: Annotated[list[OrderProduct] | None, BeforeValidator(_full_lines)] = None


class OrderConsignments(_Response):
    """orders.v2.oas2.yml orderConsignment_Get, the `consignment_structure=object` form of an order's consignments."""

    pickups: list[dict[str, Any]] = Field(default_factory=list)
    shipping: list[ShippingConsignment] = Field(default_factory=list)
    downloads: list[dict[str, Any]] = Field(default_factory=list)
    email: dict[str, Any] = Field(default_factory=dict)


def _object_structure(value: Any) -> OrderConsignments | None:
    """orders.v2.oas2.yml order_Resp `consignments`: oneOf orderConsignments_Resource (a link) or
    orderConsignment_Get (the object structure). Only a well-formed object structure is kept; a link, an older
    array structure or a consignment that does not parse is None, and the order's lines are then read one order
    at a time, so an odd embedded line can never sink the whole order-list page."""
    if not isinstance(value, dict) or not value.keys() & {"pickups", "shipping", "downloads", "email"}:
        return None
    try:
        return OrderConsignments.model_validate(value)
    except ValidationError:
        return None


class ShipmentItem(BaseModel):
    """A shipped quantity of one order line (request and response share the shape)."""

    model_config = ConfigDict(extra="ignore")

    order_product_id: int
    quantity: int = Field(ge=1)
    product_id: int | None = None


class Shipment(_Response):
    """GET/POST /v2/orders/{id}/shipments item (the embedded addresses are not kept)."""

    id: int
    order_id: int
    order_address_id: int
    date_created: Rfc2822Datetime = None
    tracking_number: str | None = None
    shipping_provider: str | None = None
    tracking_carrier: str | None = None
    tracking_link: str | None = None
    generated_tracking_link: str | None = None
    shipping_method: str | None = None
    merchant_shipping_cost: Decimal | None = None
    comments: str | None = None
    items: list[ShipmentItem] = Field(default_factory=list)


class ShipmentCreate(_Request):
    """Body of POST /v2/orders/{id}/shipments; send `shipping_provider=""` for carriers outside the enum."""

    order_address_id: int
    items: list[ShipmentItem] = Field(min_length=1)
    tracking_number: str | None = Field(default=None, max_length=50)
    shipping_provider: str | None = None
    tracking_carrier: str | None = None
    tracking_link: str | None = Field(default=None, max_length=500)
    shipping_method: str | None = None
    merchant_shipping_cost: Decimal | None = None
    comments: str | None = Field(default=None, max_length=65_535)

    def to_api(self) -> dict[str, Any]:
        body = self.model_dump(mode="json", exclude_unset=True)
        body["items"] = [{"order_product_id": i.order_product_id, "quantity": i.quantity} for i in self.items]
        return body


class OrderStatus(_Response):
    """GET /v2/order_statuses item; match on `id`, merchants rename the labels."""

    id: int
    name: str
    system_label: str | None = None
    custom_label: str | None = None
    system_description: str | None = None
    order: int | None = None


# --- refunds (orders v3) -----------------------------------------------------------------------------------

RefundItemType = Literal["PRODUCT", "GIFT_WRAPPING", "SHIPPING", "HANDLING", "ORDER", "FEE", "TAX"]


class RefundItemAdjustment(_Request):
    """A deduction from a PRODUCT item's refund (a restocking or service fee): negative, to the cent."""

    amount: JsonDecimal = Field(lt=0, decimal_places=2)
    description: str | None = Field(default=None, max_length=255)


class RefundItem(_Request):
    """An item to quote or refund: PRODUCT/GIFT_WRAPPING by `quantity`, the others by `amount`.

    A PRODUCT item refunds its quantity's tax-inclusive value plus its (negative) `adjustments`.
    """

    item_type: RefundItemType
    item_id: int
    quantity: int | None = Field(default=None, ge=1)
    amount: JsonDecimal | None = Field(default=None, ge=0)
    adjustments: list[RefundItemAdjustment] | None = None
    reason: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _amount_or_quantity(self) -> RefundItem:
        by_quantity = self.item_type in ("PRODUCT", "GIFT_WRAPPING")
        if by_quantity and self.quantity is None:
            raise ValueError(f"{self.item_type} refund items need a quantity")
        if not by_quantity and self.amount is None:
            raise ValueError(f"{self.item_type} refund items need an amount")
        if self.adjustments and self.item_type != "PRODUCT":
            raise ValueError("only PRODUCT refund items take adjustments")
        return self

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class RefundPaymentRequest(_Request):
    """A payment of a refund; `amount` must equal the quoted refund method's amount."""

    provider_id: str
    amount: JsonDecimal = Field(ge=0)
    offline: bool = False


class MerchantOverride(_Request):
    """Amounts we state ourselves (BigCommerce's tax refund calculation is skipped)."""

    total_amount: JsonDecimal
    total_tax: JsonDecimal


class PaymentOption(_Response):
    provider_id: str
    provider_description: str | None = None
    amount: Decimal
    offline: bool | None = None
    offline_provider: bool | None = None
    offline_reason: str | None = None


class RefundQuote(_Response):
    """POST /v3/orders/{id}/payment_actions/refund_quotes: one inner list per refund method."""

    order_id: int
    total_refund_amount: Decimal
    total_refund_tax_amount: Decimal | None = None
    order_level_refund_amount: Decimal | None = None
    rounding: Decimal | None = None
    adjustment: Decimal | None = None
    tax_inclusive: bool | None = None
    refund_methods: list[list[PaymentOption]] = Field(default_factory=list)


class RefundedItemAdjustment(_Response):
    amount: Decimal
    description: str | None = None


class RefundedItem(_Response):
    """An item of a recorded refund; a PRODUCT item's value is its quantity's plus its (negative) adjustments."""

    item_type: str
    item_id: int
    quantity: int | None = None
    adjustments: list[RefundedItemAdjustment] = Field(default_factory=list)
    requested_amount: Decimal | None = None
    reason: str | None = None


class RefundPayment(_Response):
    id: int | None = None
    provider_id: str
    amount: Decimal
    offline: bool | None = None
    is_declined: bool | None = None
    declined_message: str | None = None
    transaction_id: str | None = None


class Transaction(_Response):
    """GET /v3/orders/{id}/transactions item: one payment event (`purchase`, `capture`, `refund`, `pending` ...)
    at a `gateway` with a `status` of `ok` or `error` (orders.v3.yml `Transaction`)."""

    id: int | None = None
    order_id: str | None = None
    event: str
    method: str | None = None
    amount: Decimal
    currency: str | None = None
    gateway: str
    status: str | None = None


class Refund(_Response):
    """A refund (v3 payment actions); `created` is ISO-8601."""

    id: int
    order_id: int
    user_id: int | None = None
    created: Rfc2822Datetime = None
    reason: str | None = None
    total_amount: Decimal
    total_tax: Decimal | None = None
    uses_merchant_override_values: bool | None = None
    items: list[RefundedItem] = Field(default_factory=list)
    payments: list[RefundPayment] = Field(default_factory=list)


# --- webhooks ----------------------------------------------------------------------------------------------


class Webhook(_Response):
    """GET/POST /v3/hooks item; `headers` may hold the callback secret and stays out of repr."""

    id: int
    scope: str
    destination: str
    is_active: bool
    client_id: str | None = None
    store_hash: str | None = None
    headers: dict[str, str] | None = Field(default=None, repr=False)
    created_at: int | None = None
    updated_at: int | None = None


# --- validation helpers ------------------------------------------------------------------------------------


def validate_record(model: type[M], raw: Mapping[str, Any]) -> M:
    """One raw record as `model`, or `RecordRejectedError` keyed by its `id` (else `sku`) for quarantine."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        key = raw.get("id", raw.get("sku", "?")) if isinstance(raw, Mapping) else "?"
        raise RecordRejectedError(str(key), describe_validation_error(exc)) from exc
