"""The gate attributes each planted defect to its row with the suite's reason, and trips only above threshold."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import expectations
from common.errors import ConfigurationError, DataError
from expectations import CircuitBreakerTripped, run_gate


def offers_frame(rows: int) -> pd.DataFrame:
    """Offer-sync batch; a string index, as the gate must keep the caller's labels."""
    positions = np.arange(rows)
    return pd.DataFrame(
        {
            "product_sku": [f"SKU-{i:06d}" for i in positions],
            "offer_id": positions + 1,
            "shop_id": 2000 + positions % 7,
            "price": [Decimal("19.99") + i % 100 for i in positions],
            "quantity": positions % 50,
            "currency": "EUR",
            "shop_active": True,
            "price_change_ok": True,
            "price_below_ceiling": True,
            "currency_ok": True,
        },
        index=pd.Index([f"offer-{i}" for i in positions], name="key"),
    )


def orders_out_frame(rows: int) -> pd.DataFrame:
    positions = np.arange(rows)
    return pd.DataFrame(
        {
            "order_line_id": [f"BC-{i}-1" for i in positions],
            "offer_id": positions + 1,
            "quantity": 1 + positions % 3,
            "offer_price": [Decimal("12.50")] * rows,
            "currency_ok": True,
        }
    )


def refunds_out_frame(rows: int) -> pd.DataFrame:
    positions = np.arange(rows)
    return pd.DataFrame(
        {
            "order_line_id": [f"Order_{i:05d}-A-1" for i in positions],
            "amount": [Decimal("1.50")] * rows,
            "refund_within_paid": True,
        }
    )


def reconciliation_frame(rows: int) -> pd.DataFrame:
    positions = np.arange(rows)
    return pd.DataFrame(
        {
            "transaction_id": [f"TX-{i}" for i in positions],
            "amount": [Decimal("3.10")] * rows,
            "currency_ok": True,
            "day_complete": True,
        }
    )


FRAME_BUILDERS: dict[str, Callable[[int], pd.DataFrame]] = {
    "offers": offers_frame,
    "orders_out": orders_out_frame,
    "refunds_out": refunds_out_frame,
    "reconciliation": reconciliation_frame,
}


def plant(frame: pd.DataFrame, position: int, column: str, value: object) -> pd.DataFrame:
    """A copy of `frame` with one cell replaced; the column widens to object only if the value needs it."""
    planted = frame.copy()
    dtype = planted[column].dtype
    if value is None or (dtype.kind != "O" and not np.can_cast(np.min_scalar_type(value), dtype)):
        planted[column] = planted[column].astype(object)
    planted.iloc[position, planted.columns.get_loc(column)] = value
    return planted


OFFER_DEFECTS = [
    ("price", Decimal("0"), "expect_column_values_to_be_between(price)", "price must be > 0"),
    ("price", Decimal("-4.00"), "expect_column_values_to_be_between(price)", "price must be > 0"),
    ("price", None, "expect_column_values_to_not_be_null(price)", "missing price"),
    ("price_below_ceiling", False, "expect_column_values_to_be_in_set(price_below_ceiling)", "price above ceiling"),
    ("quantity", -1, "expect_column_values_to_be_between(quantity)", "negative stock"),
    ("quantity", 2.5, "expect_column_values_to_be_in_type_list(quantity)", "stock must be a whole number"),
    ("currency_ok", False, "expect_column_values_to_be_in_set(currency_ok)", "wrong currency"),
    ("shop_active", False, "expect_column_values_to_be_in_set(shop_active)", "shop inactive"),
    ("shop_active", None, "expect_column_values_to_not_be_null(shop_active)", "shop state unknown"),
    (
        "price_change_ok",
        False,
        "expect_column_values_to_be_in_set(price_change_ok)",
        "probable feed error: price change beyond bound",
    ),
    ("product_sku", None, "expect_column_values_to_not_be_null(product_sku)", "missing product sku"),
]


@pytest.mark.parametrize("suite", sorted(FRAME_BUILDERS))
def test_clean_batch_passes_whole_with_original_index_and_values(suite: str) -> None:
    frame = FRAME_BUILDERS[suite](12)

    result = run_gate(frame, suite)

    assert result.verdict == "pass"
    assert not result.tripped
    assert result.failure_share == 0.0
    pd.testing.assert_frame_equal(result.passed, frame)
    assert result.failed.empty
    assert list(result.failed.columns) == [*frame.columns, "failed_expectation", "reason"]


@pytest.mark.parametrize(("column", "value", "rule", "reason"), OFFER_DEFECTS)
def test_offer_defect_is_blamed_on_its_row_with_the_suites_reason(
    column: str, value: object, rule: str, reason: str
) -> None:
    frame = plant(offers_frame(10), 3, column, value)

    result = run_gate(frame, "offers")

    assert list(result.failed.index) == ["offer-3"]
    assert result.failed.loc["offer-3", "failed_expectation"] == rule
    assert result.failed.loc["offer-3", "reason"] == reason
    assert "offer-3" not in result.passed.index
    assert len(result.passed) == 9
    assert result.failure_share == pytest.approx(0.1)
    assert result.verdict == "partial"


def test_duplicate_product_sku_quarantines_every_copy() -> None:
    frame = plant(offers_frame(10), 9, "product_sku", "SKU-000002")  # rows 2 and 9: the same seller, 2002

    result = run_gate(frame, "offers")

    assert list(result.failed.index) == ["offer-2", "offer-9"]
    assert set(result.failed["reason"]) == {"duplicate product in batch"}
    assert set(result.failed["failed_expectation"]) == {"expect_compound_columns_to_be_unique(shop_id, product_sku)"}


def test_one_product_offered_by_two_sellers_is_not_a_duplicate() -> None:
    frame = plant(offers_frame(10), 7, "product_sku", "SKU-000002")  # rows 2 and 7: sellers 2002 and 2000

    result = run_gate(frame, "offers")

    assert result.failed.empty


@pytest.mark.parametrize(
    ("suite", "column", "value", "reason"),
    [
        ("orders_out", "offer_id", None, "missing offer id"),
        ("orders_out", "quantity", 0, "quantity must be >= 1"),
        ("orders_out", "offer_price", Decimal("-0.01"), "negative unit price"),
        ("orders_out", "currency_ok", False, "wrong currency"),
        ("refunds_out", "amount", Decimal("-1"), "negative refund amount"),
        ("refunds_out", "refund_within_paid", False, "refund exceeds amount paid"),
        ("refunds_out", "refund_within_paid", None, "refund not checked against paid amount"),
        ("reconciliation", "currency_ok", False, "wrong currency"),
        ("reconciliation", "day_complete", False, "incomplete day"),
        ("reconciliation", "transaction_id", "TX-0", "duplicate transaction"),
    ],
)
def test_outgoing_suites_blame_the_planted_row(suite: str, column: str, value: object, reason: str) -> None:
    frame = plant(FRAME_BUILDERS[suite](6), 4, column, value)

    result = run_gate(frame, suite)

    expected_rows = [0, 4] if reason == "duplicate transaction" else [4]
    assert list(result.failed.index) == expected_rows
    assert set(result.failed["reason"]) == {reason}


def test_row_breaking_several_rules_lists_them_in_suite_order() -> None:
    frame = plant(plant(offers_frame(4), 1, "currency_ok", False), 1, "price", Decimal("0"))

    failed = run_gate(frame, "offers").failed

    assert failed.loc["offer-1", "failed_expectation"] == (
        "expect_column_values_to_be_between(price); expect_column_values_to_be_in_set(currency_ok)"
    )
    assert failed.loc["offer-1", "reason"] == "price must be > 0; wrong currency"


def test_failed_rows_keep_original_columns_and_decimal_values() -> None:
    frame = plant(offers_frame(5), 2, "quantity", -3)

    failed = run_gate(frame, "offers").failed

    original = failed.drop(columns=["failed_expectation", "reason"])
    pd.testing.assert_frame_equal(original, frame.iloc[[2]])
    assert isinstance(failed.loc["offer-2", "price"], Decimal)


def test_duplicated_caller_index_is_attributed_by_position() -> None:
    frame = plant(offers_frame(3), 1, "shop_active", False).set_axis([7, 7, 7])

    result = run_gate(frame, "offers")

    assert list(result.failed["product_sku"]) == ["SKU-000001"]
    assert list(result.passed["product_sku"]) == ["SKU-000000", "SKU-000002"]


def test_rule_on_a_whole_column_dtype_fails_every_row() -> None:
    frame = offers_frame(4).assign(quantity=[1.0, 2.0, 3.0, 4.0])

    result = run_gate(frame, "offers")

    assert len(result.failed) == 4
    assert set(result.failed["reason"]) == {"stock must be a whole number"}
    assert result.verdict == "tripped"


def test_table_level_failure_marks_every_row(suites_dir: Callable[[str, str], Path]) -> None:
    folder = suites_dir(
        "tiny",
        "name: tiny\nmeta: {threshold: 0.5}\nexpectations:\n"
        "  - type: expect_table_row_count_to_be_between\n    kwargs: {max_value: 2}\n"
        "    meta: {reason: batch larger than expected}\n",
    )

    result = run_gate(pd.DataFrame({"x": [1, 2, 3]}), "tiny", suites_dir=folder)

    assert list(result.failed.index) == [0, 1, 2]
    assert set(result.failed["failed_expectation"]) == {"expect_table_row_count_to_be_between"}
    assert set(result.failed["reason"]) == {"batch larger than expected"}


def test_reason_falls_back_to_expectation_type(suites_dir: Callable[[str, str], Path]) -> None:
    folder = suites_dir(
        "bare",
        "name: bare\nmeta: {threshold: 1.0}\nexpectations:\n"
        "  - type: expect_column_values_to_not_be_null\n    kwargs: {column: x}\n",
    )

    result = run_gate(pd.DataFrame({"x": [1, None]}), "bare", suites_dir=folder)

    assert list(result.failed["reason"]) == ["expect_column_values_to_not_be_null"]


def test_expectation_that_cannot_be_evaluated_fails_the_batch_not_the_process() -> None:
    frame = plant(offers_frame(4), 0, "price", "12,50")

    result = run_gate(frame, "offers")

    assert len(result.failed) == 4
    assert all("price must be > 0 (could not be evaluated:" in reason for reason in result.failed["reason"])
    assert result.tripped


@pytest.mark.parametrize(("bad_rows", "tripped"), [(4, False), (5, False), (6, True)])
def test_breaker_trips_only_when_failure_share_exceeds_threshold(bad_rows: int, tripped: bool) -> None:
    frame = offers_frame(10)
    for position in range(bad_rows):
        frame = plant(frame, position, "currency_ok", False)

    result = run_gate(frame, "offers")

    assert result.threshold == 0.5
    assert result.failure_share == pytest.approx(bad_rows / 10)
    assert result.tripped is tripped
    assert result.verdict == ("tripped" if tripped else "partial")


def test_tripped_result_raises_circuit_breaker_with_counts() -> None:
    frame = offers_frame(4)
    for position in range(3):
        frame = plant(frame, position, "shop_active", False)
    result = run_gate(frame, "offers")

    with pytest.raises(CircuitBreakerTripped, match=r"'offers' tripped: 3/4 rows failed") as caught:
        result.raise_if_tripped()

    assert isinstance(caught.value, DataError)
    assert (caught.value.failed_rows, caught.value.total_rows, caught.value.threshold) == (3, 4, 0.5)


def test_partial_result_does_not_raise() -> None:
    run_gate(plant(offers_frame(4), 0, "shop_active", False), "offers").raise_if_tripped()


def test_reconciliation_trips_on_a_single_failure() -> None:
    frame = plant(FRAME_BUILDERS["reconciliation"](1000), 999, "day_complete", False)

    result = run_gate(frame, "reconciliation")

    assert result.failure_share == pytest.approx(0.001)
    assert result.tripped


def test_empty_frame_passes_without_calling_great_expectations(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden() -> None:
        raise AssertionError("GX must not run on an empty batch")

    monkeypatch.setattr("expectations.gate.frame_batch_definition", forbidden)

    result = run_gate(pd.DataFrame(), "offers")

    assert result.verdict == "pass"
    assert result.failure_share == 0.0
    assert result.passed.empty
    assert list(result.failed.columns) == ["failed_expectation", "reason"]


def test_batch_missing_a_suite_column_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"needs columns the batch lacks: \['currency_ok'\]"):
        run_gate(offers_frame(3).drop(columns=["currency_ok"]), "offers")


def test_batch_already_holding_a_reason_column_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="gate's output columns"):
        run_gate(offers_frame(3).assign(reason="x"), "offers")


def test_unknown_suite_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown data-quality suite 'offer'"):
        run_gate(offers_frame(3), "offer")


def test_20k_rows_with_three_defects_return_exactly_those_three() -> None:
    frame = offers_frame(20_000)
    frame = plant(frame, 17, "price", Decimal("0"))
    frame = plant(frame, 9_999, "quantity", -2)
    frame = plant(frame, 19_998, "price_change_ok", False)

    result = run_gate(frame, "offers")

    assert list(result.failed.index) == ["offer-17", "offer-9999", "offer-19998"]
    assert list(result.failed["reason"]) == [
        "price must be > 0",
        "negative stock",
        "probable feed error: price change beyond bound",
    ]
    assert len(result.passed) == 19_997
    assert result.verdict == "partial"


def test_package_exports_what_all_lists() -> None:
    assert all(hasattr(expectations, name) for name in expectations.__all__)
    assert {"run_gate", "GateResult", "CircuitBreakerTripped", "load_suite"} <= set(expectations.__all__)


def test_concurrent_gates_in_threads_each_judge_their_own_batch() -> None:
    batches = {position: plant(offers_frame(2_000), position, "quantity", -1) for position in (5, 600, 1_200, 1_999)}

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = dict(zip(batches, pool.map(lambda frame: run_gate(frame, "offers"), batches.values()), strict=True))

    assert {position: list(result.failed.index) for position, result in results.items()} == {
        position: [f"offer-{position}"] for position in batches
    }


@pytest.mark.slow
def test_gate_on_100k_offers_costs_well_under_a_second() -> None:
    frame = offers_frame(100_000)
    frame.loc[frame.index[::10], "currency_ok"] = False
    run_gate(frame.head(10), "offers")

    timings = []
    for _ in range(3):
        started = time.perf_counter()
        result = run_gate(frame, "offers")
        timings.append(time.perf_counter() - started)

    assert len(result.failed) == 10_000
    assert min(timings) < 1.0
