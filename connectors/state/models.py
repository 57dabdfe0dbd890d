"""The bridge's own tables: cursors, the outbox queue, the ledger of external writes, and the id maps.

They are the memory that lets any run crash and restart without losing or repeating work. The schema is
created by the Alembic migrations beside this module; a test keeps the two in step.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from connectors.state.types import BigId, Money, UtcDateTime, utcnow

__all__ = [
    "LEDGER_OUTCOMES",
    "OFFER_OWNERS",
    "OUTBOX_STATUSES",
    "Base",
    "CallBudget",
    "CallBudgetUse",
    "CarrierList",
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
    "OutboxWorker",
    "QuarantineRecord",
    "ReconciliationLine",
    "ReconciliationRun",
    "StreamCursor",
    "StreamRun",
]

OUTBOX_STATUSES = ("pending", "in_flight", "done", "failed", "quarantined")
LEDGER_OUTCOMES = ("started", "succeeded", "failed")
OFFER_OWNERS = ("mirakl", "native")
RECONCILIATION_STATUSES = ("reconciled", "gate_failed")

# Fixed constraint names, so the hand-written migration and later ALTERs name the same objects on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

KEY_LENGTH = 255


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StreamCursor(Base):
    """Where an incremental read stopped; saved only once the page's effects are recorded."""

    __tablename__ = "stream_cursor"

    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class StreamRun(Base):
    """When a stream last completed a run (work and report done): a mark of its own, not a read position."""

    __tablename__ = "stream_run"

    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    succeeded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OfferMapping(Base):
    """One Mirakl product and the BigCommerce variant that sells it, with what was last pushed."""

    __tablename__ = "offer_map"
    __table_args__ = (
        UniqueConstraint("product_sku"),
        CheckConstraint(_one_of("owner", OFFER_OWNERS), name="owner"),
        Index(None, "owner"),
        Index(None, "bc_variant_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_sku: Mapped[str] = mapped_column(String(KEY_LENGTH))
    bc_product_id: Mapped[int | None] = mapped_column(BigInteger)
    bc_variant_id: Mapped[int | None] = mapped_column(BigInteger)
    bc_sku: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    owner: Mapped[str] = mapped_column(String(16), default="mirakl")
    offer_id: Mapped[int | None] = mapped_column(BigInteger)
    shop_id: Mapped[int | None] = mapped_column(BigInteger)
    price: Mapped[Decimal | None] = mapped_column(Money)
    quantity: Mapped[int | None] = mapped_column(Integer)
    purchasable: Mapped[bool | None] = mapped_column(Boolean)
    pushed_hash: Mapped[str | None] = mapped_column(String(64))
    mirakl_updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    bc_acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class OutboxItem(Base):
    """A change waiting to be pushed; drained in API-sized batches so a crash loses nothing."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        CheckConstraint(_one_of("status", OUTBOX_STATUSES), name="status"),
        Index(None, "stream", "kind", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class OutboxWorker(Base):
    """A process draining an outbox right now: who it is, and when it last showed it was alive.

    A claim in flight belongs to a worker; whoever finds the worker dead (its flow run ended, its process is
    gone from this host, or its heartbeat stopped) gives its items back to the queue at once instead of waiting
    for the lease. A worker that ends cleanly deletes its row; a dead worker's row goes with its take-over.
    """

    __tablename__ = "outbox_worker"
    __table_args__ = (Index(None, "stream"),)

    worker: Mapped[str] = mapped_column(String(128), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    pid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LedgerEntry(Base):
    """One write to an external system, recorded before and after the call so a rerun never repeats it."""

    __tablename__ = "ledger"
    __table_args__ = (
        UniqueConstraint("system", "operation", "idempotency_key"),
        CheckConstraint(_one_of("outcome", LEDGER_OUTCOMES), name="outcome"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(32))
    operation: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    outcome: Mapped[str] = mapped_column(String(16), default="started")
    external_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Who began the write (flow run, host, pid; None on rows before 0008): a row left `started` by a run that is
    # gone is settled by the next run of its stream, while a live run's write in flight is left alone.
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    host: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    pid: Mapped[int | None] = mapped_column(Integer)


class QuarantineRecord(Base):
    """A record a gate or an API refused, kept with its reason so nothing is dropped silently."""

    __tablename__ = "quarantine"
    __table_args__ = (Index(None, "stream", "resolved_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64))
    record_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    run_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ExceptionCase(Base):
    """An open problem that needs a person (customer service or operations), opened once per cause."""

    __tablename__ = "exception_case"
    __table_args__ = (
        UniqueConstraint("stream", "key", "kind"),
        Index(None, "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    stream: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OrderRoute(Base):
    """A BigCommerce order and the Mirakl commercial order it was routed to (if any)."""

    __tablename__ = "order_route"
    __table_args__ = (UniqueConstraint("commercial_id"),)

    bc_order_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    commercial_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    status: Mapped[str] = mapped_column(String(32))
    native_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    routed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class LogisticOrder(Base):
    """One seller's part of a commercial order, as Mirakl splits it (`<commercial_id>-A`, ...)."""

    __tablename__ = "logistic_order"
    __table_args__ = (Index(None, "commercial_id"), Index(None, "bc_order_id"))

    mirakl_order_id: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    commercial_id: Mapped[str] = mapped_column(String(KEY_LENGTH))
    bc_order_id: Mapped[int | None] = mapped_column(BigInteger)
    shop_id: Mapped[int | None] = mapped_column(BigInteger)
    state: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class OrderLineMapping(Base):
    """A BigCommerce order product and the Mirakl order line that fulfils it."""

    __tablename__ = "order_line_map"
    __table_args__ = (
        UniqueConstraint("bc_order_id", "bc_order_product_id"),
        UniqueConstraint("mirakl_order_line_id"),
        Index(None, "mirakl_order_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bc_order_id: Mapped[int] = mapped_column(BigInteger)
    bc_order_product_id: Mapped[int] = mapped_column(BigInteger)
    mirakl_order_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    mirakl_order_line_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    offer_id: Mapped[int | None] = mapped_column(BigInteger)
    shop_id: Mapped[int | None] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    # On a Mirakl-owned variant (never the ERP's), even when it never reached Mirakl; None on rows before 0005.
    marketplace: Mapped[bool | None] = mapped_column(Boolean)


class CarrierOverride(Base):
    """An operations-owned carrier mapping that replaces or adds to the versioned carrier table.

    The file is reviewed and released with the code; this row is what operations edit when a seller or the
    warehouse starts using a carrier the file does not know yet, without waiting for a release.
    """

    __tablename__ = "carrier_override"

    mirakl_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    shipping_provider: Mapped[str] = mapped_column(String(64), default="")
    tracking_carrier: Mapped[str] = mapped_column(String(128), default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CarrierList(Base):
    """The last carrier list a platform gave (SH21 for Mirakl), kept so a failed refresh falls back to it.

    One row per source. `fetched_at` is when the list was last read and `version` how many distinct lists were
    read; a refresh that got no usable answer leaves the list as it was and records when and why in
    `refresh_failed_at` / `refresh_error`. `stale_since` is the first failed refresh since the last good read
    (the stale episode) and `stale_alerted_at` when it was last alerted, so it is alerted once, not every run.
    Kept out of `stream_cursor`: it is reference data, not where a stream's read stopped.
    """

    __tablename__ = "carrier_list"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    carriers: Mapped[dict[str, str]] = mapped_column(JSON)
    fetched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refresh_failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refresh_error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    stale_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stale_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReconciliationRun(Base):
    """One reconciliation of a period: replaced, with `revision` bumped, when the same period is run again."""

    __tablename__ = "reconciliation_run"
    __table_args__ = (
        UniqueConstraint("scope", "period_start", "period_end"),
        CheckConstraint(_one_of("status", RECONCILIATION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ReconciliationLine(Base):
    """One order line of a reconciliation run: both sides' amounts and the classes of its differences."""

    __tablename__ = "reconciliation_line"
    __table_args__ = (UniqueConstraint("run_id", "line_key"), Index(None, "order_line_id"), Index(None, "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("reconciliation_run.id", ondelete="CASCADE"))
    line_key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    status: Mapped[str] = mapped_column(String(255))
    shop_id: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    bc_order_id: Mapped[int | None] = mapped_column(BigInteger)
    bc_order_product_id: Mapped[int | None] = mapped_column(BigInteger)
    mirakl_order_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    order_line_id: Mapped[str | None] = mapped_column(String(KEY_LENGTH))
    bc_amount: Mapped[Decimal] = mapped_column(Money)
    mk_amount: Mapped[Decimal] = mapped_column(Money)
    bc_tax: Mapped[Decimal] = mapped_column(Money)
    mk_tax: Mapped[Decimal] = mapped_column(Money)
    mk_commission: Mapped[Decimal] = mapped_column(Money)
    expected_commission: Mapped[Decimal | None] = mapped_column(Money)
    bc_refund: Mapped[Decimal] = mapped_column(Money)
    mk_refund: Mapped[Decimal] = mapped_column(Money)


class OfferBookEntry(Base):
    """One seller's current offer on a Mirakl product, as the last exports left it.

    A delta export carries only the offers that changed, but choosing a product's best offer needs the others
    too (a stock-out must let another seller take over), so the bridge keeps every live offer. A gate refusal
    stays on the row (`blocked_reason`) until a good update replaces it.
    """

    __tablename__ = "offer_book"
    __table_args__ = (Index(None, "product_sku"), Index(None, "shop_id"))

    offer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    product_sku: Mapped[str] = mapped_column(String(KEY_LENGTH))
    shop_id: Mapped[int | None] = mapped_column(BigInteger)
    price: Mapped[Decimal | None] = mapped_column(Money)
    shipping: Mapped[Decimal | None] = mapped_column(Money)
    quantity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool | None] = mapped_column(Boolean)
    currency: Mapped[str | None] = mapped_column(String(3))
    last_updated: Mapped[datetime | None] = mapped_column(UtcDateTime)
    blocked_reason: Mapped[str | None] = mapped_column(Text)


class OfferMetafieldState(Base):
    """The storefront metafield a Mirakl-owned variant carries (winning offer and runners-up), as last pushed.

    Keeps the BigCommerce metafield id, so a change is one batch update by id rather than a lookup, and the
    hash of the pushed value, so an unchanged winner costs no call.
    """

    __tablename__ = "offer_metafield"

    bc_variant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    product_sku: Mapped[str] = mapped_column(String(KEY_LENGTH))
    metafield_id: Mapped[int | None] = mapped_column(BigInteger)
    pushed_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class CallBudget(Base):
    """One row per budgeted operation: the row every worker locks before counting that operation's calls.

    Locking it (an UPDATE) serialises the count-then-record of every worker on PostgreSQL (a row lock) and on
    SQLite (the write lock), so two workers cannot both see a free slot and both take it.
    """

    __tablename__ = "call_budget"

    operation: Mapped[str] = mapped_column(String(32), primary_key=True)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CallBudgetUse(Base):
    """One call an operation's budget admitted, when; kept only as long as the budget's longest window."""

    __tablename__ = "call_budget_use"
    __table_args__ = (Index(None, "operation", "used_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    operation: Mapped[str] = mapped_column(String(32))
    used_at: Mapped[datetime] = mapped_column(UtcDateTime)
