"""The recording format's wire level, light to import (a digest worker process imports only
this, ``stream`` and ``digest``): the file names, the message files, amounts in micro-units.

Prices and sizes are integers of 10^-6 (pUSD and share micro-units): exact, and fast to compare
and add. ``micro`` reads a wire amount (a decimal string or a number) into them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from pm_lib.errors import ConfigurationError

__all__ = [
    "MARKETS_FILE",
    "MESSAGES_DIR",
    "NO_ASK",
    "RESOLUTIONS_FILE",
    "SCALE",
    "BadRecording",
    "from_micro",
    "message_files",
    "micro",
]

MARKETS_FILE = "markets.json"
MESSAGES_DIR = "market"
RESOLUTIONS_FILE = "resolutions.json"


class BadRecording(ConfigurationError):
    """A recording directory that cannot be replayed (the message says which file and why)."""


def message_files(directory: Path) -> list[Path]:
    """The message files of a recording, by name (``market/*.jsonl`` and ``*.jsonl.gz``)."""
    folder = directory / MESSAGES_DIR
    if not folder.is_dir():
        raise BadRecording(f"{folder}: missing (a recording keeps its messages there)")
    return sorted(
        p for p in folder.iterdir() if p.name.endswith(".jsonl") or p.name.endswith(".jsonl.gz")
    )


SCALE = 1_000_000
NO_ASK = 10 * SCALE
_MICRO = Decimal(SCALE)


_CACHE: dict[str, int] = {}
_CACHE_LIMIT = 200_000


def micro(text: Any) -> int:
    """A decimal string (or number) as an integer of micro-units; more than 6 decimals is
    refused (the venue's amounts have at most 6). Recent strings are remembered (prices and
    sizes repeat a lot)."""
    found = _CACHE.get(text)
    if found is not None:
        return found
    value = _micro(text)
    if isinstance(text, str):
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[text] = value
    return value


def _micro(text: Any) -> int:
    s = text if isinstance(text, str) else str(text)
    whole, _, frac = s.partition(".")
    if len(frac) > 6 or not (whole.isdigit() or whole == "") or (frac and not frac.isdigit()):
        value = Decimal(s) * _MICRO
        if value != value.to_integral_value() or value < 0:
            raise BadRecording(f"amount {s!r} is not a non-negative number of micro-units")
        return int(value)
    return int(whole or "0") * SCALE + (int(frac.ljust(6, "0")) if frac else 0)


def from_micro(value: int) -> Decimal:
    """Micro-units back to an exact Decimal, normalised (no trailing zeros)."""
    return (Decimal(value) / _MICRO).normalize() if value % SCALE else Decimal(value // SCALE)
