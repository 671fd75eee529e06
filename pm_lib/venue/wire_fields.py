"""Field decoders shared by the ``wire_*`` parsers: one venue object, one kind, one identity.

Each wire object is read through a ``WireObject``, so every failure becomes a
``BadVenueData(kind, ident, reason)`` that names the field. Numbers become ``Decimal`` through
``str()`` (never through float arithmetic): Gamma sends ``0.001`` as a JSON number, the CLOB sends
``"0.001"`` as a string, and both must yield ``Decimal("0.001")``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import orjson

from pm_lib.errors import BadVenueData

__all__ = [
    "CONDITION_ID_PATTERN",
    "EPOCH",
    "TICK_SIZES",
    "WireObject",
    "canonical_tick",
    "is_token_id",
    "to_decimal",
]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# The venue's tick set (py_clob_client_v2 ``TickSize``; docs/VENUE.md 2.1). Keys normalise
# "0.010" and 0.01 alike to the canonical Decimal.
TICK_SIZES: Final[dict[Decimal, Decimal]] = {
    Decimal(t): Decimal(t) for t in ("0.1", "0.01", "0.005", "0.0025", "0.001", "0.0001")
}

# A condition id is a bytes32 in 0x-hex (Gamma ``conditionId``, CLOB ``market``).
CONDITION_ID_PATTERN: Final = re.compile(r"0x[0-9a-fA-F]{64}")

_MISSING: Final = object()


def to_decimal(value: object) -> Decimal:
    """Decode a venue number (decimal string, int or JSON float) exactly; ValueError otherwise.

    Floats go through ``repr`` (shortest round-trip form), so ``0.001`` becomes
    ``Decimal("0.001")``, not the binary expansion. Booleans, NaN and infinities are refused.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, str | int):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    else:
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def canonical_tick(value: Decimal) -> Decimal | None:
    """The venue tick equal to ``value``, or ``None`` when it is not one of the venue's ticks."""
    return TICK_SIZES.get(value)


def is_token_id(value: object) -> bool:
    """True for a CLOB token id: a non-empty string of ASCII decimal digits (a uint256)."""
    return isinstance(value, str) and value.isascii() and value.isdigit()


def _parse_iso_datetime(text: str) -> datetime:
    # Gamma mixes "2026-12-31T00:00:00Z", "2025-07-03T20:37:00.228Z", "2026-09-05 16:15:00+00"
    # and plain dates; Python 3.11's fromisoformat reads all of them. Naive means UTC.
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class WireObject:
    """One decoded venue JSON object, read field by field with errors that name the field."""

    __slots__ = ("fields", "ident", "kind")

    def __init__(
        self, obj: object, kind: str, ident_keys: tuple[str, ...] = (), ident: str = "?"
    ) -> None:
        self.kind = kind
        self.ident = ident
        if not isinstance(obj, Mapping):
            raise BadVenueData(kind, ident, f"expected a JSON object, got {type(obj).__name__}")
        self.fields: Mapping[str, Any] = obj
        for key in ident_keys:
            value = obj.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                self.ident = str(value)
                break

    def nested(self, obj: object) -> WireObject:
        """A nested object, read under this object's kind and identity."""
        return WireObject(obj, self.kind, ident=self.ident)

    def bad(self, reason: str) -> BadVenueData:
        """The error to raise for this object."""
        return BadVenueData(self.kind, self.ident, reason)

    def raw(self, key: str) -> Any:
        """The raw value of a required field (present and not null)."""
        value = self.fields.get(key)
        if value is None:
            raise self.bad(f"missing field {key!r}")
        return value

    def text(self, key: str, default: str | None = None) -> str:
        """A string field; ids sent as JSON numbers are accepted and turned into strings."""
        value = self.fields.get(key)
        if value is None:
            if default is None:
                raise self.bad(f"missing field {key!r}")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.bad(f"field {key!r} should be a string, got {value!r}")
        return str(value)

    def optional_text(self, key: str) -> str | None:
        """A string field that may be absent, null or empty (all read as ``None``)."""
        value = self.text(key, default="")
        return value or None

    def flag(self, key: str, default: bool = False) -> bool:
        """A boolean field; absent or null (Gamma omits nulls) reads as ``default``."""
        value = self.fields.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.bad(f"field {key!r} should be true/false, got {value!r}")
        return value

    def decimal(self, key: str, default: Decimal | None = None) -> Decimal:
        """A number field (string, int or float) as an exact ``Decimal``."""
        value = self.fields.get(key)
        if value is None or value == "":
            if default is None:
                raise self.bad(f"missing field {key!r}")
            return default
        try:
            return to_decimal(value)
        except ValueError as e:
            raise self.bad(f"field {key!r}: {e}") from None

    def optional_decimal(self, key: str) -> Decimal | None:
        """A number field that may be absent, null or ``""``."""
        value = self.fields.get(key)
        if value is None or value == "":
            return None
        return self.decimal(key)

    def whole_number(self, key: str, default: int | None = None) -> int:
        """An integer-valued number field (``1``, ``"1"`` and ``1.0`` all read as 1)."""
        number = self.decimal(key, None if default is None else Decimal(default))
        if number != number.to_integral_value():
            raise self.bad(f"field {key!r} should be a whole number, got {number}")
        return int(number)

    def json_list(self, key: str) -> list[Any]:
        """A list field that Gamma may send as a JSON-encoded string ('["Yes", "No"]')."""
        value = self.raw(key)
        if isinstance(value, str):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError:
                raise self.bad(f"field {key!r} is not valid JSON: {value[:80]!r}") from None
        if not isinstance(value, list):
            raise self.bad(f"field {key!r} should be a list, got {type(value).__name__}")
        return value

    def objects(self, key: str) -> list[Any]:
        """A list field of nested objects; absent or null reads as an empty list."""
        value = self.fields.get(key, _MISSING)
        if value is _MISSING or value is None:
            return []
        if not isinstance(value, list):
            raise self.bad(f"field {key!r} should be a list, got {type(value).__name__}")
        return value

    def condition_id(self, key: str) -> str:
        """A bytes32 condition id in 0x-hex."""
        value = self.text(key)
        if not CONDITION_ID_PATTERN.fullmatch(value):
            raise self.bad(f"field {key!r} is not a 0x-hex bytes32 condition id: {value!r}")
        return value

    def token_id(self, key: str) -> str:
        """A CLOB token id (decimal digits)."""
        value = self.text(key)
        if not is_token_id(value):
            raise self.bad(f"field {key!r} is not a decimal token id: {value!r}")
        return value

    def tick(self, key: str) -> Decimal:
        """A price tick that must be one of the venue's tick sizes."""
        value = self.decimal(key)
        tick = canonical_tick(value)
        if tick is None:
            raise self.bad(f"field {key!r}: tick {value} is not a venue tick size")
        return tick

    def iso_datetime(self, key: str) -> datetime | None:
        """An ISO-8601 date or date-time field as an aware UTC datetime (``None`` if absent)."""
        value = self.optional_text(key)
        if value is None:
            return None
        try:
            return _parse_iso_datetime(value)
        except ValueError:
            raise self.bad(f"field {key!r} is not an ISO date-time: {value!r}") from None

    def epoch_datetime(self, key: str, *, millis: bool) -> datetime:
        """A unix time (seconds, or milliseconds when ``millis``) sent as digits or a number.

        ISO strings are accepted too, since order and trade times come in both forms.
        """
        value = self.raw(key)
        if isinstance(value, str) and not value.isdigit():
            try:
                return _parse_iso_datetime(value)
            except (ValueError, OverflowError):
                raise self.bad(f"field {key!r} is not a time: {value!r}") from None
        # Digits (every book's timestamp) are a whole number as they stand; numbers go the
        # general way (1.0 is whole, 1.5 is not).
        number = int(value) if isinstance(value, str) else self.whole_number(key)
        if number < 0:
            raise self.bad(f"field {key!r} is negative: {number}")
        try:
            return EPOCH + (timedelta(milliseconds=number) if millis else timedelta(seconds=number))
        except OverflowError:  # past datetime's year 9999: no venue time, a broken payload
            raise self.bad(f"field {key!r} is out of range: {number}") from None
