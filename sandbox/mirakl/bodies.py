"""Request bodies the emulator accepts, with the required fields of the Mirakl specs (OR01_Request, PA01_Request,
OR28_Request ...).

Unknown fields are tolerated, as on a real tenant; a missing required field is a 400 naming the field. Amounts
parse straight from JSON text into Decimal.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AcceptRequest",
    "CancelRequest",
    "CreateOrderRequest",
    "DebitRequest",
    "ExportRequest",
    "ImportIn",
    "OfferChanges",
    "OfferDefects",
    "RefundPaymentRequest",
    "RefundRequest",
    "SellerRefundIn",
    "ShipIn",
    "TrackingRequest",
    "TransactionsIn",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class TaxIn(_Body):
    code: str
    amount: Decimal | None = None
    rate: Decimal | None = None


class Address(_Body):
    lastname: str
    street_1: str
    zip_code: str
    city: str
    country: str
    country_iso_code: str = Field(pattern=r"^[A-Z]{3}$")  # the sandbox tenant has the alpha-3 option on
    firstname: str | None = None


class Customer(_Body):
    customer_id: str
    email: str
    firstname: str
    lastname: str
    billing_address: Address
    shipping_address: Address


class OfferLineIn(_Body):
    offer_id: int
    quantity: int = Field(gt=0)
    offer_price: Decimal
    price: Decimal
    shipping_price: Decimal
    shipping_type_code: str
    currency_iso_code: str | None = None
    order_line_id: str | None = None
    taxes: list[TaxIn] = []
    shipping_taxes: list[TaxIn] = []
    order_line_additional_fields: list[dict[str, Any]] = []


class PaymentInfo(_Body):
    payment_type: str | None = None
    imprint_number: str | None = None


class CreateOrderRequest(_Body):
    commercial_id: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    customer: Customer
    offers: list[OfferLineIn] = Field(min_length=1)
    shipping_zone_code: str
    scored: bool
    payment_workflow: Literal[
        "PAY_ON_ACCEPTANCE", "PAY_ON_DELIVERY", "PAY_ON_DUE_DATE", "PAY_ON_SHIPMENT", "NO_CUSTOMER_PAYMENT_CONFIRMATION"
    ]
    payment_info: PaymentInfo | None = None
    order_tax_mode: Literal["TAX_INCLUDED", "TAX_EXCLUDED"] | None = None
    channel_code: str | None = None
    references: dict[str, Any] | None = None
    order_additional_fields: list[dict[str, Any]] = []


class LineDecision(_Body):
    id: str
    accepted: bool


class AcceptRequest(_Body):
    order_lines: list[LineDecision] = Field(min_length=1)


class TrackingRequest(_Body):
    carrier_code: str | None = None
    carrier_name: str | None = None
    carrier_standard_code: str | None = None
    carrier_url: str | None = None
    tracking_number: str | None = None


class RefundIn(_Body):
    order_line_id: str
    amount: Decimal = Field(ge=0)
    shipping_amount: Decimal = Field(ge=0)
    reason_code: str
    quantity: int | None = None
    currency_iso_code: str | None = None
    taxes: list[TaxIn] | None = None
    shipping_taxes: list[TaxIn] | None = None


class RefundRequest(_Body):
    refunds: list[RefundIn] = Field(min_length=1)
    order_tax_mode: Literal["TAX_INCLUDED", "TAX_EXCLUDED"] | None = None


class CancelationIn(_Body):
    order_line_id: str
    quantity: int
    amount: Decimal = Field(ge=0)
    shipping_amount: Decimal = Field(ge=0)
    reason_code: str
    currency_iso_code: str | None = None
    taxes: list[TaxIn] | None = None
    shipping_taxes: list[TaxIn] | None = None


class CancelRequest(_Body):
    cancelations: list[CancelationIn] = Field(min_length=1)
    order_tax_mode: Literal["TAX_INCLUDED", "TAX_EXCLUDED"] | None = None


class DebitEntityIn(_Body):
    id: str
    type: Literal["ORDER", "SHIPMENT"]


class DebitIn(_Body):
    order_id: str
    customer_id: str
    payment_status: Literal["OK", "REFUSED"]
    amount: Decimal | None = None
    currency_iso_code: str | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None
    debit_entity: DebitEntityIn | None = None


class DebitRequest(_Body):
    orders: list[DebitIn] = Field(min_length=1)


class RefundPaymentIn(_Body):
    refund_id: str
    payment_status: Literal["OK", "REFUSED"]
    amount: Decimal | None = None
    currency_iso_code: str | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None


class LineRefundPaymentIn(_Body):
    order_id: str
    order_line_id: str
    customer_id: str
    payment_status: Literal["OK", "REFUSED"]
    amount: Decimal | None = None
    transaction_number: str | None = None
    transaction_date: datetime | None = None


class RefundPaymentRequest(_Body):
    refunds: list[RefundPaymentIn] = []
    order_lines: list[LineRefundPaymentIn] = []  # deprecated per-line form, still accepted


class ExportRequest(_Body):
    export_type: Literal["text/csv", "application/json"] = "text/csv"
    last_request_date: datetime | None = None
    include_inactive_offers: bool = False
    items_per_chunk: int | None = Field(default=None, ge=1)
    megabytes_per_chunk: int | None = Field(default=None, ge=1)
    models: list[Literal["MARKETPLACE", "DROPSHIP", "ONE_CREDITOR"]] | None = None


# --- control endpoints (the emulator's own, for tests and the demo) ---------------------------------------------


class OfferChange(_Body):
    offer_id: int
    shop_id: int | None = None
    product_sku: str | None = None
    shop_sku: str | None = None
    price: Decimal | None = None
    min_shipping_price: Decimal | None = None
    quantity: int | None = Field(default=None, ge=0)
    active: bool | None = None
    deleted: bool | None = None


class OfferChanges(_Body):
    offers: list[OfferChange] = Field(min_length=1)


class OfferDefect(_Body):
    offer_id: int
    fields: dict[str, Any] = Field(description="raw export values planted over the row; {} removes the defect")


class OfferDefects(_Body):
    defects: list[OfferDefect] = Field(min_length=1)


class ImportIn(_Body):
    shop_id: int
    status: Literal["WAITING_SYNCHRONIZATION_PRODUCT", "WAITING", "RUNNING", "COMPLETE", "FAILED"] = "COMPLETE"
    lines_read: int = 10
    lines_in_error: int = 0
    reason_status: str | None = None
    date_created: datetime | None = None


class ShipIn(_Body):
    carrier_code: str = "UPS"
    tracking_number: str | None = None


class SellerRefundIn(_Body):
    order_line_id: str | None = None  # default: the order's first open line
    amount: Decimal | None = None  # default: what is left to refund on the line
    shipping_amount: Decimal = Decimal("0")
    reason_code: str = "11"
    quantity: int | None = None


class TransactionIn(_Body):
    type: str
    amount: Decimal
    shop_id: int
    order_id: str | None = None
    commercial_id: str | None = None
    order_line_id: str | None = None
    date_created: datetime | None = None
    payment_state: str = "PENDING"


class TransactionsIn(_Body):
    lines: list[TransactionIn] = Field(min_length=1)


class OfferChurnIn(_Body):
    share: float = Field(gt=0, le=1)  # of the live (not deleted) offers
    stock_out_share: float = Field(default=0.3, ge=0, le=1)  # of those, sold out; the others gain one unit
    seed: int = 5


class StockOutIn(_Body):
    product_skus: list[str] = Field(min_length=1)
