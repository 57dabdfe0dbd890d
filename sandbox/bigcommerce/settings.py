"""Constants of the emulated store, and the settings a test or benchmark may change.

The limits and enumerations below come from BigCommerce's specs and guides (shared/api/bigcommerce.md); keeping
them in one place lets a test read the same numbers the emulator enforces.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "CLIENT_ID",
    "CLIENT_STATE_KEY",
    "DEFAULT_LIMIT",
    "DEFAULT_LOCATION_ID",
    "ERROR_TYPE",
    "MAX_ABSOLUTE_ADJUSTMENT_ITEMS",
    "MAX_INVENTORY_LEVEL",
    "MAX_INVENTORY_PAGE_LIMIT",
    "MAX_PAGE_LIMIT",
    "MAX_VARIANT_BATCH",
    "ORDER_STATUSES",
    "OWNER_KEY",
    "OWNER_NAMESPACE",
    "PAID_PAYMENT_STATUSES",
    "PAYMENT_STATUS_BY_STATUS_ID",
    "SHIPPING_PROVIDERS",
    "BigCommerceSandboxSettings",
]

ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
MAX_PAGE_LIMIT = 250  # v3 catalog and v2 lists: a larger `limit` answers 413
MAX_INVENTORY_PAGE_LIMIT = 1000  # inventory items: "1000 items for payload length"
MAX_VARIANT_BATCH = 50  # PUT /v3/catalog/variants
MAX_ABSOLUTE_ADJUSTMENT_ITEMS = 2000  # PUT /v3/inventory/adjustments/absolute
MAX_INVENTORY_LEVEL = 2_147_483_647
DEFAULT_LIMIT = 50
DEFAULT_LOCATION_ID = 1
CLIENT_ID = "sandbox-client"  # the bridge's API account; owns every hook and the metafields it creates
CLIENT_STATE_KEY = "bc_client_id"  # where the gateway leaves the calling API account in the request state

OWNER_NAMESPACE = "bcmirakl"
OWNER_KEY = "owner"

# (id, name, system description, display order) from orders.v2 `GET /order_statuses`.
ORDER_STATUSES: dict[int, tuple[str, str, int]] = {
    0: ("Incomplete", "A shopper reached the payment page, but did not complete the transaction.", 0),
    1: ("Pending", "Customer started the checkout process, but did not complete it.", 1),
    2: ("Shipped", "Shipped, receipt not confirmed; the seller used the Ship Items action.", 8),
    3: ("Partially Shipped", "Only some items in the order have been shipped.", 6),
    4: ("Refunded", "Seller has used the Refund action.", 11),
    5: ("Cancelled", "Seller has cancelled an order, due to a stock inconsistency or other reasons.", 9),
    6: ("Declined", "Seller has marked the order as declined for lack of manual payment, or other reasons.", 10),
    7: ("Awaiting Payment", "Customer has completed checkout process, but payment has yet to be confirmed.", 2),
    8: ("Awaiting Pickup", "Pulled, awaiting customer pickup from a seller-specified location.", 5),
    9: ("Awaiting Shipment", "Pulled and packaged, awaiting collection by a shipping provider.", 4),
    10: ("Completed", "Client has paid for their digital product and their file(s) are available for download.", 7),
    11: ("Awaiting Fulfillment", "Customer has completed the checkout process and payment has been confirmed.", 3),
    12: ("Manual Verification Required", "Order is on hold while some aspect needs to be manually confirmed.", 13),
    13: ("Disputed", "Customer has initiated a dispute resolution process for the PayPal transaction.", 12),
    14: ("Partially Refunded", "Seller has partially refunded the order.", 14),
}  # fmt: skip

PAYMENT_STATUS_BY_STATUS_ID: dict[int, str] = {
    0: "",
    1: "",
    2: "captured",
    3: "captured",
    4: "refunded",
    5: "void",
    6: "declined",
    7: "pending",
    8: "captured",
    9: "captured",
    10: "captured",
    11: "captured",
    12: "held for review",
    13: "captured",
    14: "partially refunded",
}
PAID_PAYMENT_STATUSES = frozenset({"captured", "paid", "partially refunded", "authorized"})

# `shipping_provider` enum of orders.v2 `orderShipment_Post` (bigcommerce.md §4.2); `carrier_<id>` is also accepted.
SHIPPING_PROVIDERS = frozenset(
    {"", "auspost", "canadapost", "endicia", "usps", "fedex", "ups", "upsready", "upsonline", "shipperhq", "royalmail"}
)


@dataclass
class BigCommerceSandboxSettings:
    """What differs between emulated stores; the clock is injected so tests advance rate-limit windows."""

    store_hash: str = "sandbox"
    access_token: str = "sandbox-token"  # the bridge's API account, client CLIENT_ID
    # Other API accounts (apps) of the same store, token -> client id: what they may see of the bridge's
    # metafields is decided by `permission_set` (orders.v3.yml: `app_only` is "Private to the app that owns the
    # field", `read` is "Visible to other API consumers").
    other_app_tokens: dict[str, str] = field(default_factory=lambda: {"sandbox-other-app-token": "other-app"})
    quota: int = 150
    window_ms: int = 30_000
    clock: Callable[[], float] = time.monotonic
    fault_seed: int = 7
