"""How the emulator writes and reads Mirakl's scalar formats: money, dates, JSON bodies.

Mirakl sends amounts as JSON numbers and dates as ISO-8601 UTC with a `Z`; it accepts dates in several ISO
shapes (`Z`, `+0000`, with or without millis). Keeping these rules in one place keeps every route consistent,
and keeps money exact: amounts are `Decimal` inside the emulator and only become JSON numbers on the way out.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse

from sandbox.minor_units import round_to

__all__ = ["MiraklJSONResponse", "iso", "money", "parse_date", "to_millis"]


def money(value: Decimal | int | str, currency: str) -> Decimal:
    """Round half up to the currency's minor unit (a yen, a cent, a fils), the way Mirakl shows amounts."""
    return round_to(value, currency)


def to_millis(moment: datetime) -> datetime:
    """Mirakl dates carry at most milliseconds; storing the same precision keeps `>=` watermarks exact."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)


def iso(moment: datetime | None) -> str | None:
    """`2026-11-01T10:00:00Z`, or with millis when the moment has them."""
    if moment is None:
        return None
    moment = to_millis(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def parse_date(raw: str) -> datetime:
    """Accept the ISO shapes Mirakl clients send; a naive value is UTC. Raises ValueError when unreadable."""
    text = raw.strip().replace(" ", "+")  # an unencoded `+0000` arrives as a space in a query string
    moment = datetime.fromisoformat(text)
    return to_millis(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # float() of a cent-rounded Decimal prints exactly those digits (shortest round-trip repr).
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class MiraklJSONResponse(JSONResponse):
    """JSON response that renders Decimal amounts as numbers and datetimes as Mirakl dates."""

    def render(self, content: Any) -> bytes:
        return json.dumps(_plain(content), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
