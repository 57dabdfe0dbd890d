"""One money module for every stream: ISO 4217 minor units decide rounding, splitting and minor-unit conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.money import UnknownCurrencyError, allocate, from_minor, is_whole, round_money, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("0.1"), "USD", 10),
        (Decimal("-19.99"), "USD", -1999),
        (Decimal("1.005"), "USD", 101),
        (Decimal("7"), "JPY", 7),
        (Decimal("7.5"), "jpy", 8),
        (Decimal("1.2345"), "KWD", 1235),
    ],
)
def test_decimal_to_minor_units_is_exact_per_currency(amount: Decimal, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor


def test_minor_units_come_back_with_the_currency_s_decimals() -> None:
    assert (from_minor(1205, "USD"), from_minor(1205, "JPY"), from_minor(1205, "KWD")) == (
        Decimal("12.05"),
        Decimal("1205"),
        Decimal("1.205"),
    )


def test_rounding_follows_the_currency_not_the_cent() -> None:
    assert round_money(Decimal("1000.50"), "JPY") == Decimal("1001")
    assert round_money(Decimal("3.3335"), "KWD") == Decimal("3.334")
    assert round_money(Decimal("3.335"), "USD") == Decimal("3.34")
    assert is_whole(Decimal("12.345"), "KWD") and not is_whole(Decimal("12.345"), "USD")


@pytest.mark.parametrize(("currency", "total"), [("JPY", Decimal("1000")), ("KWD", Decimal("10.000"))])
def test_a_split_never_creates_or_loses_a_minor_unit(currency: str, total: Decimal) -> None:
    shares = allocate(total, [Decimal("1"), Decimal("1"), Decimal("1")], currency)
    assert sum(shares) == total and all(is_whole(share, currency) for share in shares)


@pytest.mark.parametrize("code", ["XXX", "EURO", "", "US"])
def test_an_unknown_currency_code_is_a_clear_error_not_two_decimals(code: str) -> None:
    with pytest.raises(UnknownCurrencyError, match="unknown currency code"):
        to_minor(Decimal("1"), code)
