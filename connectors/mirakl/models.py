"""Pydantic models of the Mirakl payloads the bridge reads and writes, named as Mirakl spells them.

Responses tolerate what Mirakl adds over time (unknown fields are kept, enums are plain strings) because
Mirakl's compatibility rules allow new fields and enum values without notice. Requests we build forbid
unknown fields, so a typo fails here instead of being silently dropped by Mirakl. Money is `Decimal`,
response dates are aware (Mirakl writes UTC; a date without zone is read as UTC).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    model_validator,
)

__all__ = [
    "BillingAddress",
    "BillingCycle",
    "BillingCycleShop",
    "Carrier",
    "CsvExportedOffer",
    "Debit",
    "DebitConfirmation",
    "DebitEntity",
    "DebitLine",
    "ExportedOffer",
    "ImportErrorReport",
    "Invoice",
    "LineCancelation",
    "LineCancelationCreated",
    "MiraklRequest",
    "MiraklResponse",
    "OfferExportError",
    "OfferExportStatus",
    "OfferImport",
    "OfferNotShippable",
    "OfferPrice",
    "Order",
    "OrderCreate",
    "OrderCreated",
    "OrderCustomer",
    "OrderLine",
    "OrderLineCancelation",
    "OrderLineRefund",
    "OrderOfferCreate",
    "OrderReferences",
    "PayOut",
    "PaymentInfo",
    "PendingRefund",
    "PendingRefundItem",
    "PendingRefundLine",
    "Reason",
    "RefundConfirmation",
    "RefundCreate",
    "RefundCreated",
    "ShippingAddress",
    "ShippingRateError",
    "ShippingRateOffer",
    "ShippingRateOrder",
    "ShippingRates",
    "ShippingTypeOption",
    "Shop",
    "Tax",
    "TaxAmount",
    "Tracking",
    "Transaction",
    "TransactionEntities",
    "TransactionEntityRef",
    "TransactionShop",
    "select_price",
]


def _assume_utc(value: datetime) -> datetime:
    """Naive times are UTC; aware ones are moved to `datetime.UTC`, the same instant. pydantic gives an aware time
    its own `TzInfo`, which pandas cannot vectorise: a column of them became a frame about six times slower (an
    OF54 export's `last_updated`, `benchmarks/README.md`)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


MiraklDatetime = Annotated[datetime, AfterValidator(_assume_utc)]


def _xml_list(key: str) -> Callable[[Any], Any]:
    """PA11/PA12 are XML turned into JSON: a list arrives as `{key: [...]}`, or `{key: {...}}` for one item."""

    def unwrap(value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, dict):
            value = value.get(key, [])
        if isinstance(value, dict):
            return [value]
        return value

    return unwrap


class MiraklResponse(BaseModel):
    """Base of everything Mirakl sends: unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class MiraklRequest(BaseModel):
    """Base of everything we send: unknown fields are a bug on our side."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_payload(self) -> dict[str, Any]:
        """The body as Mirakl expects it: unset optional fields left out, money still `Decimal`."""
        return self.model_dump(mode="python", by_alias=True, exclude_none=True)


# --- offers (OF51-OF54, OF02/OF04) -------------------------------------------------------------------------


class ExportRowModel(MiraklResponse):
    """Base of the offer export's rows, read by the million: the fields the bridge declares, the rest dropped.

    An OF54 row carries some thirty fields (shipping zones, lead times, channels, warehouses...) the bridge never
    reads; keeping them as extras (`MiraklResponse`) doubled the validation time of an export
    (`benchmarks/README.md`). Unknown fields are still accepted, never rejected.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class OfferPrice(ExportRowModel):
    """One entry of OF54 `prices[]`; the default price is the one without `context`."""

    origin_price: Decimal | None = None
    discount_price: Decimal | None = None
    discount_start_date: MiraklDatetime | None = None
    discount_end_date: MiraklDatetime | None = None
    context: dict[str, Any] | None = None


def select_price(prices: list[OfferPrice], now: datetime) -> Decimal | None:
    """The price a customer pays now: the default entry's discount inside its window, else its origin price.

    OF54 has no top-level price; channel, customer-group and scheduled prices carry a `context` and do not
    apply to the storefront's default customer.
    """
    default = next((price for price in prices if not price.context), None)
    if default is None:
        return None
    if default.discount_price is not None:
        starts, ends = default.discount_start_date, default.discount_end_date
        if (starts is None or starts <= now) and (ends is None or now <= ends):
            return default.discount_price
    return default.origin_price


# Offer values the bridge can carry to a storefront; a row outside them is rejected with its reason (and
# quarantined by the offer sync) before it reaches the state store or a push batch.
# mmp-front-openapi.yaml, OF54_Response_200_Ext_FileStructure.quantity and OF51 `quantity`:
#   "type: integer, format: int32 ... Offer quantity available".
# product-variants_catalog.v3.yml, variant `inventory_level`: "cannot exceed 2,147,483,647 ... maximum: 2147483647".
INT32_MAX = 2**31 - 1
# product-variants_catalog.v3.yml, variant `sku`: "maxLength: 255, minLength: 1". A Mirakl product SKU is the
# SKU of its BigCommerce variant, so a longer one can never match one (the Mirakl spec gives no length).
SKU_MAX_LENGTH = 255
# The bridge's money columns are NUMERIC(18,4): 14 integer digits. No storefront price comes near it.
AMOUNT_LIMIT = Decimal(10) ** 14
# Control, format (zero-width), surrogate, private-use and unassigned code points, and line/paragraph
# separators: a SKU holding one cannot be told apart from another on screen, and PostgreSQL refuses NUL.
_ODD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _storefront_sku(value: str) -> str:
    if not 1 <= len(value) <= SKU_MAX_LENGTH:
        raise ValueError(f"SKU must be 1 to {SKU_MAX_LENGTH} characters, got {len(value)}")
    if value != value.strip():
        raise ValueError("SKU has leading or trailing whitespace")
    # `str.isprintable` is false for every character of the odd categories (and for the other separators), so
    # a printable SKU, which nearly every SKU is, needs no look at each character's category.
    if not value.isprintable():
        odd = sorted({f"U+{ord(char):04X}" for char in value if unicodedata.category(char) in _ODD_CATEGORIES})
        if odd:
            raise ValueError(f"SKU holds control or invisible characters ({', '.join(odd[:3])})")
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        raise ValueError("SKU is not in Unicode composed form (NFC)")
    return value


StorefrontSku = Annotated[str, AfterValidator(_storefront_sku)]
OfferQuantity = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
OfferAmount = Annotated[Decimal, Field(allow_inf_nan=False, gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT)]


def _now(info: ValidationInfo) -> datetime:
    """The instant a discount window is judged at: the validation's `now`, else the clock (asked only then)."""
    return (info.context or {}).get("now") or datetime.now(UTC)


class ExportedOffer(ExportRowModel):
    """An offer row of an export (OF54 JSON chunk or OF51 CSV); deleted rows carry only ids and flags.

    Validate with `context={"now": ...}` to choose the OF54 discount price at a fixed instant. Quantities,
    amounts and product SKUs are held to what a storefront can carry (see `INT32_MAX` and its neighbours).
    """

    offer_id: int
    product_sku: StorefrontSku | None = None
    shop_id: int | None = None
    shop_sku: str | None = None
    quantity: OfferQuantity | None = None
    active: bool | None = None
    deleted: bool = False
    currency_iso_code: str | None = None
    price: OfferAmount | None = None
    min_shipping_price: OfferAmount | None = None
    total_price: OfferAmount | None = None
    last_updated: MiraklDatetime | None = None
    prices: list[OfferPrice] = Field(default_factory=list)

    model: str | None = None
    retail_price: OfferAmount | None = None
    retail_prices: list[OfferPrice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _price_and_total(self, info: ValidationInfo) -> ExportedOffer:
        if self.model == "DROPSHIP":
            # mmp-front-openapi.yaml, OF54 `prices`: "For Dropship specifically: the list of purchasing prices of
            # the offer, also referred to as costs or wholesale prices"; `retail_prices`: "List retail prices for
            # the offer, also referred to as selling prices. Applicable only for Dropship offers". OF51 likewise:
            # `price` is "For Dropship specifically: the purchasing price", `retail-price` the selling price.
            # A purchase price must never become the storefront's price: only the retail price is read (given, or
            # chosen from `retail_prices[]` below), and a dropship row without one has no price (the gate then
            # refuses it).
            self.price, self.total_price = self.retail_price, None
        # OF54 has no top-level price: it is chosen from `prices[]` (`retail_prices[]` for a dropship offer), which
        # pydantic-core has validated in bulk by now (a per-row Python validation of each entry cost more than the
        # rest of the row), and held to the same bounds as a given `price`.
        if self.price is None:
            entries = self.retail_prices if self.model == "DROPSHIP" else self.prices
            selected = select_price(entries, _now(info)) if entries else None
            self.price = None if selected is None else _OFFER_AMOUNT.validate_python(selected)
        if self.total_price is None and self.price is not None and self.min_shipping_price is not None:
            self.total_price = self.price + self.min_shipping_price
        return self


class CsvExportedOffer(ExportedOffer):
    """An OF51 CSV row: a dropship offer's purchase price is dropped before it is read, not only replaced after.

    OF51 carries `price` and `total-price`, which for a dropship offer are purchase figures the bridge never uses,
    so a malformed one must not reject a row whose retail price is sound. OF54 JSON rows carry neither
    (`OF54_Response_200_Ext_FileStructure` has `prices[]` and `retail_prices[]` only), which lets `ExportedOffer`
    go without a before-validator: one would hand every JSON row to Python as a dict before validating it, and the
    export is then read straight from its bytes (`MiraklClient.iter_offer_export_chunk`).
    """

    @model_validator(mode="before")
    @classmethod
    def _purchase_price_unread(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("model") == "DROPSHIP":
            return {**data, "price": None, "total_price": None}
        return data


_OFFER_AMOUNT: TypeAdapter[Decimal] = TypeAdapter(OfferAmount)


class OfferExportError(MiraklResponse):
    code: str | None = None
    detail: str | None = None


class OfferExportStatus(MiraklResponse):
    """OF53: `PENDING`, `FAILED` or `COMPLETED`; `urls` lists the chunks once completed."""

    status: str
    urls: list[str] = Field(default_factory=list)
    last_updated: MiraklDatetime | None = None
    error: OfferExportError | None = None


class OfferImport(MiraklResponse):
    """A seller's offer import (OF02/OF04): how a failing seller feed becomes visible."""

    import_id: int
    shop_id: int | None = None
    date_created: MiraklDatetime | None = None
    status: str | None = None
    reason_status: str | None = None
    mode: str | None = None
    origin: str | None = None
    lines_read: int = 0
    lines_in_success: int = 0
    lines_in_error: int = 0
    lines_in_pending: int = 0
    offer_inserted: int | None = None
    offer_updated: int | None = None
    offer_deleted: int | None = None
    has_error_report: bool = False


class ImportErrorReport(BaseModel):
    """OF03: the lines of an import in error, as the seller sent them plus `error-line` and `error-message`.

    mmp-operator-openapi.json, OF03: "This API returns a CSV, XLSX or XML file, depending on the file format
    provided by the seller." Only a CSV report is read into `lines`; for the other formats `lines` is None and
    the report is left to the operator's back-office (`path`).
    """

    import_id: int
    path: str
    media_type: str | None = None
    lines: list[dict[str, str]] | None = None


# --- shops (S20) -----------------------------------------------------------------------------------------------


class Shop(MiraklResponse):
    shop_id: int
    shop_name: str | None = None
    shop_state: str | None = None
    suspension_type: str | None = None
    closed_from: MiraklDatetime | None = None
    closed_to: MiraklDatetime | None = None
    currency_iso_code: str | None = None
    date_created: MiraklDatetime | None = None
    last_updated_date: MiraklDatetime | None = None
    approval_delay: int | None = None
    approval_rate: Decimal | None = None
    offers_count: int | None = None


# --- orders: requests (OR01, OR23, OR28, OR30) -----------------------------------------------------------------


class TaxAmount(MiraklRequest):
    code: str
    amount: Decimal | None = None
    rate: Decimal | None = None


class BillingAddress(MiraklRequest):
    lastname: str
    firstname: str | None = None
    civility: str | None = None
    company: str | None = None
    street_1: str
    street_2: str | None = None
    zip_code: str | None = None
    city: str
    state: str | None = None
    country: str
    country_iso_code: str | None = Field(default=None, description="ISO 3166-1 alpha-3")
    phone: str | None = None


class ShippingAddress(BillingAddress):
    additional_info: str | None = None
    internal_additional_info: str | None = None


class OrderCustomer(MiraklRequest):
    customer_id: str
    email: str
    firstname: str
    lastname: str
    civility: str | None = None
    locale: str | None = None
    billing_address: BillingAddress
    shipping_address: ShippingAddress


class OrderOfferCreate(MiraklRequest):
    """One marketplace line of OR01; `price` is `offer_price * quantity`, shipping excluded."""

    offer_id: int
    quantity: int = Field(gt=0)
    offer_price: Decimal
    price: Decimal
    shipping_price: Decimal
    shipping_type_code: str
    currency_iso_code: str | None = None
    order_line_id: str | None = None
    taxes: list[TaxAmount] | None = None
    shipping_taxes: list[TaxAmount] | None = None


class PaymentInfo(MiraklRequest):
    payment_type: str | None = None
    imprint_number: str | None = None


class OrderReferences(MiraklRequest):
    order_reference_for_customer: str | None = None


class OrderCreate(MiraklRequest):
    """OR01 body: one commercial order, which Mirakl splits into one logistic order per shop."""

    commercial_id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    customer: OrderCustomer
    offers: list[OrderOfferCreate] = Field(min_length=1)
    shipping_zone_code: str
    scored: bool
    payment_workflow: str = "PAY_ON_ACCEPTANCE"
    payment_info: PaymentInfo | None = None
    order_tax_mode: str | None = None
    channel_code: str | None = None
    references: OrderReferences | None = None


class Tracking(MiraklRequest):
    """OR23 body: a registered carrier is named by `carrier_code`, an unregistered one by name and URL."""

    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_standard_code: str | None = None
    carrier_url: str | None = None
    tracking_number: str | None = None

    @model_validator(mode="after")
    def _one_carrier_kind(self) -> Tracking:
        if (self.carrier_code is None) == (self.carrier_name is None):
            raise ValueError("give either carrier_code (registered carrier) or carrier_name (unregistered)")
        if self.carrier_code is not None and self.carrier_url is not None:
            raise ValueError("carrier_url is computed by Mirakl for a registered carrier; do not send it")
        return self

    @classmethod
    def registered(cls, carrier_code: str, tracking_number: str | None) -> Tracking:
        return cls(carrier_code=carrier_code, tracking_number=tracking_number)

    @classmethod
    def unregistered(cls, carrier_name: str, tracking_number: str | None, carrier_url: str | None) -> Tracking:
        return cls(carrier_name=carrier_name, tracking_number=tracking_number, carrier_url=carrier_url)


class RefundCreate(MiraklRequest):
    """One OR28 refund on an order line; `quantity` is informative only for Mirakl."""

    order_line_id: str
    amount: Decimal
    shipping_amount: Decimal
    reason_code: str
    quantity: int | None = None
    currency_iso_code: str | None = None
    taxes: list[TaxAmount] | None = None
    shipping_taxes: list[TaxAmount] | None = None
    excluded_from_shipment: bool | None = None


class LineCancelation(MiraklRequest):
    """One OR30 cancellation of a quantity on an order line."""

    order_line_id: str
    quantity: int
    amount: Decimal
    shipping_amount: Decimal
    reason_code: str
    currency_iso_code: str | None = None
    taxes: list[TaxAmount] | None = None
    shipping_taxes: list[TaxAmount] | None = None


# --- orders: responses (OR01, OR11, OR28, OR30) ----------------------------------------------------------------


class Tax(MiraklResponse):
    code: str | None = None
    amount: Decimal | None = None
    rate: Decimal | None = None


class OrderLineRefund(MiraklResponse):
    id: str
    order_refund_id: str | None = None
    created_date: MiraklDatetime | None = None
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None
    refund_state: str | None = None
    commission_total_amount: Decimal | None = None
    taxes: list[Tax] = Field(default_factory=list)
    shipping_taxes: list[Tax] = Field(default_factory=list)


class OrderLineCancelation(MiraklResponse):
    id: str
    created_date: MiraklDatetime | None = None
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None
    commission_total_amount: Decimal | None = None


class OrderLine(MiraklResponse):
    order_line_id: str
    order_line_index: int | None = None
    order_line_state: str | None = None
    offer_id: int | None = None
    offer_sku: str | None = None
    product_sku: str | None = None
    quantity: int | None = None
    price_unit: Decimal | None = None
    price: Decimal | None = None
    shipping_price: Decimal | None = None
    total_price: Decimal | None = None
    commission_fee: Decimal | None = None
    total_commission: Decimal | None = None
    taxes: list[Tax] = Field(default_factory=list)
    shipping_taxes: list[Tax] = Field(default_factory=list)
    refunds: list[OrderLineRefund] = Field(default_factory=list)
    cancelations: list[OrderLineCancelation] = Field(default_factory=list)
    can_refund: bool | None = None
    created_date: MiraklDatetime | None = None
    last_updated_date: MiraklDatetime | None = None
    shipped_date: MiraklDatetime | None = None


class Order(MiraklResponse):
    """A logistic order (one shop's part of a commercial order), as OR01 and OR11 return it.

    `customer` holds personal data: it is kept for completeness but left out of the repr so it never lands
    in a log line by accident.
    """

    order_id: str
    commercial_id: str | None = None
    shop_id: int | None = None
    shop_name: str | None = None
    order_state: str | None = None
    order_state_reason_code: str | None = None
    created_date: MiraklDatetime | None = None
    last_updated_date: MiraklDatetime | None = None
    acceptance_decision_date: MiraklDatetime | None = None
    customer_debited_date: MiraklDatetime | None = None
    shipping_deadline: MiraklDatetime | None = None
    currency_iso_code: str | None = None
    price: Decimal | None = None
    shipping_price: Decimal | None = None
    total_price: Decimal | None = None
    total_commission: Decimal | None = None
    order_tax_mode: str | None = None
    payment_workflow: str | None = None
    shipping_type_code: str | None = None
    shipping_zone_code: str | None = None
    shipping_carrier_code: str | None = None
    shipping_company: str | None = None
    shipping_tracking: str | None = None
    shipping_tracking_url: str | None = None
    can_cancel: bool | None = None
    order_lines: list[OrderLine] = Field(default_factory=list)
    customer: dict[str, Any] | None = Field(default=None, repr=False)


class OfferNotShippable(MiraklResponse):
    offer_id: int
    error_code: str


class ShippingTypeOption(MiraklResponse):
    code: str


class ShippingRateOffer(MiraklResponse):
    """One offer of an SH02 order: the shipping types it allows in the zone asked for."""

    offer_id: int
    offer_quantity: int | None = None
    allowed_shipping_types: list[ShippingTypeOption] = Field(default_factory=list)


class ShippingRateOrder(MiraklResponse):
    """One future logistic order of SH02 (a shop and its selected shipping type)."""

    shop_id: int
    offers: list[ShippingRateOffer] = Field(default_factory=list)


class ShippingRateError(MiraklResponse):
    """An SH02 `errors[]` entry: `SHIPPING_ZONE_NOT_ALLOWED`, `SHIPPING_TYPE_NOT_ALLOWED`, `OFFER_NOT_FOUND`..."""

    error_code: str
    offer_id: int
    shipping_type_code: str | None = None


class ShippingRates(MiraklResponse):
    """SH02 answer (mmp-front-openapi.yaml `SH02_Response_200`, where `errors` and `orders` are required)."""

    orders: list[ShippingRateOrder]
    errors: list[ShippingRateError]

    def allowed_types(self) -> dict[int, list[str]]:
        """Offer id -> the shipping type codes it allows, in Mirakl's order."""
        return {o.offer_id: [t.code for t in o.allowed_shipping_types] for order in self.orders for o in order.offers}


class OrderCreated(MiraklResponse):
    """OR01 answer: the logistic orders created and the offers that could not be (partial creation is legal)."""

    orders: list[Order] = Field(default_factory=list)
    offers_not_shippable: list[OfferNotShippable] = Field(default_factory=list)


class RefundCreated(MiraklResponse):
    refund_id: str
    order_refund_id: str | None = None
    order_line_id: str
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None


class LineCancelationCreated(MiraklResponse):
    """One OR30 result; the spec names the id `cancelation_id`, OR11 line cancelations call it `id`."""

    cancelation_id: str = Field(validation_alias=AliasChoices("cancelation_id", "id"))
    order_line_id: str
    amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    quantity: int | None = None
    reason_code: str | None = None


# --- payments (PA11/PA01, PA12/PA02) ---------------------------------------------------------------------------


class DebitEntity(MiraklResponse):
    id: str
    type: str


class DebitLine(MiraklResponse):
    order_line_id: str
    offer_id: str | None = None
    order_line_amount: Decimal
    order_line_quantity: int


class Debit(MiraklResponse):
    """A logistic order waiting for the customer debit (PA11), to be confirmed or refused with PA01."""

    order_id: str
    order_commercial_id: str | None = None
    shop_id: str | None = None
    customer_id: str
    amount: Decimal
    currency_iso_code: str | None = None
    imprint_number: str | None = None
    payment_type: str | None = None
    debit_entity: DebitEntity | None = None
    order_lines: Annotated[list[DebitLine], BeforeValidator(_xml_list("order_line"))] = Field(default_factory=list)


class _DebitEntityRef(MiraklRequest):
    id: str
    type: str


class DebitConfirmation(MiraklRequest):
    """One PA01 entry: `OK` moves the order to SHIPPING, `REFUSED` cancels it."""

    order_id: str
    customer_id: str
    payment_status: Literal["OK", "REFUSED"]
    amount: Decimal | None = None
    currency_iso_code: str | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None
    debit_entity: _DebitEntityRef | None = None

    @model_validator(mode="after")
    def _amount_when_ok(self) -> DebitConfirmation:
        if self.payment_status == "OK" and self.amount is None:
            raise ValueError("amount is required when payment_status is OK")
        return self


class PendingRefundItem(MiraklResponse):
    id: str
    amount: Decimal


class PendingRefundLine(MiraklResponse):
    order_line_id: str
    offer_id: str | None = None
    order_line_amount: Decimal | None = None
    order_line_quantity: int | None = None
    refunds: Annotated[list[PendingRefundItem], BeforeValidator(_xml_list("refund"))] = Field(default_factory=list)


class PendingRefund(MiraklResponse):
    """A logistic order with refunds waiting for payment (PA12), confirmed per refund with PA02."""

    order_id: str
    order_commercial_id: str | None = None
    shop_id: str | None = None
    customer_id: str | None = None
    amount: Decimal
    currency_iso_code: str | None = None
    imprint_number: str | None = None
    payment_workflow: str | None = None
    order_lines: Annotated[list[PendingRefundLine], BeforeValidator(_xml_list("order_line"))] = Field(
        default_factory=list
    )


class RefundConfirmation(MiraklRequest):
    """One PA02 entry; `amount` is the refund amount plus its shipping amount."""

    refund_id: str
    payment_status: Literal["OK", "REFUSED"]
    amount: Decimal | None = None
    currency_iso_code: str | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None

    @model_validator(mode="after")
    def _amount_when_ok(self) -> RefundConfirmation:
        if self.payment_status == "OK" and self.amount is None:
            raise ValueError("amount is required when payment_status is OK")
        return self


class LineRefundConfirmation(MiraklRequest):
    """One PA02 entry in the per-line form (`PA02_Request_OrderLines`): every refund waiting on the line at once.

    Deprecated, "In case partial refunds are deactivated on your platform, this field is not deprecated but
    mandatory" (PA02_Request.order_lines).
    """

    order_id: str
    order_line_id: str
    customer_id: str
    payment_status: Literal["OK", "REFUSED"]
    amount: Decimal | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None

    @model_validator(mode="after")
    def _amount_when_ok(self) -> LineRefundConfirmation:
        if self.payment_status == "OK" and self.amount is None:
            raise ValueError("amount is required when payment_status is OK")
        return self


# --- reference data (SH21, RE01) -------------------------------------------------------------------------------


class Carrier(MiraklResponse):
    code: str
    label: str
    standard_code: str | None = None
    tracking_url: str | None = None


class Reason(MiraklResponse):
    code: str
    label: str
    type: str
    is_shop_right: bool = False
    is_operator_right: bool = False
    is_customer_right: bool = False


# --- finance (TL02, IV01, SBC11) -------------------------------------------------------------------------------


class TransactionShop(MiraklResponse):
    id: int | None = None
    model: str | None = None


class TransactionEntityRef(MiraklResponse):
    id: str | None = None
    commercial_id: str | None = None


class TransactionEntities(MiraklResponse):
    domain: str | None = None
    order: TransactionEntityRef | None = None
    order_line: TransactionEntityRef | None = None
    refund: TransactionEntityRef | None = None


class Transaction(MiraklResponse):
    """A TL02 transaction line: one money movement for a shop (order amount, commission, refund, payout...)."""

    id: str
    type: str | None = None
    amount: Decimal | None = None
    amount_credited: Decimal | None = None
    amount_debited: Decimal | None = None
    balance: Decimal | None = None
    currency_iso_code: str | None = None
    date_created: MiraklDatetime | None = None
    last_updated: MiraklDatetime | None = None
    payment_state: str | None = None
    accounting_document_id: str | None = None
    accounting_document_number: str | None = None
    seller_billing_cycle_id: str | None = None
    shop: TransactionShop | None = None
    entities: TransactionEntities | None = None


class Invoice(MiraklResponse):
    """An IV01 accounting document; issued ones have `invoice_id`, drafts only `id`."""

    invoice_id: int | None = None
    id: str | None = None
    type: str | None = None
    state: str | None = None
    date_created: MiraklDatetime | None = None
    issue_date: MiraklDatetime | None = None
    due_date: MiraklDatetime | None = None
    shop_id: int | None = None
    shop_name: str | None = None
    currency_iso_code: str | None = None
    total_amount_excl_taxes: Decimal | None = None
    total_amount_incl_taxes: Decimal | None = None
    payment_voucher_number: str | None = None


class BillingCycleShop(MiraklResponse):
    shop_id: int | None = None
    shop_name: str | None = None


class PayOut(MiraklResponse):
    state: str | None = None
    reference: str | None = None
    transaction_date: MiraklDatetime | None = None
    failure_reason: str | None = None


class BillingCycle(MiraklResponse):
    """An SBC11 seller billing cycle: what was paid out to a shop and kept by the operator."""

    id: str
    date_created: MiraklDatetime | None = None
    currency_iso_code: str | None = None
    shop: BillingCycleShop | None = None
    amount_transferred_to_seller: Decimal | None = None
    amount_transferred_to_operator: Decimal | None = None
    pay_out: PayOut | None = None
    payment_voucher_number: str | None = None
    summary: dict[str, Decimal | None] = Field(default_factory=dict)
