"""ISO 4217 minor units as both emulated platforms apply them: amounts are rounded half-up to the currency's unit.

The sandbox imports nothing of the bridge, so it keeps its own table (ISO 4217 list one, currencies whose minor
unit is not the cent); every other code has two decimals. BigCommerce shows a yen price without decimals and a
Kuwaiti dinar with three (fils); Mirakl books TL02 amounts in the order's currency the same way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

__all__ = ["minor_exponent", "round_to"]

_NON_TWO = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}  # fmt: skip


def minor_exponent(currency: str) -> int:
    return _NON_TWO.get(currency.upper(), 2)


def round_to(value: Decimal | int | str, currency: str) -> Decimal:
    """`value` rounded half-up to the currency's minor unit (1, 0.01, 0.001)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-minor_exponent(currency)), rounding=ROUND_HALF_UP)
