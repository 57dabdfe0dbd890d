"""Rules and events of the accept-order SLA guard; the flow's step tasks live in `tasks.acceptance.guard`."""

from __future__ import annotations

from tasks.acceptance.clock import Deadline, deadline_for
from tasks.acceptance.debits import DebitDecision, decide_debit, expected_amount
from tasks.acceptance.guard import AT_RISK_EVENT, BREACHED_EVENT, MISMATCH_EVENT
from tasks.acceptance.outcomes import acceptance_outcome, scorecard
from tasks.acceptance.refusals import REFUSED_EVENT

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
    "scorecard",
]
