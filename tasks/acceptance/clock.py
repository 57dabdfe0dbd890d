"""The acceptance clock: Mirakl exposes no deadline, so the bridge computes one from configuration.

An order waiting for its seller's acceptance is refused automatically after the tenant's delay (configurable,
with per-seller overrides); an accepted order waiting for our debit confirmation is cancelled after another
delay. Each waiting order gets a deadline from a reference time (creation, or the STAGING release by OR02, or
the acceptance decision) and is `at_risk` past a share of its window and `breached` after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bridge.config import AcceptanceConfig
from connectors.mirakl.models import Order as MiraklOrder

__all__ = ["ACCEPTANCE_STATES", "DEBIT_STATES", "Deadline", "deadline_for"]

ACCEPTANCE_STATES = frozenset({"WAITING_ACCEPTANCE"})
DEBIT_STATES = frozenset({"WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"})
Phase = Literal["acceptance", "debit"]
Level = Literal["ok", "at_risk", "breached"]


@dataclass(frozen=True)
class Deadline:
    order_id: str
    shop_id: int | None
    phase: Phase
    start: datetime
    due: datetime

    def level(self, now: datetime, warn_share: float) -> Level:
        if now >= self.due:
            return "breached"
        if now >= self.start + (self.due - self.start) * warn_share:
            return "at_risk"
        return "ok"

    def seconds_left(self, now: datetime) -> int:
        return int((self.due - now).total_seconds())


def deadline_for(order: MiraklOrder, config: AcceptanceConfig, released_at: datetime | None = None) -> Deadline | None:
    """The deadline of an order waiting for acceptance or debit; None for any other state.

    Args:
        order: the logistic order as OR11 returns it.
        config: the acceptance section (delays in hours).
        released_at: when OR02 released it from STAGING, if it was staged (the seller's clock starts then).
    """
    if order.order_state in ACCEPTANCE_STATES:
        start = max(filter(None, (order.created_date, released_at)), default=None)
        hours = config.seller_delay_hours.get(order.shop_id or -1, config.default_delay_hours)
        phase: Phase = "acceptance"
    elif order.order_state in DEBIT_STATES:
        start = order.acceptance_decision_date or order.last_updated_date or order.created_date
        hours = config.debit_delay_hours
        phase = "debit"
    else:
        return None
    if start is None:
        return None
    return Deadline(order.order_id, order.shop_id, phase, start, start + timedelta(hours=hours))
