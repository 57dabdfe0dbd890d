"""Money per currency: ISO 4217 minor units, the one rounding rule, and exact splits, for every stream.

A yen has no cents and a Kuwaiti dinar has fils (three decimals): rounding every amount to 0.01 sends 0.50 JPY
to Mirakl or drops a KWD fils. Every place that rounds, splits, compares or serializes money asks this module
for the currency's exponent, so one table decides it. It lives under `connectors/` because the clients need it
too, and it holds no business rule: only ISO 4217 facts and arithmetic.

An unknown currency code is an error (`UnknownCurrencyError`, a `ValueError`), never a silent two decimals:
the configuration refuses it at start-up, and a record carrying one is quarantined with the code in the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from common.errors import DataError

__all__ = [
    "UnknownCurrencyError",
    "allocate",
    "check_currency",
    "from_minor",
    "is_whole",
    "minor_exponent",
    "quantum",
    "round_money",
    "to_minor",
]

_ZERO = Decimal("0")

# ISO 4217 (list one, active codes with a defined minor unit): the number of decimals of each currency.
_NON_TWO = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE "
    "CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL "
    "HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR "
    "MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK "
    "SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST "
    "XCD XCG ZAR ZMW ZWG ZWL"
)
_EXPONENTS: dict[str, int] = {code: 2 for code in _TWO.split()} | _NON_TWO


class UnknownCurrencyError(DataError, ValueError):
    """A code that is not an ISO 4217 currency with minor units: money in it cannot be rounded or compared."""

    def __init__(self, currency: object) -> None:
        super().__init__(f"unknown currency code {currency!r}: not an ISO 4217 currency with minor units")
        self.currency = currency


def check_currency(currency: str | None) -> str:
    """The upper-case ISO 4217 code, or `UnknownCurrencyError`; used to validate configuration and records."""
    code = (currency or "").strip().upper()
    if code not in _EXPONENTS:
        raise UnknownCurrencyError(currency)
    return code


def minor_exponent(currency: str) -> int:
    """Decimals of the currency's minor unit (JPY 0, USD 2, KWD 3)."""
    return _EXPONENTS[check_currency(currency)]


def quantum(currency: str) -> Decimal:
    """The currency's smallest amount as a Decimal exponent: 1, 0.01, 0.001."""
    return Decimal(1).scaleb(-minor_exponent(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-up to the currency's minor unit (the rule BigCommerce and Mirakl show amounts with)."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def is_whole(amount: Decimal, currency: str) -> bool:
    """True when `amount` holds no fraction of the currency's minor unit."""
    return amount == round_money(amount, currency)


def to_minor(amount: Decimal | None, currency: str) -> int:
    """`amount` in minor units, rounded half-up when the API sent more decimals than the currency has."""
    if amount is None:
        return 0
    return int(amount.scaleb(minor_exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    return Decimal(int(amount)).scaleb(-minor_exponent(currency))


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split `total` in the currency's minor units proportionally to `weights`, summing exactly to the rounded total.

    The rounding remainder goes to the heaviest share, so no minor unit is created or lost by a split.
    """
    if not weights:
        return []
    rounded = round_money(total, currency)
    whole = sum(weights, _ZERO)
    if whole <= 0:
        return [rounded, *(_ZERO for _ in weights[1:])]
    shares = [round_money(total * w / whole, currency) for w in weights]
    heaviest = max(range(len(weights)), key=lambda i: weights[i])
    shares[heaviest] += rounded - sum(shares, _ZERO)
    return shares
