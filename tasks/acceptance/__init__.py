"""Tasks of the accept-order SLA guard: release staged orders, settle debits and refusals, watch deadlines."""

from __future__ import annotations

from tasks.acceptance.clock import Deadline, deadline_for
from tasks.acceptance.debits import DebitDecision, decide_debit, expected_amount
from tasks.acceptance.guard import (
    AT_RISK_EVENT,
    BREACHED_EVENT,
    MISMATCH_EVENT,
    fetch_watched_orders,
    publish_scorecard,
    record_progress,
    release_staging,
    settle_debits,
    settle_refusals,
    watch_deadlines,
)
from tasks.acceptance.outcomes import acceptance_outcome, scorecard
from tasks.acceptance.refusals import REFUSED_EVENT, settle_refusal

__all__ = [
    "AT_RISK_EVENT",
    "BREACHED_EVENT",
    "MISMATCH_EVENT",
    "REFUSED_EVENT",
    "Deadline",
    "DebitDecision",
    "acceptance_outcome",
    "deadline_for",
    "decide_debit",
    "expected_amount",
    "fetch_watched_orders",
    "publish_scorecard",
    "record_progress",
    "release_staging",
    "scorecard",
    "settle_debits",
    "settle_refusal",
    "settle_refusals",
    "watch_deadlines",
]
