"""Best-offer selection, the diff against the last push, and the gate's configuration flags, without Prefect."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd

from bridge.config import OfferSyncConfig
from tasks.offers.book import BOOK_COLUMNS
from tasks.offers.diff import MAP_COLUMNS, diff_targets, outbox_items, state_hash, target_states
from tasks.offers.gating import gate_by_seller, gate_flags
from tasks.offers.select import select_best

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def book(*offers: tuple[int, str, int, str, str | None, int, bool]) -> pd.DataFrame:
    rows = [
        (oid, sku, shop, Decimal(price), None if ship is None else Decimal(ship), qty, active, "USD", NOW, None)
        for oid, sku, shop, price, ship, qty, active in offers
    ]
    return pd.DataFrame(rows, columns=BOOK_COLUMNS)


def mapping(*rows: tuple[str, int, str, str | None]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [
            (sku, 1, variant, owner, None, None, None, None, None, pushed, None, None)
            for sku, variant, owner, pushed in rows
        ],
        columns=MAP_COLUMNS,
    )
    return frame


def test_lowest_total_price_wins_with_shipping_counted() -> None:
    winners = select_best(book((1, "A", 10, "10.00", "5.00", 3, True), (2, "A", 11, "12.00", "0", 3, True)), {10, 11})
    assert winners.loc["A", "offer_id"] == 2
    assert '"offer_id":1' in winners.loc["A", "runners_up"]


def test_ties_go_to_the_lower_price_then_the_lower_offer_id() -> None:
    offers = book(
        (7, "A", 10, "10.00", "2.00", 1, True), (5, "A", 11, "12.00", "0", 1, True), (3, "A", 12, "12.00", "0", 1, True)
    )
    assert select_best(offers, {10, 11, 12}).loc["A", "offer_id"] == 7
    assert select_best(offers.drop(index=0), {10, 11, 12}).loc["A", "offer_id"] == 3


def test_out_of_stock_inactive_and_unusable_shop_offers_never_win() -> None:
    offers = book(
        (1, "A", 10, "1.00", None, 0, True), (2, "A", 10, "1.00", None, 5, False), (3, "A", 99, "1.00", None, 5, True)
    )
    assert select_best(offers, {10}).empty


def test_unchanged_state_is_not_diffed_and_stock_out_becomes_unbuyable() -> None:
    offers = book((1, "A", 10, "10.00", None, 4, True), (2, "B", 10, "20.00", None, 0, True))
    winners = select_best(offers, {10})
    pushed_a = state_hash(Decimal("10.00"), 4, True)
    targets = target_states(
        mapping(("A", 100, "mirakl", pushed_a), ("B", 101, "mirakl", None)), winners, pd.Series(dtype=object), NOW
    )
    changes = diff_targets(targets)
    assert list(changes.index) == ["B"]
    ((key, payload),) = outbox_items(changes, "Currently unavailable")
    assert key == "offer-sync:variant:101:never"
    assert payload["inventory_level"] == 0 and payload["purchasing_disabled"] is True
    assert payload["purchasing_disabled_message"] == "Currently unavailable"


def test_native_and_unmapped_rows_get_no_target() -> None:
    winners = select_best(book((1, "N", 10, "1.00", None, 1, True)), {10})
    targets = target_states(mapping(("N", 100, "native", None)), winners, pd.Series(dtype=object), NOW)
    assert targets.empty


def test_price_hash_ignores_trailing_zeros() -> None:
    assert state_hash(Decimal("10.5"), 1, True) == state_hash(Decimal("10.50"), 1, True)
    assert state_hash(Decimal("1"), 0, False) == state_hash(None, 5, False)


def test_gate_flags_mark_a_95_percent_drop_and_a_price_above_the_ceiling() -> None:
    offers = book(
        (1, "A", 10, "5.00", None, 1, True), (2, "B", 10, "200000", None, 1, True), (3, "C", 11, "9.00", None, 1, True)
    )
    flags = gate_flags(offers, pd.Series({"A": Decimal("100.00")}), {10}, OfferSyncConfig(), "USD")
    assert list(flags["price_change_ok"]) == [False, True, True]
    assert list(flags["price_below_ceiling"]) == [True, False, True]
    assert list(flags["shop_active"]) == [True, True, False]


def test_one_validation_trips_only_the_seller_whose_rows_mostly_fail() -> None:
    # Seller 10: every row refused (two copies of its own product A, and B's price drop beyond the bound). Seller 11
    # also offers A, which is no duplicate, and its one bad row of four (above the ceiling) stays below the threshold.
    offers = book(
        (1, "A", 10, "5.00", None, 1, True),
        (2, "A", 10, "6.00", None, 1, True),
        (3, "B", 10, "7.00", None, 1, True),
        (4, "A", 11, "8.00", None, 1, True),
        (5, "C", 11, "9.00", None, 1, True),
        (6, "D", 11, "200000", None, 1, True),
        (7, "E", 11, "9.00", None, 1, True),
    )
    flags = gate_flags(offers, pd.Series({"B": Decimal("100.00")}), {10, 11}, OfferSyncConfig(), "USD")

    verdicts = gate_by_seller(flags)

    assert verdicts.tripped == {10: (3, 3)}
    assert sorted(verdicts.failed["offer_id"]) == [1, 2, 3, 6]
