"""The reconciliation core finds and classifies every planted gap, balances to the cent, and is deterministic."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from tasks.reconciliation.reconcile import (
    CLASSES,
    Reconciliation,
    ReconciliationInputs,
    reconcile,
)

RATES = {2000: 100_000, 2001: 120_000}  # 10 % and 12 %, in parts per million
CYCLE = {2000: "cycle-2000", 2001: "cycle-2001"}
HELD = "quarantine or28:7:M28-A-1 (refund exceeds amount paid)"


class Period:
    """A synthetic period built line by line: clean lines first, then one planted gap per class."""

    def __init__(self) -> None:
        self.tx: list[dict[str, object]] = []
        self.bc: list[dict[str, object]] = []
        self.refunds: list[dict[str, object]] = []

    def add(self, type_: str, amount: int, shop: int, order_line: str | None, order: str | None = None) -> None:
        self.tx.append(
            {
                "transaction_id": f"tx-{len(self.tx)}",
                "type": type_,
                "amount": amount,
                "currency": "USD",
                "shop_id": shop,
                "order_id": order or (order_line.rsplit("-", 1)[0] if order_line else None),
                "order_line_id": order_line,
                "cycle_id": CYCLE.get(shop, f"cycle-{shop}"),
            }
        )

    def line(
        self,
        n: int,
        shop: int = 2000,
        *,
        amount: int = 10_000,
        tax: int = 800,
        shipping: int = 500,
        bc_amount: int | None = None,
        bc_tax: int | None = None,
        commission: int | None = None,
        in_bigcommerce: bool = True,
        in_mirakl: bool = True,
    ) -> str:
        order_line = f"M{n}-A-1"
        if in_bigcommerce:
            self.bc.append(
                {
                    "bc_order_id": 100 + n,
                    "bc_order_product_id": 1000 + n,
                    "order_line_id": order_line,
                    "mirakl_order_id": f"M{n}-A",
                    "shop_id": shop,
                    "currency": "USD",
                    "bc_amount": amount if bc_amount is None else bc_amount,
                    "bc_tax": tax if bc_tax is None else bc_tax,
                    "in_period": True,
                }
            )
        if in_mirakl:
            rate = RATES.get(shop, 0)
            fee = (amount + shipping) * rate // 1_000_000 if commission is None else commission
            self.add("ORDER_AMOUNT", amount, shop, order_line)
            self.add("ORDER_AMOUNT_TAX", tax, shop, order_line)
            self.add("ORDER_SHIPPING_AMOUNT", shipping, shop, order_line)
            self.add("COMMISSION_FEE", -fee, shop, order_line)
            self.add("COMMISSION_VAT", -(fee // 5), shop, order_line)
        return order_line

    def bc_refund(self, n: int, amount: int) -> None:
        self.refunds.append({"bc_order_id": 100 + n, "bc_order_product_id": 1000 + n, "amount": amount})

    def mk_refund(self, n: int, shop: int, amount: int, tax: int) -> None:
        self.add("REFUND_ORDER_AMOUNT", -amount, shop, f"M{n}-A-1")
        self.add("REFUND_ORDER_AMOUNT_TAX", -tax, shop, f"M{n}-A-1")

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        return pd.DataFrame(self.tx), pd.DataFrame(self.bc), pd.DataFrame(self.refunds)

    def payouts(self, tx: pd.DataFrame) -> pd.DataFrame:
        """SBC11 as Mirakl computes it: the sum of each cycle's lines."""
        sums = tx.groupby(["cycle_id", "shop_id", "currency"])["amount"].sum().rename("payout").reset_index()
        return sums[["cycle_id", "shop_id", "currency", "payout"]]


def planted_period() -> tuple[ReconciliationInputs, dict[str, object]]:
    p = Period()
    for n in range(10):
        p.line(n, shop=2000 + n % 2)
    p.bc_refund(0, 5400)  # a refund mirrored both sides
    p.mk_refund(0, 2000, 5000, 400)
    planted = {
        "missing_in_mirakl": p.line(20, in_mirakl=False),
        "missing_in_bigcommerce": p.line(21, shop=2001, in_bigcommerce=False),
        "amount_mismatch": p.line(22, bc_amount=10_250),
        "tax_mismatch": p.line(23, shop=2001, bc_tax=900),
        "commission_rate_off": p.line(24, commission=1_575),  # 15 % charged to a 10 % seller
        "rounding": p.line(25, bc_amount=10_001),
    }
    p.line(26)
    p.bc_refund(26, 2_000)  # refunded in BigCommerce, never in Mirakl
    planted["refund_not_mirrored"] = "M26-A-1"
    p.line(28)
    p.bc_refund(28, 3_000)  # refunded in BigCommerce, its OR28 held for finance (a quarantine names the line)
    planted["refund_held_for_finance"] = "M28-A-1"
    p.add("ORDER_FEE_AMOUNT", 300, 2000, None, order="M27-A")  # a movement that belongs to no order line
    p.add("MANUAL_CREDIT", 1_000, 2001, None)  # a legitimate adjustment: part of the payout, not a gap
    tx, bc, refunds = p.frames()
    cycles = p.payouts(tx)
    cycles.loc[cycles["shop_id"] == 2001, "payout"] -= 5_000  # Mirakl paid seller 2001 fifty dollars short
    invoices = pd.DataFrame(
        [
            {
                "invoice_id": 1,
                "shop_id": 2000,
                "currency": "USD",
                "invoiced": int(-tx.query("shop_id == 2000 and type == 'COMMISSION_FEE'")["amount"].sum()),
            },
            {
                "invoice_id": 2,
                "shop_id": 2001,
                "currency": "USD",
                "invoiced": int(-tx.query("shop_id == 2001 and type == 'COMMISSION_FEE'")["amount"].sum()),
            },
        ]
    )
    inputs = ReconciliationInputs(
        tx, bc, refunds, cycles=cycles, invoices=invoices, rates_ppm=RATES, held_refunds={"M28-A-1": HELD}
    )
    return inputs, planted


@pytest.fixture(scope="module")
def result() -> Reconciliation:
    inputs, _ = planted_period()
    return reconcile(inputs)


@pytest.mark.parametrize(
    "cls",
    [
        "missing_in_mirakl",
        "missing_in_bigcommerce",
        "amount_mismatch",
        "tax_mismatch",
        "commission_rate_off",
        "rounding",
        "refund_not_mirrored",
        "refund_held_for_finance",
    ],
)
def test_each_planted_line_gap_is_found_with_its_class(result: Reconciliation, cls: str) -> None:
    _, planted = planted_period()
    found = result.exceptions[result.exceptions["class"] == cls]
    assert set(found["line_key"].dropna()) == {planted[cls]}
    assert result.lines.set_index("line_key").loc[planted[cls], "status"] == cls


def test_clean_lines_and_the_mirrored_refund_are_matched(result: Reconciliation) -> None:
    clean = result.lines[result.lines["line_key"].isin([f"M{n}-A-1" for n in range(10)])]
    assert len(clean) == 10
    assert set(clean["status"]) == {"matched"}


def test_gap_amounts_are_exact_in_minor_units(result: Reconciliation) -> None:
    rows = result.exceptions.set_index(["line_key", "field"])
    assert rows.loc[("M22-A-1", "amount"), "delta"] == 250
    assert rows.loc[("M23-A-1", "tax"), "delta"] == 100
    assert rows.loc[("M24-A-1", "commission"), ["left", "right", "delta"]].tolist() == [1_575, 1_050, 525]
    assert rows.loc[("M25-A-1", "amount"), "delta"] == 1
    assert rows.loc[("M26-A-1", "refund"), ["left", "right"]].tolist() == [2_000, 0]
    assert rows.loc[("M20-A-1", "amount"), "delta"] == 10_000  # present in BigCommerce only
    assert rows.loc[("M21-A-1", "amount"), "delta"] == -10_000  # present in Mirakl only


def test_refund_gap_on_a_line_held_for_finance_names_the_hold_and_still_counts_as_a_gap(
    result: Reconciliation,
) -> None:
    held = result.exceptions.set_index(["line_key", "field"]).loc[("M28-A-1", "refund")]
    assert [held["class"], held["delta"]] == ["refund_held_for_finance", 3_000]
    assert held["note"] == f"held for finance: {HELD}"
    assert not result.balanced  # finance still has to act: a held refund is explained, not settled


def test_a_hold_on_a_line_whose_refunds_agree_classifies_nothing() -> None:
    inputs, _ = planted_period()
    matched = reconcile(replace(inputs, held_refunds={"M0-A-1": HELD}))  # M0's refund is mirrored both sides
    assert matched.lines.set_index("line_key").loc["M0-A-1", "status"] == "matched"


def test_unattributable_movement_is_listed_row_by_row_as_other(result: Reconciliation) -> None:
    other = result.exceptions[result.exceptions["field"] == "transaction"]
    assert other[["class", "mirakl_order_id", "delta", "note"]].to_dict("records") == [
        {"class": "other", "mirakl_order_id": "M27-A", "delta": 300, "note": "unmatched ORDER_FEE_AMOUNT"}
    ]


def test_payout_short_of_expected_is_an_amount_mismatch_on_that_cycle_only(result: Reconciliation) -> None:
    payout = result.exceptions[result.exceptions["field"] == "payout"]
    assert payout[["cycle_id", "class", "delta"]].to_dict("records") == [
        {"cycle_id": "cycle-2001", "class": "amount_mismatch", "delta": 5_000}
    ]
    cycle = result.cycles.set_index("cycle_id").loc["cycle-2001"]
    assert cycle["adjustments"] == 1_000  # the manual credit is part of the expected payout


def test_commission_invoiced_for_the_rate_off_line_is_consistent_with_tl02(result: Reconciliation) -> None:
    assert result.exceptions[result.exceptions["field"] == "invoice"].empty


def test_totals_list_every_gap_to_the_cent_but_listed_gaps_are_not_balanced(result: Reconciliation) -> None:
    totals = result.totals.set_index("field")
    assert (totals["unexplained"] == 0).all()
    assert not result.balanced  # the planted gaps are explained as gaps, not as rounding
    assert (totals["difference"] == totals["explained"]).all()
    assert totals.loc["amount", "difference"] == 10_000 - 10_000 + 250 + 1
    assert totals.loc["payout", "difference"] == 5_000


def test_every_class_is_represented_in_the_counts(result: Reconciliation) -> None:
    counts = result.class_counts()
    assert list(counts) == list(CLASSES)
    assert all(counts[name] >= 1 for name in CLASSES)


def test_same_inputs_in_another_order_give_an_identical_result() -> None:
    inputs, _ = planted_period()
    shuffled = replace(
        inputs,
        transactions=inputs.transactions.sample(frac=1, random_state=3).reset_index(drop=True),
        bc_lines=inputs.bc_lines.sample(frac=1, random_state=4).reset_index(drop=True),
    )
    first, second = reconcile(inputs), reconcile(shuffled)
    for name in ("lines", "exceptions", "sellers", "cycles", "totals"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))


def test_shop_without_a_contract_rate_is_listed_not_silently_accepted() -> None:
    p = Period()
    p.line(1, shop=2005, commission=700)
    tx, bc, refunds = p.frames()
    result = reconcile(ReconciliationInputs(tx, bc, refunds, rates_ppm=RATES))
    rows = result.exceptions[result.exceptions["field"] == "commission"]
    assert rows[["class", "note"]].to_dict("records") == [
        {"class": "other", "note": "no contract rate for this shop: commission not checked"}
    ]


def test_a_default_rate_applies_to_shops_without_a_contract() -> None:
    p = Period()
    p.line(1, shop=2005, commission=1_050)
    tx, bc, refunds = p.frames()
    result = reconcile(ReconciliationInputs(tx, bc, refunds, rates_ppm=RATES, default_rate_ppm=100_000))
    assert result.exceptions.empty
    assert result.lines["status"].tolist() == ["matched"]


def test_a_period_whose_only_differences_are_rounding_is_balanced() -> None:
    p = Period()
    p.line(1)
    p.line(2, bc_amount=10_001)  # one cent off: rounding
    tx, bc, refunds = p.frames()
    result = reconcile(ReconciliationInputs(tx, bc, refunds, rates_ppm=RATES))
    assert result.class_counts()["rounding"] == 1 and result.balanced


def test_an_invoice_total_is_commission_plus_fees_and_fees_are_shown_apart() -> None:
    p = Period()
    p.line(1)  # commission 1_050 (10 % of 10_500)
    p.add("SUBSCRIPTION_FEE", -3_000, 2000, None)
    p.add("SELLER_FEE_ON_ORDER", -200, 2000, None)
    tx, bc, refunds = p.frames()
    invoices = pd.DataFrame([{"invoice_id": 1, "shop_id": 2000, "currency": "USD", "invoiced": 1_050 + 3_200}])
    result = reconcile(ReconciliationInputs(tx, bc, refunds, invoices=invoices, rates_ppm=RATES))
    [shop] = result.invoices.to_dict("records")
    assert (shop["commission"], shop["subscription"], shop["seller_fees_on_orders"]) == (1_050, 3_000, 200)
    assert (shop["fees"], shop["invoiced"], shop["delta"]) == (3_200, 4_250, 0)
    assert result.exceptions[result.exceptions["field"] == "invoice"].empty and result.balanced
