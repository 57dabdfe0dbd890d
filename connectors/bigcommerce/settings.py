"""BigCommerce constants in one place, so a changed limit or path is a one-line edit (see api/bigcommerce.md)."""

from __future__ import annotations

__all__ = [
    "ALL_REFUNDS",
    "API_BASE_URL",
    "DEFAULT_LOCATION_ID",
    "HOOKS",
    "IDS_PER_FILTER",
    "INVENTORY_ABSOLUTE",
    "INVENTORY_ADJUSTMENT_BATCH_LIMIT",
    "INVENTORY_ITEMS",
    "INVENTORY_LOCATIONS",
    "MAX_ERROR_MESSAGE_CHARS",
    "METAFIELD_BATCH_LIMIT",
    "ORDERS",
    "ORDER_LINES_INCLUDE",
    "ORDER_METAFIELDS",
    "ORDER_METAFIELDS_BATCH",
    "ORDER_PAGE_SIZE",
    "ORDER_REFUNDS",
    "ORDER_STATUSES",
    "ORDER_TRANSACTIONS",
    "PAGE_SIZE",
    "PRODUCTS",
    "REFUND_QUOTES",
    "SKUS_PER_FILTER",
    "SYSTEM",
    "USER_AGENT",
    "V2",
    "V3",
    "VARIANTS",
    "VARIANT_BATCH_LIMIT",
    "VARIANT_METAFIELDS",
]

SYSTEM = "bigcommerce"
API_BASE_URL = "https://api.bigcommerce.com"
USER_AGENT = "bcmirakl/0.1 (+https://github.com/bcmirakl)"

# Path templates relative to the base URL. They carry no leading slash so that a base URL with a path prefix
# (the sandbox's `http://host/bigcommerce`) keeps its prefix when httpx joins them.
V2 = "stores/{store_hash}/v2"
V3 = "stores/{store_hash}/v3"

PRODUCTS = "catalog/products"
VARIANTS = "catalog/variants"
VARIANT_METAFIELDS = "catalog/variants/metafields"
INVENTORY_ABSOLUTE = "inventory/adjustments/absolute"
INVENTORY_ITEMS = "inventory/items"
INVENTORY_LOCATIONS = "inventory/locations"
ORDERS = "orders"
ORDER_STATUSES = "order_statuses"
ORDER_METAFIELDS = "orders/{order_id}/metafields"
ORDER_METAFIELDS_BATCH = "orders/metafields"
REFUND_QUOTES = "orders/{order_id}/payment_actions/refund_quotes"
ORDER_REFUNDS = "orders/{order_id}/payment_actions/refunds"
ORDER_TRANSACTIONS = "orders/{order_id}/transactions"
ALL_REFUNDS = "orders/payment_actions/refunds"
HOOKS = "hooks"

# orders.v2.oas2.yml, parameter `order_includes`: "`consignments.line_items&consignment_structure=object` - include
# the response returned from the request to the `/orders/{order_id}/products` endpoint in consignments".
ORDER_LINES_INCLUDE = {"include": "consignments.line_items", "consignment_structure": "object"}

# Page sizes: 250 is the documented maximum for v3 collections and v2 order lists (413 above it).
PAGE_SIZE = 250
ORDER_PAGE_SIZE = 250

# Batch limits: PUT /v3/catalog/variants takes 50 items, the batch metafield endpoints 50, inventory
# adjustments 2000; above them the API answers 413 and saves nothing. orders.v3.yml states no limit for the
# batch order metafield endpoints (/orders/metafields), so they are held to the same 50.
VARIANT_BATCH_LIMIT = 50
METAFIELD_BATCH_LIMIT = 50
INVENTORY_ADJUSTMENT_BATCH_LIMIT = 2000

# Values per undocumented list filter (`id:in`, `sku:in`, `resource_id:in`), so no URL carries every value.
IDS_PER_FILTER = 200
SKUS_PER_FILTER = 50

# The store's default location (the one the Catalog API's stock reads and writes): id 1, as the inventory
# docs address it; used unless a location is configured.
DEFAULT_LOCATION_ID = 1

# Error messages are cut here so that a huge error body can never flood a log line or an artifact.
MAX_ERROR_MESSAGE_CHARS = 500
