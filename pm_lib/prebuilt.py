"""Domain models built from values this process has already checked, without re-validation.

Pydantic validation is the right tool at the edges (venue JSON, settings, user input). The book
parser (``pm_lib.venue.wire_book``) rebuilds ~1.3 M levels and ~100k books a 50,000-market scan
from values it checked a moment before; re-validating them cost more than the parsing around
them (docs/PERFORMANCE.md). ``prebuilt`` assigns the values as
``model_construct`` would, attribute by attribute (a key-sharing instance dict), with one shared
fields-set per model; the result compares, hashes, dumps and reprs like a validated instance.

Callers own the checking: every value must already have the field's type (``Decimal`` for money,
aware ``datetime``, enum members, nested models), and every field must be given.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

from pydantic import BaseModel

__all__ = ["fields_set_of", "prebuilt"]

_NEW: Final = object.__new__
_SET: Final = object.__setattr__
_M = TypeVar("_M", bound=BaseModel)


def fields_set_of(model: type[BaseModel]) -> set[str]:
    """The fields-set to share between instances of ``model`` (never mutated in place: pydantic's
    ``model_copy`` copies it before updating)."""
    return set(model.model_fields)


def prebuilt(model: type[_M], fields_set: set[str], values: dict[str, Any]) -> _M:
    """An instance of ``model`` holding ``values`` (already checked, one per field)."""
    instance = _NEW(model)
    for name, value in values.items():
        _SET(instance, name, value)
    _SET(instance, "__pydantic_fields_set__", fields_set)
    _SET(instance, "__pydantic_extra__", None)
    _SET(instance, "__pydantic_private__", None)
    return instance
