"""Mirakl constants in one place: paths, page sizes and limits, so the client holds no magic numbers."""

from __future__ import annotations

SYSTEM = "mirakl"

# Offset paging (`max`/`offset`): Mirakl defaults to 10 per page and treats 100 as the ceiling.
OFFSET_PAGE_SIZE = 100
# Seek paging (`limit`/`page_token`): each operation has its own ceiling.
OF04_PAGE_SIZE = 100
TL02_PAGE_SIZE = 2000
SBC11_PAGE_SIZE = 1000
# OR11 answers 400 when a list filter carries more than 100 values.
OR11_MAX_IDS_PER_CALL = 100
# An OF54 chunk or an OF51 CSV may hold many thousand offers; consumers get them in pages of this size.
OFFER_PAGE_SIZE = 1000

# OF53: Mirakl recommends polling once a minute at most every 10 s; the delay doubles up to the cap.
OFFER_EXPORT_POLL_INTERVAL_S = 10.0
OFFER_EXPORT_MAX_POLL_INTERVAL_S = 300.0
OFFER_EXPORT_MAX_POLLS = 8

# OAuth tokens are renewed this long before Mirakl says they expire.
OAUTH_REFRESH_MARGIN_S = 300.0

# What Mirakl says when OR24 is called on an order that is already past SHIPPING.
ALREADY_IN_STATE_MARKER = "Current status is"

REQUEST_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

PATH_OFFERS_EXPORT_CSV = "/api/offers/export"  # OF51
PATH_OFFERS_EXPORT_ASYNC = "/api/offers/export/async"  # OF52
PATH_OFFERS_EXPORT_STATUS = "/api/offers/export/async/status/{tracking_id}"  # OF53
PATH_OFFER_IMPORTS = "/api/offers/imports"  # OF04
PATH_OFFER_IMPORT = "/api/offers/imports/{import_id}"  # OF02
PATH_OFFER_IMPORT_ERROR_REPORT = "/api/offers/imports/{import_id}/error_report"  # OF03
PATH_SHOPS = "/api/shops"  # S20
PATH_ORDERS = "/api/orders"  # OR01 (POST), OR11 (GET)
PATH_ORDER_VALID = "/api/orders/valid/{commercial_id}"  # OR02
PATH_ORDER_INVALID = "/api/orders/invalid/{commercial_id}"  # OR03
PATH_ORDER_ACCEPT = "/api/orders/{order_id}/accept"  # OR21
PATH_ORDER_TRACKING = "/api/orders/{order_id}/tracking"  # OR23
PATH_ORDER_SHIP = "/api/orders/{order_id}/ship"  # OR24
PATH_ORDER_REFUND = "/api/orders/refund"  # OR28
PATH_ORDER_CANCEL = "/api/orders/{order_id}/cancel"  # OR29
PATH_ORDER_LINES_CANCEL = "/api/orders/cancel"  # OR30
PATH_PAYMENT_DEBIT = "/api/payment/debit"  # PA11 (GET), PA01 (PUT)
PATH_PAYMENT_REFUND = "/api/payment/refund"  # PA12 (GET), PA02 (PUT)
PATH_CARRIERS = "/api/shipping/carriers"  # SH21
PATH_SHIPPING_RATES = "/api/shipping/rates"  # SH02
PATH_REASONS = "/api/reasons"  # RE01
PATH_TRANSACTIONS = "/api/sellerpayment/transactions_logs"  # TL02
PATH_INVOICES = "/api/invoices"  # IV01
PATH_BILLING_CYCLES = "/api/seller-billing-cycles"  # SBC11
