"""Exact money for reconciliation, vectorised: integer minor units in pandas columns, never floats.

Reconciling a million lines in pandas needs a numeric column, and a float column would make "balances to the
cent" a matter of luck. Integer minor units are exact, fast, and sum without drift; Decimal is used only at the
edges (API models in, CSV and the state store out). Which unit is minor (yen, cent, fils) is decided by the one
money module, `connectors.money`; this module only adds the column-wise helpers reconciliation needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import numpy as np
import pandas as pd

from common.errors import ConfigurationError
from connectors.money import minor_exponent

__all__ = [
    "RATE_SCALE",
    "apply_rate",
    "format_minor",
    "rate_table",
]

# Rates are held as integer parts per million, so rate x amount stays integer arithmetic.
RATE_SCALE = 1_000_000


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
