"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timezone-aware timestamp and no native decimal, so without these types a value written as an
aware UTC datetime would come back naive, and money would come back with float noise. The bridge promises
aware timestamps and Decimal money everywhere, whichever engine holds the state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Integer, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["BigId", "Money", "UtcDateTime", "utcnow"]

MONEY_SCALE = 4
_MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)

# SQLite only turns an "INTEGER PRIMARY KEY" into an auto-incrementing rowid; BIGINT would not autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """The one clock default of the store, so every stored timestamp is aware UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    Naive datetimes are refused on write: guessing their zone would silently shift SLA and lease deadlines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime refused by the state store: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


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
