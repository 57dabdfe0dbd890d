"""JSON bodies for Mirakl with money as exact decimal numbers and dates in Mirakl's UTC form.

The standard `json` module can only write a `Decimal` by going through `float` or a string; Mirakl wants a
JSON number and our money must not pass through binary floating point. This module writes the number text
straight from the `Decimal`, with the decimals the caller rounded it to: the streams round every amount to its
currency's minor unit with `connectors.money` (JPY 0, USD 2, KWD 3 decimals), so the encoder neither pads a yen
amount to cents nor rounds anything away. An amount finer than any ISO 4217 minor unit (more than 4 decimals)
was never rounded by its stream and is refused rather than silently rounded here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.mirakl.settings import REQUEST_DATE_FORMAT

__all__ = ["encode_json", "format_money", "format_request_date"]

_MAX_DECIMALS = 4  # the finest ISO 4217 minor unit (CLF, UYW)


def format_request_date(value: datetime) -> str:
    """A timezone-aware instant as Mirakl reads it: `YYYY-MM-DDTHH:MM:SSZ` in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("Mirakl request dates must be timezone-aware")
    return value.astimezone(UTC).strftime(REQUEST_DATE_FORMAT)


def format_money(value: Decimal) -> str:
    """Fixed-point text with exactly the decimals `value` carries (none for `1E+2`); more than 4 is refused."""
    if not value.is_finite():
        raise ValueError(f"money must be finite, got {value}")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite decimals always have an int exponent
    if exponent > 0:
        value = value.quantize(Decimal(1))
    elif exponent < -_MAX_DECIMALS and value != value.quantize(Decimal(1).scaleb(-_MAX_DECIMALS)):
        raise ValueError(f"money {value} has more decimals than any currency: round it to its minor unit first")
    elif exponent < -_MAX_DECIMALS:
        value = value.quantize(Decimal(1).scaleb(-_MAX_DECIMALS))
    return format(value, "f")


def encode_json(payload: Any) -> bytes:
    """UTF-8 JSON where every `Decimal` is a number literal; other values go through `json`."""
    return _encode(payload).encode("utf-8")


def _encode(value: Any) -> str:
    if isinstance(value, Decimal):
        return format_money(value)
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(key), ensure_ascii=False)}:{_encode(item)}" for key, item in value.items())
        return "{" + ",".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    if isinstance(value, datetime):
        return json.dumps(format_request_date(value))
    return json.dumps(value, ensure_ascii=False)
