"""Exact money for reconciliation: Decimal amounts become integer minor units, and back, never through float.

Reconciling a million lines in pandas needs a numeric column, and a float column would make "balances to the
cent" a matter of luck. Integer minor units (cents) are exact, fast, and sum without drift; Decimal is used only
at the edges (API models in, CSV and the state store out).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from connectors.http.errors import ConfigurationError

__all__ = [
    "RATE_SCALE",
    "apply_rate",
    "format_minor",
    "from_minor",
    "minor_exponent",
    "rate_table",
    "to_minor",
]

# ISO 4217 currencies whose minor unit is not the cent; every other currency has two decimals.
_EXPONENTS = {"BIF": 0, "CLP": 0, "JPY": 0, "KRW": 0, "ISK": 0, "VND": 0, "XAF": 0, "XOF": 0, "BHD": 3, "KWD": 3}
# Rates are held as integer parts per million, so rate x amount stays integer arithmetic.
RATE_SCALE = 1_000_000


def minor_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def to_minor(amount: Decimal | None, currency: str) -> int:
    """`amount` in minor units, rounded half-up when the API sent more decimals than the currency has."""
    if amount is None:
        return 0
    return int(amount.scaleb(minor_exponent(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_minor(amount: int, currency: str) -> Decimal:
    return Decimal(int(amount)).scaleb(-minor_exponent(currency))


def format_minor(amounts: pd.Series, currencies: pd.Series) -> pd.Series:
    """Minor units as decimal strings ("-12.05"), vectorised for CSV exports of a million rows."""
    values = amounts.to_numpy(dtype=np.int64)
    exponents = currencies.map(minor_exponent).to_numpy(dtype=np.int64)
    sign = np.where(values < 0, "-", "")
    magnitude = np.abs(values)
    text = pd.Series("", index=amounts.index, dtype=object)
    for exponent in np.unique(exponents):
        rows = exponents == exponent
        scale = 10 ** int(exponent)
        units = pd.Series(sign[rows]) + (magnitude[rows] // scale).astype(str)
        if exponent:
            units = units + "." + pd.Series(magnitude[rows] % scale).astype(str).str.zfill(int(exponent))
        text[rows] = units.to_numpy()
    return text


def rate_table(rates: Mapping[int, Decimal]) -> dict[int, int]:
    """Contract rates (fractions, 0.12 = 12 %) as parts per million; a rate finer than that is refused."""
    table = {}
    for shop_id, rate in rates.items():
        scaled = rate * RATE_SCALE
        if scaled != scaled.to_integral_value() or not 0 <= rate <= 1:
            raise ConfigurationError(f"reconciliation.commission_rates[{shop_id}]: {rate} is not a rate in [0, 1]")
        table[int(shop_id)] = int(scaled)
    return table


def apply_rate(amounts: pd.Series, rates_ppm: pd.Series) -> pd.Series:
    """round_half_up(amount x rate) in minor units, exactly, for positive and negative amounts alike."""
    values = amounts.to_numpy(dtype=np.int64)
    rates = rates_ppm.to_numpy(dtype=np.int64)
    magnitude = (np.abs(values) * rates + RATE_SCALE // 2) // RATE_SCALE
    return pd.Series(np.sign(values) * magnitude, index=amounts.index, dtype="int64")
