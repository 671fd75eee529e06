"""Column types that keep money exact and time zone-aware on every backend.

- ``Money`` (``NUMERIC(20, 6)``) and ``Price`` (``NUMERIC(12, 6)``) accept and return ``Decimal``
  only. PostgreSQL stores them as ``NUMERIC``. SQLite has no exact decimal type (its ``NUMERIC``
  affinity silently turns ``0.1`` into a binary float), so there they are stored as integer
  micro-units in a ``BIGINT``: exact, and still ordered and summable in SQL. Scale 6 is pUSD's own
  precision, so values are rounded half-up to 6 places on the way in, the same rule PostgreSQL's
  ``NUMERIC`` applies, and both backends return the same ``Decimal`` (always with 6 places).
  A ``float`` is refused with ``TypeError``; a value too large for the column with ``ValueError``.
  Do not use ``AVG`` on these columns in SQL: SQLite would answer with a float.
- ``UTCDateTime`` accepts only aware datetimes, stores UTC, and always returns aware UTC
  datetimes (SQLite keeps no offset, so UTC is attached on the way out).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["ExactDecimal", "Money", "Price", "UTCDateTime"]

_SQLITE_INT_MAX = 2**63 - 1


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` column of fixed precision and scale, exact on PostgreSQL and SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)
        self._limit = Decimal(10) ** (precision - scale)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """``BIGINT`` micro-units on SQLite, ``NUMERIC(precision, scale)`` elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Quantise to the column's scale; integer micro-units on SQLite."""
        if value is None:
            return None
        if isinstance(value, float) or not isinstance(value, Decimal | int | str):
            raise TypeError(f"exact decimal column got {type(value).__name__}: {value!r}")
        exact = Decimal(value).quantize(self._quantum, rounding=ROUND_HALF_UP)
        if abs(exact) >= self._limit:
            raise ValueError(f"{value} does not fit NUMERIC({self.precision}, {self.scale})")
        if dialect.name != "sqlite":
            return exact
        micro = int(exact.scaleb(self.scale))
        if abs(micro) > _SQLITE_INT_MAX:
            raise ValueError(f"{value} does not fit SQLite's 64-bit micro-units")
        return micro

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a ``Decimal`` with exactly ``scale`` places."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale)
        return Decimal(value).quantize(self._quantum)


class Money(ExactDecimal):
    """pUSD amounts and share sizes: ``NUMERIC(20, 6)``."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(20, 6)


class Price(ExactDecimal):
    """Prices, ticks and rates: ``NUMERIC(12, 6)``."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(12, 6)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware timestamp stored as UTC (``TIMESTAMP WITH TIME ZONE`` on PostgreSQL)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def __repr__(self) -> str:
        return "UTCDateTime()"

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; convert to UTC (offset dropped on SQLite)."""
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"timestamp column got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware (UTC) datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Always an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
