"""Acceptance outcomes and alert markers in the ledger, and the seller scorecard built from them.

The ledger is the bridge's record of what happened: each logistic order's acceptance outcome (accepted,
refused by the seller, refused automatically) is written once with its timing, and each deadline alert is
written once so it fires once per order and phase, however often the guard runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.mirakl.models import Order as MiraklOrder
from connectors.state import LedgerEntry, ledger_begin, ledger_finish, ledger_get

__all__ = ["OUTCOME_OPERATION", "acceptance_outcome", "mark_once", "outcome_rows", "record_outcome", "scorecard"]

SYSTEM = "mirakl"
OUTCOME_OPERATION = "acceptance-outcome"
_PENDING = frozenset({"STAGING", "WAITING_ACCEPTANCE"})


def acceptance_outcome(order: MiraklOrder) -> tuple[str, datetime | None] | None:
    """(`accepted` | `refused_seller` | `refused_auto`, decision time) once decided; None while pending.

    Mirakl leaves `acceptance_decision_date` empty when it refused (or accepted) automatically.
    """
    state = order.order_state
    if state is None or state in _PENDING or state == "CANCELED":
        return None
    if state == "REFUSED":
        if order.acceptance_decision_date is None:
            return "refused_auto", order.last_updated_date
        return "refused_seller", order.acceptance_decision_date
    return "accepted", order.acceptance_decision_date or order.last_updated_date


def record_outcome(session: Session, order: MiraklOrder, started: datetime | None) -> str | None:
    """Write the order's acceptance outcome once; returns it when newly written."""
    decided = acceptance_outcome(order)
    if decided is None or ledger_get(session, SYSTEM, OUTCOME_OPERATION, order.order_id) is not None:
        return None
    outcome, at = decided
    start = started or order.created_date
    seconds = int((at - start).total_seconds()) if at and start else None
    detail = {"shop_id": order.shop_id, "shop_name": order.shop_name, "outcome": outcome, "seconds": seconds}
    entry = ledger_begin(session, SYSTEM, OUTCOME_OPERATION, order.order_id, detail)
    ledger_finish(session, entry, "succeeded", outcome)
    return outcome


def mark_once(session: Session, operation: str, key: str, detail: dict[str, Any]) -> bool:
    """True the first time (operation, key) is marked: alerts fire once per order and phase."""
    if ledger_get(session, "prefect", operation, key) is not None:
        return False
    ledger_finish(session, ledger_begin(session, "prefect", operation, key, detail), "succeeded")
    return True


def outcome_rows(session: Session, operations: Iterable[str]) -> list[tuple[str, dict[str, Any]]]:
    query = select(LedgerEntry.operation, LedgerEntry.detail).where(LedgerEntry.operation.in_(list(operations)))
    return [(operation, detail or {}) for operation, detail in session.execute(query)]


def scorecard(rows: Iterable[tuple[str, dict[str, Any]]], breach_operation: str) -> list[dict[str, Any]]:
    """Per seller: orders decided, accepted, refused (seller / automatic), refusal rate, median hours, breaches."""
    sellers: dict[int, dict[str, Any]] = {}
    for operation, detail in rows:
        shop_id = detail.get("shop_id")
        if shop_id is None:
            continue
        seller = sellers.setdefault(
            shop_id,
            {"shop_id": shop_id, "seller": None, "outcomes": [], "seconds": [], "breaches": 0},
        )
        if operation == breach_operation:
            seller["breaches"] += 1
            continue
        seller["seller"] = seller["seller"] or detail.get("shop_name")
        seller["outcomes"].append(detail.get("outcome"))
        if detail.get("outcome") == "accepted" and detail.get("seconds") is not None:
            seller["seconds"].append(detail["seconds"])
    table = []
    for shop_id in sorted(sellers):
        s = sellers[shop_id]
        decided = len(s["outcomes"])
        refused_seller = s["outcomes"].count("refused_seller")
        refused_auto = s["outcomes"].count("refused_auto")
        table.append(
            {
                "shop_id": shop_id,
                "seller": s["seller"] or f"shop {shop_id}",
                "orders": decided,
                "accepted": s["outcomes"].count("accepted"),
                "refused_by_seller": refused_seller,
                "refused_automatically": refused_auto,
                "refusal_rate": round((refused_seller + refused_auto) / decided, 3) if decided else None,
                "median_hours_to_accept": round(median(s["seconds"]) / 3600, 2) if s["seconds"] else None,
                "breaches": s["breaches"],
            }
        )
    return table
