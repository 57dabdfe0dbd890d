"""How values cross the wire: v2 money as 4-decimal strings and RFC-2822 dates, v3 money as numbers.

The two API generations disagree on every scalar format (bigcommerce.md §0.2); funnelling them through these few
functions keeps every route consistent, and parsing request bodies with `Decimal` keeps money exact inside.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.bigcommerce.errors import ApiError

__all__ = [
    "ApiJSONResponse",
    "iso8601",
    "money_v2",
    "parse_datetime",
    "parse_int_list",
    "parse_money",
    "read_json",
    "rfc2822",
]

_CENT4 = Decimal("0.0001")


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        # v3 money is a JSON number; the float exists only in the serialised text.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return iso8601(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class ApiJSONResponse(JSONResponse):
    """JSON that accepts `Decimal` and `datetime`, so routes can return their records as they are stored."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_encode, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def money_v2(value: Decimal) -> str:
    return str(value.quantize(_CENT4))


def rfc2822(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC)).replace("-0000", "+0000")


def iso8601(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")


def parse_datetime(raw: str) -> datetime | None:
    """RFC-2822 or ISO-8601 (as v2 date filters accept both); a `+` decoded as a space is put back."""
    try:
        return parsedate_to_datetime(raw).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        pass
    candidate = raw.strip()
    if " " in candidate and "T" in candidate:
        candidate = candidate.replace(" ", "+")
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_money(value: Any, *, allow_string: bool) -> Decimal | None:
    """A money input as Decimal, or None when it is not a number (v2 also takes "Float-As-String")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if allow_string and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def parse_int_list(raw: str | None, *, field: str, version: str) -> list[int] | None:
    """A comma-separated `:in` filter of ids; a non-integer member is a client error, as on a real store."""
    if raw is None:
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ApiError(version, 400, "Input is invalid", errors={field: "must be a list of integers"}) from None


async def read_json(request: Request, version: str) -> Any:
    """The request body, with JSON numbers that have a fraction read as Decimal."""
    body = await request.body()
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(version, 400, "Input is invalid", detail="Syntax error") from None
