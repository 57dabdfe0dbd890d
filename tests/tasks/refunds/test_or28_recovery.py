"""Which refund on a Mirakl line is the bridge's own after an OR28 whose answer was lost: evidence or a case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connectors.mirakl.models import OrderLineRefund
from tasks.refunds.recovery import CLOCK_SKEW, AmbiguousRecovery, own_refund, seller_refund_paid_by

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


def _waiting(refund_id: str, amount: str = "20.00", state: str = "WAITING_REFUND_PAYMENT") -> OrderLineRefund:
    return _refund(refund_id, START, amount=amount, reason="seller").model_copy(update={"refund_state": state})


def test_an_over_refund_is_the_payment_of_the_one_unclaimed_seller_refund_of_the_same_amounts() -> None:
    over = {**ROW, "refund_within_paid": False}
    refunds = [
        _waiting("paid", state="REFUNDED"),
        _waiting("claimed"),
        _waiting("other-amount", amount="5.00"),
        _waiting("seller"),
    ]
    assert seller_refund_paid_by(refunds, over, claimed={"claimed"}) == "seller"


@pytest.mark.parametrize(
    ("within", "refunds"),
    [(True, [_waiting("seller")]), (False, [_waiting("one"), _waiting("two")]), (False, [_waiting("other", "5")])],
    ids=["within-what-is-left", "two-look-alikes", "none-of-the-same-amount"],
)
def test_no_seller_refund_is_paid_by_a_refund_that_fits_or_whose_match_is_not_single(
    within: bool, refunds: list[OrderLineRefund]
) -> None:
    assert seller_refund_paid_by(refunds, {**ROW, "refund_within_paid": within}, claimed=set()) is None
