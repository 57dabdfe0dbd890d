"""Which refund on a Mirakl line is the bridge's own after an OR28 whose answer was lost: evidence or a case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.mirakl.models import OrderLineRefund
from tasks.refunds.recovery import CLOCK_SKEW, AmbiguousRecovery, own_refund

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ROW = {"amount": Decimal("20.00"), "shipping_amount": Decimal("0.00"), "reason_code": "14", "quantity": 1}


def _refund(refund_id: str, at: datetime | None, amount: str = "20.00", reason: str = "14") -> OrderLineRefund:
    return OrderLineRefund(
        id=refund_id, created_date=at, amount=Decimal(amount), shipping_amount=Decimal("0"), reason_code=reason
    )


def test_the_one_look_alike_created_after_the_write_started_is_the_bridges() -> None:
    refunds = [
        _refund("old-seller", START - timedelta(hours=1)),  # long before: not ours
        _refund("other-amount", START + timedelta(seconds=3), amount="5.00"),
        _refund("other-reason", START + timedelta(seconds=3), reason="11"),
        _refund("ours", START + timedelta(seconds=2)),
    ]
    assert own_refund(refunds, ROW, START, claimed=set()) == "ours"


def test_no_look_alike_since_the_start_means_the_write_never_reached_mirakl() -> None:
    refunds = [_refund("old-seller", START - timedelta(hours=1)), _refund("paid", START + timedelta(seconds=1))]
    assert own_refund(refunds, ROW, START, claimed={"paid"}) is None


def test_a_millisecond_stamp_just_before_the_start_still_counts_as_after_it() -> None:
    assert own_refund([_refund("ours", START - timedelta(milliseconds=400))], ROW, START, set()) == "ours"


@pytest.mark.parametrize(
    ("refunds", "candidates"),
    [
        ([_refund("ours", START + timedelta(seconds=1)), _refund("seller", START + timedelta(minutes=1))], 2),
        ([_refund("ours", START + timedelta(seconds=1)), _refund("seller", START - CLOCK_SKEW / 2)], 2),
        ([_refund("ambiguous", START - CLOCK_SKEW / 2)], 1),
        ([_refund("undated", None)], 1),
    ],
    ids=["two-since-the-start", "one-within-the-clock-skew", "only-within-the-skew", "no-creation-date"],
)
def test_evidence_that_does_not_single_out_one_refund_is_ambiguous(
    refunds: list[OrderLineRefund], candidates: int
) -> None:
    with pytest.raises(AmbiguousRecovery) as raised:
        own_refund(refunds, ROW, START, claimed=set())
    assert len(raised.value.candidates) == candidates
