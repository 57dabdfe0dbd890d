"""The guard's pure rules: deadlines, debit decisions, acceptance outcomes and the seller scorecard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.config import AcceptanceConfig, OrderRoutingConfig
from connectors.bigcommerce.models import Order as BcOrder
from connectors.mirakl.models import Debit
from connectors.mirakl.models import Order as MiraklOrder
from tasks.acceptance import acceptance_outcome, deadline_for, decide_debit, expected_amount, scorecard

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def mirakl(state: str, shop: int = 2000, **extra: Any) -> MiraklOrder:
    return MiraklOrder.model_validate(
        {"order_id": "1-A", "order_state": state, "shop_id": shop, "created_date": T0.isoformat(), **extra}
    )


def bc(status_id: int = 11, total: str = "50.00", payment_status: str = "captured") -> BcOrder:
    return BcOrder.model_validate(
        {
            "id": 1,
            "status_id": status_id,
            "total_ex_tax": total,
            "total_inc_tax": total,
            "payment_status": payment_status,
        }
    )


def debit(amount: str) -> Debit:
    return Debit.model_validate(
        {
            "order_id": "1-A",
            "customer_id": "7",
            "amount": amount,
            "order_lines": {
                "order_line": [{"order_line_id": "1-5", "order_line_amount": amount, "order_line_quantity": 1}]
            },
        }
    )


def test_acceptance_deadline_uses_the_sellers_override_and_warns_at_the_configured_share() -> None:
    config = AcceptanceConfig(default_delay_hours=72, seller_delay_hours={2001: 24}, warn_share=0.75)
    deadline = deadline_for(mirakl("WAITING_ACCEPTANCE", shop=2001), config)
    assert deadline is not None and deadline.due == T0 + timedelta(hours=24)
    assert [deadline.level(T0 + timedelta(hours=h), 0.75) for h in (17, 18, 24)] == ["ok", "at_risk", "breached"]


def test_a_staged_order_clock_starts_at_its_release_and_shipping_orders_have_none() -> None:
    released = T0 + timedelta(hours=5)
    deadline = deadline_for(mirakl("WAITING_ACCEPTANCE"), AcceptanceConfig(), released)
    assert deadline is not None and deadline.start == released
    assert deadline_for(mirakl("SHIPPING"), AcceptanceConfig()) is None


def test_debit_is_confirmed_only_when_paid_and_equal_to_the_order_map() -> None:
    cfg = OrderRoutingConfig()
    expected = expected_amount(debit("40.00"), {"1-5": Decimal("40.00")})
    none = Decimal("0")
    assert decide_debit(debit("40.00"), expected, bc(), cfg, none).verdict == "OK"
    assert decide_debit(debit("41.00"), expected, bc(), cfg, none).verdict == "MISMATCH"
    assert decide_debit(debit("40.00"), None, bc(), cfg, none).verdict == "MISMATCH"
    pending = bc(status_id=7, payment_status="pending")
    assert decide_debit(debit("40.00"), expected, pending, cfg, none).verdict == "WAIT"
    assert decide_debit(debit("40.00"), expected, bc(status_id=5), cfg, none).verdict == "REFUSED"
    assert decide_debit(debit("40.00"), expected, bc(status_id=4), cfg, none).verdict == "REFUSED"
    assert decide_debit(debit("40.00"), expected, bc(total="30.00"), cfg, none).verdict == "MISMATCH"


def test_a_debit_is_expected_less_what_bigcommerce_refunded_and_must_be_covered_by_what_is_left_paid() -> None:
    cfg = OrderRoutingConfig()
    expected = expected_amount(debit("30.00"), {"1-5": Decimal("40.00")}, {"1-5": Decimal("10.00")})
    assert expected == Decimal("30.00")
    partly = bc(payment_status="partially refunded")
    assert decide_debit(debit("30.00"), expected, partly, cfg, Decimal("10.00")).verdict == "OK"
    # Mirakl still asks the full line although BigCommerce paid 10.00 back: never confirmed.
    assert decide_debit(debit("40.00"), expected, partly, cfg, Decimal("10.00")).verdict == "MISMATCH"
    # Refunds elsewhere on the order left less paid than the debit asks.
    assert decide_debit(debit("30.00"), expected, bc(total="50.00"), cfg, Decimal("25.00")).verdict == "MISMATCH"


def test_a_refusal_without_decision_date_is_automatic() -> None:
    decided = (T0 + timedelta(hours=2)).isoformat()
    assert acceptance_outcome(mirakl("REFUSED", last_updated_date=decided))[0] == "refused_auto"
    assert acceptance_outcome(mirakl("REFUSED", acceptance_decision_date=decided))[0] == "refused_seller"
    assert acceptance_outcome(mirakl("WAITING_DEBIT_PAYMENT", acceptance_decision_date=decided))[0] == "accepted"
    assert acceptance_outcome(mirakl("WAITING_ACCEPTANCE")) is None


def test_scorecard_counts_outcomes_refusal_rate_median_time_and_breaches() -> None:
    rows = [
        ("acceptance-outcome", {"shop_id": 2000, "shop_name": "Seller 1", "outcome": "accepted", "seconds": 3600}),
        ("acceptance-outcome", {"shop_id": 2000, "shop_name": "Seller 1", "outcome": "accepted", "seconds": 10800}),
        ("acceptance-outcome", {"shop_id": 2000, "shop_name": "Seller 1", "outcome": "refused_seller", "seconds": 60}),
        ("acceptance-outcome", {"shop_id": 2002, "shop_name": "Seller 3", "outcome": "refused_auto", "seconds": None}),
        ("bcmirakl.acceptance.breached", {"shop_id": 2002}),
    ]
    table = {row["shop_id"]: row for row in scorecard(rows, "bcmirakl.acceptance.breached")}
    assert table[2000] | {} == {
        "shop_id": 2000,
        "seller": "Seller 1",
        "orders": 3,
        "accepted": 2,
        "refused_by_seller": 1,
        "refused_automatically": 0,
        "refusal_rate": 0.333,
        "median_hours_to_accept": 2.0,
        "breaches": 0,
    }
    assert table[2002]["refused_automatically"] == 1 and table[2002]["breaches"] == 1


def test_a_debit_per_shipment_expects_the_shipped_units_share_of_each_line() -> None:
    shipped_one_of_two = Debit.model_validate(
        {
            "order_id": "1-A",
            "customer_id": "7",
            "amount": "20.00",
            "debit_entity": {"id": "SH-1", "type": "SHIPMENT"},
            "order_lines": {
                "order_line": [{"order_line_id": "1-5", "order_line_amount": "20.00", "order_line_quantity": 1}]
            },
        }
    )
    expected = expected_amount(shipped_one_of_two, {"1-5": Decimal("40.00")}, {}, {"1-5": 2})
    assert expected == Decimal("20.00")
    cfg, none = OrderRoutingConfig(), Decimal("0")
    assert decide_debit(shipped_one_of_two, expected, bc(), cfg, none, "SHIPMENT").verdict == "OK"
    assert decide_debit(shipped_one_of_two, expected, bc(), cfg, none, "ORDER").verdict == "MISMATCH"
