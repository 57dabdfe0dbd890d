"""Cursors, the ledger, the quarantine and exception cases: small tables whose writes must be idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.state import (
    LedgerEntry,
    get_cursor,
    ledger_begin,
    ledger_finish,
    ledger_get,
    open_cs_case,
    quarantine,
    quarantine_counts,
    quarantine_many,
    resolve_cs_case,
    resolve_quarantine,
    resolve_rejections,
    set_cursor,
    unresolved_cs_cases,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_cursor_round_trip_and_overwrite(session: Session) -> None:
    assert get_cursor(session, "offers") is None
    set_cursor(session, "offers", "2025-03-01T10:00:00Z")
    set_cursor(session, "orders", "42")
    session.commit()
    set_cursor(session, "offers", "2025-03-01T10:15:00Z")
    session.commit()
    assert get_cursor(session, "offers") == "2025-03-01T10:15:00Z"
    assert get_cursor(session, "orders") == "42"


def test_ledger_begin_twice_returns_the_same_row(session: Session) -> None:
    first = ledger_begin(session, "mirakl", "OR01", "bc-order-100", {"bc_order_id": 100}, now=T0)
    session.commit()
    second = ledger_begin(session, "mirakl", "OR01", "bc-order-100", {"bc_order_id": 999})
    assert second.id == first.id
    assert (second.outcome, second.detail, second.started_at) == ("started", {"bc_order_id": 100}, T0)
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


def test_ledger_finish_records_outcome_and_external_id(session: Session) -> None:
    entry = ledger_begin(session, "mirakl", "OR28", "refund-7", {"amount": Decimal("12.50")})
    ledger_finish(session, entry, "succeeded", external_id="R-123", now=T0 + timedelta(seconds=2))
    session.commit()
    stored = ledger_get(session, "mirakl", "OR28", "refund-7")
    assert stored is not None
    assert (stored.outcome, stored.external_id, stored.finished_at) == (
        "succeeded",
        "R-123",
        T0 + timedelta(seconds=2),
    )
    # Amounts are stored as exact strings in JSON, never as floats.
    assert stored.detail == {"amount": "12.50"}
    assert ledger_get(session, "bigcommerce", "OR28", "refund-7") is None


def test_ledger_finish_refuses_an_unknown_outcome(session: Session) -> None:
    entry = ledger_begin(session, "bigcommerce", "refund", "k")
    with pytest.raises(ValueError, match="outcome"):
        ledger_finish(session, entry, "maybe")


def test_quarantine_counts_unresolved_records_by_reason(session: Session) -> None:
    quarantine(session, "offers", "sku-1", "price_missing", {"sku": "sku-1"}, run_id="run-1")
    first = quarantine(session, "offers", "sku-2", "price_missing")
    quarantine_many(
        session,
        "offers",
        [
            {"record_key": "sku-3", "reason": "negative_stock", "payload": {"quantity": -1}},
            {"record_key": "sku-4", "reason": "negative_stock"},
        ],
        run_id="run-2",
    )
    quarantine(session, "refunds", "r-1", "amount_exceeds_line")
    session.commit()
    assert quarantine_counts(session, "offers") == {"price_missing": 2, "negative_stock": 2}
    assert resolve_quarantine(session, [first.id]) == 1
    assert resolve_quarantine(session, [first.id]) == 0
    assert quarantine_counts(session, "offers") == {"price_missing": 1, "negative_stock": 2}
    assert quarantine_counts(session) == {"price_missing": 1, "negative_stock": 2, "amount_exceeds_line": 1}


def test_open_cs_case_is_idempotent_and_reopens_after_resolution(session: Session) -> None:
    assert open_cs_case(session, "orders", "100", "accept_sla_breach", {"bc_order_id": 100}, now=T0) is True
    assert open_cs_case(session, "orders", "100", "accept_sla_breach", {"bc_order_id": 100}) is False
    assert open_cs_case(session, "orders", "100", "refund_mismatch", None) is True
    session.commit()
    cases = unresolved_cs_cases(session, "orders")
    assert next((case.key, case.kind, case.opened_at) for case in cases) == ("100", "accept_sla_breach", T0)
    assert len(cases) == 2

    assert resolve_cs_case(session, "orders", "100", "accept_sla_breach") is True
    assert resolve_cs_case(session, "orders", "100", "accept_sla_breach") is False
    assert [case.kind for case in unresolved_cs_cases(session)] == ["refund_mismatch"]

    later = T0 + timedelta(days=1)
    assert open_cs_case(session, "orders", "100", "accept_sla_breach", {"again": True}, now=later) is True
    session.commit()
    reopened = [case for case in unresolved_cs_cases(session, "orders") if case.kind == "accept_sla_breach"]
    assert [(case.opened_at, case.detail, case.resolved_at) for case in reopened] == [(later, {"again": True}, None)]
    assert unresolved_cs_cases(session, "offers") == []


def test_a_later_success_resolves_only_the_open_rejections_of_its_keys(session: Session) -> None:
    records = [
        {"record_key": "P-1", "reason": "rejected by BigCommerce: price invalid", "payload": None},
        {"record_key": "P-1", "reason": "price above ceiling", "payload": None},
        {"record_key": "P-2", "reason": "rejected by BigCommerce: 422", "payload": None},
    ]
    quarantine_many(session, "offer_sync", records)
    assert resolve_rejections(session, "offer_sync", ["P-1", "P-3"], "rejected by BigCommerce") == 1
    assert resolve_rejections(session, "offer_sync", ["P-1"], "rejected by BigCommerce") == 0
    assert resolve_rejections(session, "other_stream", ["P-2"], "rejected by BigCommerce") == 0
    session.commit()
    assert quarantine_counts(session, "offer_sync") == {"price above ceiling": 1, "rejected by BigCommerce: 422": 1}
