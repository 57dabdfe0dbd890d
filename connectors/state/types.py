"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timezone-aware timestamp and no native decimal, so without these types a value written as an
aware UTC datetime would come back naive, and money would come back with float noise. The bridge promises
aware timestamps and Decimal money everywhere, whichever engine holds the state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["BigId", "Money", "UtcDateTime", "utcnow"]

MONEY_SCALE = 4
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)
# Timestamps whose SQLite text (and texts whose timestamp) are kept at hand; a bulk statement repeats a few.
_SQLITE_CACHED = 4096
# SQLite's DATETIME storage format (`sqlalchemy.dialects.sqlite.DATETIME`), with positional fields.
_SQLITE_FORMAT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"

# SQLite only turns an "INTEGER PRIMARY KEY" into an auto-incrementing rowid; BIGINT would not autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The one clock default of the store, so every stored timestamp is aware UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    Naive datetimes are refused on write: guessing their zone would silently shift SLA and lease deadlines.

    On SQLite the value is stored as text; the processors below do in one step per value what this decorator
    and SQLite's DATETIME did in two (a bulk push binds and reads hundreds of thousands of timestamps).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return _bind_sqlite_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _read_sqlite_text

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else _read_utc(value)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused by the state store: {value!r}")
    return value.astimezone(UTC)


def _read_utc(value: datetime) -> datetime:
    """A stored timestamp as aware UTC: a naive one was stored in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _bind_sqlite_text(value: datetime | None) -> str | None:
    return None if value is None else _sqlite_text(value)


@lru_cache(maxsize=_SQLITE_CACHED)
def _sqlite_text(value: datetime) -> str:
    """The value in UTC as SQLite's DATETIME stores it, "YYYY-MM-DD HH:MM:SS.ffffff" (its default storage
    format, microseconds always written), so rows written before and after read the same.

    Cached: a bulk write binds one stamp (`updated_at`, `created_at`) on every row. Equal aware datetimes are
    the same instant, so share one UTC text; a naive one raises, and exceptions are not cached."""
    utc = _as_utc(value)
    return _SQLITE_FORMAT % (utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond)


def _read_sqlite_text(value: str | None) -> datetime | None:
    return None if value is None else _sqlite_datetime(value)


@lru_cache(maxsize=_SQLITE_CACHED)
def _sqlite_datetime(value: str) -> datetime:
    """Stored text back as aware UTC, parsed as SQLite's DATETIME parses it (`datetime.fromisoformat`).

    Cached (datetimes are immutable): a claim reads the same `claimed_at` and `updated_at` on each of its rows."""
    return _read_utc(datetime.fromisoformat(value))


class Money(TypeDecorator[Decimal]):
    """NUMERIC(18,4) read back as a Decimal with four places on both engines.

    On SQLite the column holds a float, so the value is quantized on the way out; this also avoids the
    SQLAlchemy warning about SQLite's missing decimal support at every first read.
    """

    impl = Numeric(18, MONEY_SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(18, MONEY_SCALE, asdecimal=False))
        return dialect.type_descriptor(Numeric(18, MONEY_SCALE))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        amount = Decimal(value).quantize(_MONEY_QUANTUM)
        return float(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(_MONEY_QUANTUM)
