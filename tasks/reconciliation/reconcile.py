"""The reconciliation itself: Mirakl's money movements against BigCommerce's orders and refunds, per order line
and per seller billing cycle, every difference classified.

It is a pure function over DataFrames in integer minor units, so it is tested on synthetic frames with planted
gaps and benchmarked on a million lines without any API. Mirakl is the master for commissions and payouts,
BigCommerce for gross sales. Every compared field yields one exception row per non-zero difference, so the
totals balance by construction: for each field, (left total - right total) equals the sum of its exception
deltas, and the `totals` table proves it with an `unexplained` column that must be zero.

A period too big to hold whole (tens of millions of TL02 lines) is reconciled partition by partition
(`reconcile_partitions`): each partition holds every transaction and BigCommerce line of a set of line keys
(`tasks.reconciliation.partitions`), so the per-line work never looks across partitions, and only the
per-cycle and per-invoice sums (a handful of rows per seller) are carried from one partition to the next.
`reconcile` is the one-partition case, so both paths run the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import pandas as pd

from tasks.reconciliation.money import apply_rate

__all__ = [
    "ADJUSTMENT_TYPES",
    "BC_LINE_COLUMNS",
    "BC_REFUND_COLUMNS",
    "CLASSES",
    "CYCLE_COLUMNS",
    "INVOICED_FEES",
    "INVOICE_COLUMNS",
    "LINE_TYPES",
    "ROUNDING_TOLERANCE",
    "TRANSACTION_COLUMNS",
    "Partition",
    "Reconciliation",
    "ReconciliationInputs",
    "Terms",
    "bc_line_keys",
    "reconcile",
    "reconcile_partitions",
]

ROUNDING_TOLERANCE = 1  # minor units: a difference this small is rounding, not a gap

CLASSES = (
    "missing_in_mirakl",
    "missing_in_bigcommerce",
    "refund_not_mirrored",
    "refund_held_for_finance",
    "amount_mismatch",
    "tax_mismatch",
    "commission_rate_off",
    "rounding",
    "other",
)

# TL02 types that belong to one order line, and the line column each feeds; signs turn the seller's point of
# view (credit positive) into plain positive amounts: commission charged, amount refunded.
LINE_TYPES: dict[str, tuple[str, int]] = {
    "ORDER_AMOUNT": ("mk_amount", 1),
    "ORDER_AMOUNT_TAX": ("mk_tax", 1),
    "ORDER_SHIPPING_AMOUNT": ("mk_shipping", 1),
    "ORDER_SHIPPING_AMOUNT_TAX": ("mk_shipping_tax", 1),
    "COMMISSION_FEE": ("mk_commission", -1),
    "COMMISSION_VAT": ("mk_commission_tax", -1),
    "REFUND_ORDER_AMOUNT": ("mk_refund", -1),
    "REFUND_ORDER_AMOUNT_TAX": ("mk_refund", -1),
    "REFUND_ORDER_SHIPPING_AMOUNT": ("mk_refund_shipping", -1),
    "REFUND_ORDER_SHIPPING_AMOUNT_TAX": ("mk_refund_shipping", -1),
    "REFUND_COMMISSION_FEE": ("mk_refund_commission", 1),
    "REFUND_COMMISSION_VAT": ("mk_refund_commission_tax", 1),
}
_ORDER_SIDE = ("mk_amount", "mk_tax", "mk_shipping", "mk_shipping_tax", "mk_commission", "mk_commission_tax")
_MK_COLUMNS = tuple(dict.fromkeys(column for column, _ in LINE_TYPES.values()))

# Seller-level movements that legitimately change a payout without belonging to an order line.
ADJUSTMENT_TYPES = frozenset(
    {
        "MANUAL_CREDIT",
        "MANUAL_CREDIT_VAT",
        "MANUAL_INVOICE",
        "MANUAL_INVOICE_VAT",
        "SUBSCRIPTION_FEE",
        "SUBSCRIPTION_VAT",
        "SELLER_FEE_ON_ORDER",
        "SELLER_FEE_ON_ORDER_TAX",
        "SELLER_PENALTY_FEE",
        "SELLER_PENALTY_FEE_TAX",
        "INVOICEABLE_ONE_OFF_DEBIT",
        "INVOICEABLE_ONE_OFF_DEBIT_TAX",
        "INVOICEABLE_ONE_OFF_CREDIT",
        "INVOICEABLE_ONE_OFF_CREDIT_TAX",
        "RESERVE_FUNDING",
        "RESERVE_SETTLEMENT",
    }
)
_PAYOUT_TYPE = "PAYMENT"  # the payout itself, not something that makes it up

# What an IV01 AUTO_INVOICE bills a seller, excl. tax, classified by TL02 transaction type. IV01's `details[]`
# carry only `description`, `quantity`, `amount_excl_taxes` and `taxes` (mmp-operator-openapi.json, GET
# /api/invoices): no line type. Its example shows one document holding "Commissions of completed orders ..."
# and "Seller fees on orders ..." lines, and a summary with `total_subscription_*`, `total_seller_fees_on_orders_*`
# and `total_seller_penalty_fees_*` beside `total_commissions_*`. So the total is never read as commission alone:
# TL02's typed lines say which part is commission and which part is each fee.
_INVOICED_COMMISSION = ("COMMISSION_FEE", "REFUND_COMMISSION_FEE")
INVOICED_FEES: dict[str, str] = {
    "SUBSCRIPTION_FEE": "subscription",
    "SELLER_FEE_ON_ORDER": "seller_fees_on_orders",
    "SELLER_PENALTY_FEE": "seller_penalty_fees",
}

TRANSACTION_COLUMNS = (
    "transaction_id",
    "type",
    "amount",
    "currency",
    "shop_id",
    "order_id",
    "order_line_id",
    "cycle_id",
)
BC_LINE_COLUMNS = (
    "bc_order_id",
    "bc_order_product_id",
    "order_line_id",
    "mirakl_order_id",
    "shop_id",
    "currency",
    "bc_amount",
    "bc_tax",
    "in_period",
)
BC_REFUND_COLUMNS = ("bc_order_id", "bc_order_product_id", "amount")
CYCLE_COLUMNS = ("cycle_id", "shop_id", "currency", "payout")
INVOICE_COLUMNS = ("invoice_id", "shop_id", "currency", "invoiced")

_EXCEPTION_COLUMNS = [
    "class",
    "field",
    "shop_id",
    "line_key",
    "bc_order_id",
    "bc_order_product_id",
    "mirakl_order_id",
    "order_line_id",
    "cycle_id",
    "transaction_id",
    "currency",
    "left",
    "right",
    "delta",
    "note",
]
# What each compared field puts on the left and the right of its delta (left - right).
FIELDS: dict[str, tuple[str, str]] = {
    "amount": ("BigCommerce gross excl. tax", "Mirakl ORDER_AMOUNT"),
    "tax": ("BigCommerce line tax", "Mirakl ORDER_AMOUNT_TAX"),
    "refund": ("BigCommerce refunds incl. tax", "Mirakl REFUND_ORDER_AMOUNT(+TAX)"),
    "commission": ("Mirakl COMMISSION_FEE", "contract rate x (amount + shipping)"),
    "commission_tax": ("Mirakl COMMISSION_VAT", "commission tax rate x commission"),
    "transaction": ("Mirakl line amount", "nothing it belongs to"),
    "payout": ("expected payout from TL02", "SBC11 amount_transferred_to_seller"),
    "invoice": ("commission + fees booked in TL02", "IV01 AUTO_INVOICE total excl. tax"),
}


class Partition(NamedTuple):
    """A slice of a period holding every TL02 line and BigCommerce line (and refund) of its line keys."""

    transactions: pd.DataFrame
    bc_lines: pd.DataFrame
    bc_refunds: pd.DataFrame


@dataclass(frozen=True)
class Terms:
    """What a period's lines are checked against, the same for every partition: payouts, invoices, rates."""

    cycles: pd.DataFrame | None = None  # SBC11; None skips the payout check (daily runs)
    invoices: pd.DataFrame | None = None  # IV01; None skips the invoice check
    rates_ppm: Mapping[int, int] = field(default_factory=dict)
    default_rate_ppm: int | None = None
    commission_tax_rate_ppm: int | None = None
    # Mirakl order line id -> the open case or quarantine under which the bridge held its refund for finance
    # (`tasks.reconciliation.held`): a refund gap on such a line is that decision, not an unexplained one.
    held_refunds: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReconciliationInputs:
    """One period's inputs held whole; amounts are int64 minor units, column sets are the `*_COLUMNS` constants."""

    transactions: pd.DataFrame
    bc_lines: pd.DataFrame
    bc_refunds: pd.DataFrame
    cycles: pd.DataFrame | None = None  # SBC11; None skips the payout check (daily runs)
    invoices: pd.DataFrame | None = None  # IV01; None skips the invoice check
    rates_ppm: Mapping[int, int] = field(default_factory=dict)
    default_rate_ppm: int | None = None
    commission_tax_rate_ppm: int | None = None
    held_refunds: Mapping[str, str] = field(default_factory=dict)  # see `Terms.held_refunds`

    @property
    def partition(self) -> Partition:
        return Partition(self.transactions, self.bc_lines, self.bc_refunds)

    @property
    def terms(self) -> Terms:
        return Terms(
            self.cycles,
            self.invoices,
            self.rates_ppm,
            self.default_rate_ppm,
            self.commission_tax_rate_ppm,
            self.held_refunds,
        )


@dataclass(frozen=True)
class Reconciliation:
    """The classified result; every frame is sorted so a rerun of the same inputs gives identical output."""

    lines: pd.DataFrame
    exceptions: pd.DataFrame
    sellers: pd.DataFrame
    cycles: pd.DataFrame
    totals: pd.DataFrame
    invoices: pd.DataFrame = field(default_factory=pd.DataFrame)  # per shop: commission, each fee, invoiced

    @property
    def balanced(self) -> bool:
        """True only when every difference is rounding: the totals prove each delta is listed (`unexplained` 0)
        and no listed delta belongs to any class but `rounding`. A classified gap is explained, not balanced."""
        listed = bool((self.totals["unexplained"] == 0).all())
        gaps = (self.exceptions["class"] != "rounding") & (self.exceptions["delta"] != 0)
        return listed and not bool(gaps.any())

    def class_counts(self) -> dict[str, int]:
        counts = self.exceptions["class"].value_counts()
        return {name: int(counts.get(name, 0)) for name in CLASSES}


def reconcile(inputs: ReconciliationInputs) -> Reconciliation:
    """Match, compare and classify a period held whole; see the module docstring for the balancing rule."""
    return reconcile_partitions([inputs.partition], inputs.terms)


def reconcile_partitions(
    partitions: Iterable[Partition], terms: Terms, keep_lines: Callable[[pd.DataFrame], None] | None = None
) -> Reconciliation:
    """The period as partitions read one at a time (each can be dropped once reconciled); the result is the one
    `reconcile` gives for their union, as long as no line key spans two partitions (`partitions.PartitionStore`).

    With `keep_lines`, each partition's line table is handed to it, sorted by line key, as soon as it is
    classified, and not kept: the result's `lines` is then empty (its columns kept), and the seller and totals
    tables, summed partition by partition either way, are all that is left of the lines in memory.
    """
    terms = _terms_with_columns(terms)
    pieces: list[dict[str, pd.Series]] = []
    parts: list[pd.DataFrame] = []
    booked: list[pd.Series] = []
    billed: list[pd.Series] = []
    sellers: list[pd.DataFrame] = []
    sums: list[pd.Series] = []
    for part in partitions:
        piece = _reconcile_slice(part, terms)
        sellers.append(_seller_sums(piece.lines))
        sums.append(_line_sums(piece.lines, terms))
        parts.append(piece.exceptions)
        booked.append(piece.booked)
        billed.append(piece.billed)
        if keep_lines is None:
            pieces.append({name: piece.lines[name].copy() for name in piece.lines.columns})  # one array per column
        else:
            keep_lines(_stacked_by_key([{name: piece.lines[name] for name in piece.lines.columns}]))
            pieces[:] = pieces or [{name: piece.lines[name].iloc[:0] for name in piece.lines.columns}]  # columns
        del piece
    lines = _stacked_by_key(pieces)
    cycles = _cycle_table(booked, terms.cycles) if terms.cycles is not None else _empty_cycles()
    if terms.cycles is not None:
        parts.append(_payout_exceptions(cycles))
    invoices = _invoice_table(billed, terms.invoices) if terms.invoices is not None else None
    if invoices is not None:
        parts.append(_invoice_exceptions(invoices))
    exceptions = _sorted_exceptions(pd.concat([p for p in parts if len(p)] or [_empty_exceptions()]))
    return Reconciliation(
        lines=lines,
        exceptions=exceptions,
        sellers=_seller_table(sellers, exceptions),
        cycles=cycles,
        totals=_totals(pd.concat(sums, axis=1).sum(axis=1), exceptions, cycles, invoices, terms),
        invoices=invoices if invoices is not None else pd.DataFrame(),
    )


class _Slice(NamedTuple):
    """One partition reconciled: its lines with their status, their exceptions, and the sums it adds per cycle
    (`booked`) and per invoiced shop (`billed`), which only the whole period can compare."""

    lines: pd.DataFrame
    exceptions: pd.DataFrame
    booked: pd.Series
    billed: pd.Series


def _reconcile_slice(part: Partition, terms: Terms) -> _Slice:
    tx, bc_lines, bc_refunds = _with_columns(part)
    on_line = tx["type"].isin(LINE_TYPES.keys()) & tx["order_line_id"].notna()
    lines = _line_table(tx[on_line], bc_lines, bc_refunds, terms)
    exceptions = _concat(
        [
            _order_side_exceptions(lines),
            _refund_exceptions(lines, terms.held_refunds),
            _commission_exceptions(lines, terms.commission_tax_rate_ppm),
            _stray_transactions(tx[~on_line & ~tx["type"].isin(ADJUSTMENT_TYPES) & (tx["type"] != _PAYOUT_TYPE)]),
        ]
    ).reindex(columns=_EXCEPTION_COLUMNS)
    booked = _cycle_booked(tx) if terms.cycles is not None else pd.Series(dtype="int64")
    billed = _invoice_billed(tx) if terms.invoices is not None else pd.Series(dtype="int64")
    return _Slice(_with_status(lines, exceptions), exceptions, booked, billed)


def _stacked_by_key(pieces: list[dict[str, pd.Series]]) -> pd.DataFrame:
    """The partitions' line tables as one, sorted by line key, built column by column: each column's pieces are
    dropped as soon as it is stacked, and the columns stay separate arrays (`copy=False`), so a period's lines
    are never held twice (a frame-wide concat, sort or consolidation would copy all of them at once)."""
    pieces = [piece for piece in pieces if len(piece["line_key"])] or pieces[:1]  # an empty one keeps the dtypes
    keys = np.concatenate([piece["line_key"].to_numpy() for piece in pieces])
    order = np.argsort(keys, kind="stable")
    del keys
    columns = {}
    for name in list(pieces[0]):
        stacked = pd.concat([piece.pop(name) for piece in pieces], ignore_index=True)
        columns[name] = stacked.take(order).reset_index(drop=True)
        del stacked
    return pd.DataFrame(columns, copy=False)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames stacked, empty ones left out unless all are (their columns are kept then)."""
    kept = [f for f in frames if len(f)]
    return pd.concat(kept, ignore_index=True) if kept else frames[0]


# --- per order line ------------------------------------------------------------------------------------------


def _line_table(tx: pd.DataFrame, bc_lines: pd.DataFrame, bc_refunds: pd.DataFrame, terms: Terms) -> pd.DataFrame:
    column = tx["type"].map(lambda t: LINE_TYPES[t][0])
    sign = tx["type"].map(lambda t: LINE_TYPES[t][1]).astype("int64")
    signed = tx.assign(column=column, value=tx["amount"].astype("int64") * sign)
    mk = signed.pivot_table(
        index="order_line_id", columns="column", values="value", aggfunc="sum", fill_value=0, observed=True
    )
    mk = mk.reindex(columns=list(_MK_COLUMNS), fill_value=0).astype("int64")
    mk["has_mk_order"] = signed[signed["column"].isin(_ORDER_SIDE)].groupby("order_line_id").size() > 0
    meta = tx.groupby("order_line_id", sort=False)[["order_id", "shop_id", "currency"]].first()
    mk = mk.join(meta.rename(columns={"order_id": "mk_order_id", "shop_id": "mk_shop_id", "currency": "mk_cur"}))
    mk["has_mk_order"] = mk["has_mk_order"].eq(True)
    mk = mk.reset_index().rename(columns={"order_line_id": "line_key"})

    bc = bc_lines.copy()
    bc["line_key"] = bc_line_keys(bc)
    refunded = bc_refunds.assign(amount=bc_refunds["amount"].astype("int64"))  # int64 even when empty
    refunds = refunded.groupby(["bc_order_id", "bc_order_product_id"])["amount"].sum().rename("bc_refund")
    bc = bc.join(refunds, on=["bc_order_id", "bc_order_product_id"])
    bc["bc_refund"] = bc["bc_refund"].fillna(0).astype("int64")
    bc["has_bc"] = True

    merged = bc.drop(columns=["order_line_id"]).merge(mk, on="line_key", how="outer", sort=False)
    merged["has_bc"] = merged["has_bc"].eq(True)
    merged["has_mk_order"] = merged["has_mk_order"].eq(True)
    merged["in_period"] = merged["in_period"].eq(True)
    merged["order_line_id"] = merged["line_key"].where(~merged["line_key"].str.startswith("bc:"), None)
    merged["mirakl_order_id"] = merged["mirakl_order_id"].fillna(merged["mk_order_id"])
    merged["shop_id"] = merged["shop_id"].fillna(merged["mk_shop_id"]).astype("Int64")
    merged["currency"] = merged["currency"].fillna(merged["mk_cur"])
    for name in ("bc_amount", "bc_tax", "bc_refund", *_MK_COLUMNS):
        merged[name] = merged[name].fillna(0).astype("int64")
    for name in ("bc_order_id", "bc_order_product_id"):
        merged[name] = merged[name].astype("Int64")
    merged["contract_rate_ppm"] = _rates_for(merged["shop_id"], terms)
    base = merged["mk_amount"] + merged["mk_shipping"]
    rates = merged["contract_rate_ppm"].fillna(0).astype("int64")
    merged["expected_commission"] = apply_rate(base, rates).where(merged["contract_rate_ppm"].notna(), None)
    merged = merged.drop(columns=["mk_order_id", "mk_shop_id", "mk_cur"])
    return merged.sort_values("line_key", kind="stable").reset_index(drop=True)


def bc_line_keys(bc_lines: pd.DataFrame) -> pd.Series:
    """A BigCommerce line's key: the Mirakl order line it maps to, else `bc:<order>:<product>` (unmatched)."""
    unmapped = "bc:" + bc_lines["bc_order_id"].astype(str) + ":" + bc_lines["bc_order_product_id"].astype(str)
    return bc_lines["order_line_id"].where(bc_lines["order_line_id"].notna(), unmapped)


def _rates_for(shops: pd.Series, terms: Terms) -> pd.Series:
    table = {int(shop): terms.rates_ppm.get(int(shop), terms.default_rate_ppm) for shop in shops.dropna().unique()}
    return shops.map(table).astype("Int64")


def _exceptions(rows: pd.DataFrame, field_name: str, left: pd.Series, right: pd.Series, cls: pd.Series) -> pd.DataFrame:
    delta = (left - right).astype("int64")
    keep = delta != 0
    out = rows.loc[keep, ["shop_id", "line_key", "bc_order_id", "bc_order_product_id", "mirakl_order_id"]].copy()
    out["order_line_id"] = rows.loc[keep, "order_line_id"]
    out["currency"] = rows.loc[keep, "currency"]
    out["field"] = field_name
    out["class"] = cls[keep]
    out["left"] = left[keep].astype("int64")
    out["right"] = right[keep].astype("int64")
    out["delta"] = delta[keep]
    return out


def _pick(conditions: list[tuple[pd.Series, str]], index: pd.Index) -> pd.Series:
    return pd.Series(
        np.select([c.to_numpy(dtype=bool) for c, _ in conditions], [n for _, n in conditions], default="other"),
        index=index,
    )


def _order_side_exceptions(lines: pd.DataFrame) -> pd.DataFrame:
    """Gross and tax, for lines whose order falls in the period on either side (the cut-off rule)."""
    scope = lines[lines["has_mk_order"] | (lines["has_bc"] & lines["in_period"])]
    found = []
    for field_name, left, right, mismatch in (
        ("amount", "bc_amount", "mk_amount", "amount_mismatch"),
        ("tax", "bc_tax", "mk_tax", "tax_mismatch"),
    ):
        delta = scope[left] - scope[right]
        cls = _pick(
            [
                (~scope["has_mk_order"], "missing_in_mirakl"),
                (~scope["has_bc"], "missing_in_bigcommerce"),
                (delta.abs() <= ROUNDING_TOLERANCE, "rounding"),
                (delta.abs() > ROUNDING_TOLERANCE, mismatch),
            ],
            scope.index,
        )
        found.append(_exceptions(scope, field_name, scope[left], scope[right], cls))
    return pd.concat(found)


def _refund_exceptions(lines: pd.DataFrame, held: Mapping[str, str]) -> pd.DataFrame:
    """Refunds per line; a gap on a line whose refund the bridge held for finance is classified as that hold and
    names its case, so the day lists it as a decision waiting for a person rather than a refund the mirror lost."""
    bc, mk = lines["bc_refund"], lines["mk_refund"]
    delta = bc - mk
    on_hold = lines["line_key"].isin(list(held))
    cls = _pick(
        [
            (~lines["has_bc"], "missing_in_bigcommerce"),
            (on_hold & (delta.abs() > ROUNDING_TOLERANCE), "refund_held_for_finance"),
            ((bc == 0) | (mk == 0), "refund_not_mirrored"),
            (delta.abs() <= ROUNDING_TOLERANCE, "rounding"),
            (delta.abs() > ROUNDING_TOLERANCE, "amount_mismatch"),
        ],
        lines.index,
    )
    found = _exceptions(lines, "refund", bc, mk, cls)
    held_rows = found["class"] == "refund_held_for_finance"
    if held_rows.any():
        found.loc[held_rows, "note"] = "held for finance: " + found.loc[held_rows, "line_key"].map(held)
    return found


def _commission_exceptions(lines: pd.DataFrame, tax_rate_ppm: int | None) -> pd.DataFrame:
    """Mirakl's commission against the seller's contract rate; a shop without a contract is listed as other."""
    booked = lines[lines["has_mk_order"]]
    rated = booked[booked["expected_commission"].notna()]
    expected = rated["expected_commission"].astype("int64")
    delta = rated["mk_commission"] - expected
    cls = pd.Series(np.where(delta.abs() <= ROUNDING_TOLERANCE, "rounding", "commission_rate_off"), rated.index)
    found = [_exceptions(rated, "commission", rated["mk_commission"], expected, cls)]
    unrated = booked[booked["expected_commission"].isna()]
    if len(unrated):
        rows = unrated[["shop_id", "line_key", "bc_order_id", "bc_order_product_id", "mirakl_order_id"]].copy()
        rows[["order_line_id", "currency"]] = unrated[["order_line_id", "currency"]]
        rows[["field", "class", "left", "right", "delta"]] = ["commission", "other", 0, 0, 0]
        rows["note"] = "no contract rate for this shop: commission not checked"
        found.append(rows)
    if tax_rate_ppm is not None:
        rates = pd.Series(tax_rate_ppm, index=booked.index, dtype="int64")
        expected_tax = apply_rate(booked["mk_commission"], rates)
        tax_delta = booked["mk_commission_tax"] - expected_tax
        tax_cls = pd.Series(np.where(tax_delta.abs() <= ROUNDING_TOLERANCE, "rounding", "tax_mismatch"), booked.index)
        found.append(_exceptions(booked, "commission_tax", booked["mk_commission_tax"], expected_tax, tax_cls))
    return pd.concat(found)


def _stray_transactions(stray: pd.DataFrame) -> pd.DataFrame:
    """Mirakl lines that belong to no order line and are no known adjustment: listed one by one as other."""
    out = pd.DataFrame(
        {
            "class": "other",
            "field": "transaction",
            "shop_id": stray["shop_id"].astype("Int64"),
            "mirakl_order_id": stray["order_id"],
            "order_line_id": stray["order_line_id"],
            "cycle_id": stray["cycle_id"],
            "transaction_id": stray["transaction_id"],
            "currency": stray["currency"],
            "left": stray["amount"].astype("int64"),
            "right": 0,
            "delta": stray["amount"].astype("int64"),
            "note": "unmatched " + stray["type"].astype(str),
        }
    )
    return out


def _with_status(lines: pd.DataFrame, exceptions: pd.DataFrame) -> pd.DataFrame:
    on_lines = exceptions[exceptions["line_key"].notna()]
    status = on_lines.groupby("line_key")["class"].agg(lambda c: "|".join(sorted(set(c))))
    lines = lines.copy()
    lines["status"] = lines["line_key"].map(status).fillna("matched")
    return lines


# --- per seller and billing cycle ------------------------------------------------------------------------------


_CYCLE_KEYS = ["cycle_id", "shop_id", "currency"]
_CYCLE_COMPONENTS = ["orders", "commissions", "refunds", "refunded_commissions", "adjustments"]


def _cycle_booked(tx: pd.DataFrame) -> pd.Series:
    """A partition's TL02 amounts per cycle, shop, currency and kind (order amounts, commissions, ...)."""
    kinds = np.select(
        [
            tx["type"].str.startswith("ORDER_"),
            tx["type"].str.startswith("COMMISSION_"),
            tx["type"].str.startswith("REFUND_COMMISSION_"),
            tx["type"].str.startswith("REFUND_"),
            tx["type"] == _PAYOUT_TYPE,
        ],
        ["orders", "commissions", "refunded_commissions", "refunds", "paid_out"],
        default="adjustments",
    )
    return tx.assign(kind=kinds).groupby([*_CYCLE_KEYS, "kind"])["amount"].sum()


def _cycle_table(booked_parts: list[pd.Series], cycles: pd.DataFrame) -> pd.DataFrame:
    """Expected payout per cycle = order amounts - commissions - refunds + refunded commissions +- adjustments."""
    booked = _summed(booked_parts, _CYCLE_KEYS, _CYCLE_COMPONENTS)
    booked["expected_payout"] = booked[_CYCLE_COMPONENTS].sum(axis=1).astype("int64")
    table = booked.merge(
        cycles.rename(columns={"payout": "sbc11_payout"}), on="cycle_id", how="outer", suffixes=("", "_c")
    )
    table["in_sbc11"] = table["sbc11_payout"].notna()
    table["shop_id"] = table["shop_id"].fillna(table["shop_id_c"]).astype("Int64")
    table["currency"] = table["currency"].fillna(table["currency_c"])
    for name in [*_CYCLE_COMPONENTS, "expected_payout", "sbc11_payout"]:
        table[name] = table[name].fillna(0).astype("int64")
    table["delta"] = table["expected_payout"] - table["sbc11_payout"]
    return table.drop(columns=["shop_id_c", "currency_c"]).sort_values(["shop_id", "cycle_id"]).reset_index(drop=True)


def _summed(parts: list[pd.Series], keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Partitions' sums per keys and kind added up: one row per keys, one column per kind in `columns`."""
    kept = [part for part in parts if len(part)]
    if not kept:
        return pd.DataFrame({name: pd.Series(dtype="object" if name in keys else "int64") for name in keys + columns})
    total = pd.concat(kept).groupby(level=[*keys, "kind"]).sum()
    table = total.unstack("kind", fill_value=0).reindex(columns=columns, fill_value=0).astype("int64")
    table.columns.name = None
    return table.reset_index()


def _payout_exceptions(cycles: pd.DataFrame) -> pd.DataFrame:
    delta = cycles["delta"]
    cls = _pick(
        [
            (~cycles["in_sbc11"], "other"),
            (delta.abs() <= ROUNDING_TOLERANCE, "rounding"),
            (delta.abs() > ROUNDING_TOLERANCE, "amount_mismatch"),
        ],
        cycles.index,
    )
    keep = delta != 0
    out = cycles.loc[keep, ["shop_id", "cycle_id", "currency"]].copy()
    out["field"] = "payout"
    out["class"] = cls[keep]
    out["left"] = cycles.loc[keep, "expected_payout"]
    out["right"] = cycles.loc[keep, "sbc11_payout"]
    out["delta"] = delta[keep]
    out["note"] = np.where(cycles.loc[keep, "in_sbc11"], None, "cycle absent from SBC11")
    return out


def _invoice_billed(tx: pd.DataFrame) -> pd.Series:
    """A partition's invoiceable TL02 amounts per shop, currency and kind, as seller debits turned positive."""
    kinds = {**dict.fromkeys(_INVOICED_COMMISSION, "commission"), **INVOICED_FEES}
    billed = tx[tx["type"].isin(kinds.keys())]
    billed = billed.assign(kind=billed["type"].map(kinds), billed=-billed["amount"].astype("int64"))
    return billed.groupby(["shop_id", "currency", "kind"])["billed"].sum()


def _invoice_table(billed_parts: list[pd.Series], invoices: pd.DataFrame) -> pd.DataFrame:
    """Per shop: commission net of refunded commission and each invoiced fee, excl. tax, as TL02 booked them,
    beside IV01's AUTO_INVOICE total; `booked` = commission + fees."""
    columns = ["commission", *INVOICED_FEES.values()]
    booked = _summed(billed_parts, ["shop_id", "currency"], columns).set_index(["shop_id", "currency"])
    invoiced = invoices.groupby(["shop_id", "currency"])["invoiced"].sum()
    table = booked.join(invoiced, how="outer").fillna(0).astype("int64")
    table["fees"] = table[list(INVOICED_FEES.values())].sum(axis=1)
    table["booked"] = table["commission"] + table["fees"]
    table["delta"] = table["booked"] - table["invoiced"]
    table = table.reset_index()
    table["shop_id"] = table["shop_id"].astype("Int64")
    return table.sort_values(["shop_id", "currency"]).reset_index(drop=True)


def _invoice_exceptions(table: pd.DataFrame) -> pd.DataFrame:
    """TL02's commission + fees against IV01's total, per shop: a fee is never mistaken for commission."""
    delta = table["delta"]
    keep = delta != 0
    return pd.DataFrame(
        {
            "class": np.where(delta[keep].abs() <= ROUNDING_TOLERANCE, "rounding", "amount_mismatch"),
            "field": "invoice",
            "shop_id": table.loc[keep, "shop_id"].astype("Int64"),
            "currency": table.loc[keep, "currency"],
            "left": table.loc[keep, "booked"],
            "right": table.loc[keep, "invoiced"],
            "delta": delta[keep],
        }
    )


_SELLER_KEYS = ["shop_id", "currency"]
_SELLER_SUMS = ["bc_amount", "mk_amount", "mk_commission", "bc_refund", "mk_refund"]


def _seller_sums(lines: pd.DataFrame) -> pd.DataFrame:
    """One partition's lines per seller and currency: counts and sums, which add up across partitions."""
    counted = lines[_SELLER_KEYS + _SELLER_SUMS].assign(lines=1, matched_lines=(lines["status"] == "matched"))
    return counted.groupby(_SELLER_KEYS, dropna=False).sum()


def _seller_table(parts: list[pd.DataFrame], exceptions: pd.DataFrame) -> pd.DataFrame:
    sellers = pd.concat(parts).groupby(level=_SELLER_KEYS, dropna=False).sum()
    sellers = sellers[["lines", "matched_lines", *_SELLER_SUMS]].astype("int64")
    gaps = exceptions[exceptions["class"] != "rounding"].groupby(_SELLER_KEYS, dropna=False).size()
    sellers["exceptions"] = gaps.reindex(sellers.index, fill_value=0).astype("int64")
    return sellers.reset_index().sort_values(_SELLER_KEYS).reset_index(drop=True)


# --- totals and shaping ----------------------------------------------------------------------------------------


def _line_sums(lines: pd.DataFrame, terms: Terms) -> pd.Series:
    """One partition's left and right totals per line field (`<field>:left`, `<field>:right`), over the population
    each field compares; they add up across partitions."""
    # Sums over masks, column by column: a filtered copy of the line table would double its memory.
    order_scope = lines["has_mk_order"] | (lines["has_bc"] & lines["in_period"])
    booked = lines["has_mk_order"]
    rated = booked & lines["expected_commission"].notna()

    def total(name: str, rows: pd.Series) -> int:
        return int(lines.loc[rows, name].astype("int64").sum())

    pairs: dict[str, tuple[int, int]] = {
        "amount": (total("bc_amount", order_scope), total("mk_amount", order_scope)),
        "tax": (total("bc_tax", order_scope), total("mk_tax", order_scope)),
        "refund": (int(lines["bc_refund"].sum()), int(lines["mk_refund"].sum())),
        "commission": (total("mk_commission", rated), total("expected_commission", rated)),
    }
    if terms.commission_tax_rate_ppm is not None:
        commission = lines.loc[booked, "mk_commission"]
        rates = pd.Series(terms.commission_tax_rate_ppm, index=commission.index, dtype="int64")
        pairs["commission_tax"] = (total("mk_commission_tax", booked), int(apply_rate(commission, rates).sum()))
    return pd.Series(
        {
            f"{name}:{side}": value
            for name, pair in pairs.items()
            for side, value in zip(("left", "right"), pair, strict=True)
        },
        dtype="int64",
    )


def _totals(
    line_sums: pd.Series,
    exceptions: pd.DataFrame,
    cycles: pd.DataFrame,
    invoices: pd.DataFrame | None,
    terms: Terms,
) -> pd.DataFrame:
    """Per field: left and right totals over the compared population, and how much of the gap is explained."""
    fields = [key.removesuffix(":left") for key in line_sums.index if key.endswith(":left")]
    pairs = {name: (int(line_sums[f"{name}:left"]), int(line_sums[f"{name}:right"])) for name in fields}
    stray = exceptions[exceptions["field"] == "transaction"]
    pairs["transaction"] = (stray["left"].sum(), 0)
    if terms.cycles is not None:
        pairs["payout"] = (cycles["expected_payout"].sum(), cycles["sbc11_payout"].sum())
    if invoices is not None:
        pairs["invoice"] = (invoices["booked"].sum(), invoices["invoiced"].sum())
    explained = exceptions.groupby("field")["delta"].sum()
    rows = []
    for name, (left, right) in pairs.items():
        gap = int(left) - int(right)
        done = int(explained.get(name, 0))
        rows.append(
            {
                "field": name,
                "left": FIELDS[name][0],
                "right": FIELDS[name][1],
                "left_total": int(left),
                "right_total": int(right),
                "difference": gap,
                "explained": done,
                "unexplained": gap - done,
            }
        )
    return pd.DataFrame(rows)


def _with_columns(part: Partition) -> Partition:
    """Empty inputs (a quiet day) still carry their columns, so every step below sees the same shape."""
    return Partition(
        _columns(part.transactions, TRANSACTION_COLUMNS),
        _columns(part.bc_lines, BC_LINE_COLUMNS),
        _columns(part.bc_refunds, BC_REFUND_COLUMNS),
    )


def _terms_with_columns(terms: Terms) -> Terms:
    cycles = None if terms.cycles is None else _columns(terms.cycles, CYCLE_COLUMNS)
    invoices = None if terms.invoices is None else _columns(terms.invoices, INVOICE_COLUMNS)
    return replace(terms, cycles=cycles, invoices=invoices)


def _columns(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    return frame if set(columns) <= set(frame.columns) else frame.reindex(columns=list(columns))


def _empty_exceptions() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype="object") for name in _EXCEPTION_COLUMNS})


def _empty_cycles() -> pd.DataFrame:
    columns = ["cycle_id", "shop_id", "currency", "expected_payout", "sbc11_payout", "delta"]
    return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})


def _sorted_exceptions(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reindex(columns=_EXCEPTION_COLUMNS).reset_index(drop=True)
    for name in ("left", "right", "delta"):
        frame[name] = frame[name].fillna(0).astype("int64")
    for name in ("shop_id", "bc_order_id", "bc_order_product_id"):
        frame[name] = frame[name].astype("Int64")
    rank = frame["class"].map({name: i for i, name in enumerate(CLASSES)})
    keys = frame.assign(_rank=rank).fillna({"line_key": "", "cycle_id": "", "transaction_id": ""})
    order = keys.sort_values(
        ["_rank", "shop_id", "line_key", "field", "cycle_id", "transaction_id"], kind="stable", na_position="last"
    ).index
    return frame.loc[order].reset_index(drop=True)
