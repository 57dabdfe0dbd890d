"""The bridge's state store: SQLAlchemy 2 tables and the repository functions over them.

Tables and plain functions taking a `Session`, no business rules. Functions flush but never commit, so a
task groups its writes (effects, ledger, cursor) in one transaction it commits itself.
"""

from __future__ import annotations

from connectors.state.carriers import delete_carrier_override, list_carrier_overrides, upsert_carrier_overrides
from connectors.state.cases import open_exception, open_exceptions, resolve_exception
from connectors.state.cursors import get_cursor, set_cursor
from connectors.state.db import (
    DEFAULT_SQLITE_URL,
    create_state_engine,
    is_postgres,
    session_factory,
    upgrade,
)
from connectors.state.ledger import ledger_begin, ledger_finish, ledger_get
from connectors.state.models import (
    Base,
    CarrierOverride,
    ExceptionCase,
    LedgerEntry,
    LogisticOrder,
    OfferBookEntry,
    OfferMapping,
    OfferMetafieldState,
    OrderLineMapping,
    OrderRoute,
    OutboxItem,
    QuarantineRecord,
    StreamCursor,
)
from connectors.state.offer_book import (
    block_offers_of_shops,
    delete_offers,
    iter_offer_book,
    offer_metafields_for,
    offers_for_products,
    upsert_offer_book,
    upsert_offer_metafields,
)
from connectors.state.offer_map import get_offer_map, iter_offer_map, upsert_offer_map
from connectors.state.order_map import (
    get_logistic_order,
    get_order_line_by_mirakl_line,
    get_order_route,
    get_order_route_by_commercial_id,
    logistic_orders_for,
    order_lines_for,
    upsert_logistic_orders,
    upsert_order_lines,
    upsert_order_routes,
)
from connectors.state.outbox import (
    DEFAULT_LEASE,
    claim_batch,
    enqueue,
    enqueue_many,
    mark_done,
    mark_failed,
    mark_quarantined,
    quarantined_ids,
    queue_depth,
    requeue,
)
from connectors.state.quarantines import quarantine, quarantine_counts, quarantine_many, resolve_quarantine
from connectors.state.reconciliation import (
    get_reconciliation_run,
    order_lines_for_reconciliation,
    reconciliation_lines,
    replace_reconciliation_run,
)

__all__ = [
    "DEFAULT_LEASE",
    "DEFAULT_SQLITE_URL",
    "Base",
    "CarrierOverride",
    "ExceptionCase",
    "LedgerEntry",
    "LogisticOrder",
    "OfferBookEntry",
    "OfferMapping",
    "OfferMetafieldState",
    "OrderLineMapping",
    "OrderRoute",
    "OutboxItem",
    "QuarantineRecord",
    "StreamCursor",
    "block_offers_of_shops",
    "claim_batch",
    "create_state_engine",
    "delete_carrier_override",
    "delete_offers",
    "enqueue",
    "enqueue_many",
    "get_cursor",
    "get_logistic_order",
    "get_offer_map",
    "get_order_line_by_mirakl_line",
    "get_order_route",
    "get_order_route_by_commercial_id",
    "get_reconciliation_run",
    "is_postgres",
    "iter_offer_book",
    "iter_offer_map",
    "ledger_begin",
    "ledger_finish",
    "ledger_get",
    "list_carrier_overrides",
    "logistic_orders_for",
    "mark_done",
    "mark_failed",
    "mark_quarantined",
    "offer_metafields_for",
    "offers_for_products",
    "open_exception",
    "open_exceptions",
    "order_lines_for",
    "order_lines_for_reconciliation",
    "quarantine",
    "quarantine_counts",
    "quarantine_many",
    "quarantined_ids",
    "queue_depth",
    "reconciliation_lines",
    "replace_reconciliation_run",
    "requeue",
    "resolve_exception",
    "resolve_quarantine",
    "session_factory",
    "set_cursor",
    "upgrade",
    "upsert_carrier_overrides",
    "upsert_logistic_orders",
    "upsert_offer_book",
    "upsert_offer_map",
    "upsert_offer_metafields",
    "upsert_order_lines",
    "upsert_order_routes",
]
