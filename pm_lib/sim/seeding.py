"""Deterministic randomness keyed by integers: the same (seed, market, epoch) always draws the same.

Python's ``hash`` of strings changes between processes, so keys are integers mixed with
SplitMix64. ``stream`` gives a full ``random.Random`` for a key (about 6 µs to seed); ``unit``
and ``normal`` are cheap single draws for the per-epoch noise of thousands of books.
"""

from __future__ import annotations

import math
import random

__all__ = ["mix", "normal", "stream", "unit"]

_MASK = (1 << 64) - 1


def _splitmix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def mix(*parts: int) -> int:
    """A 64-bit key from integer parts (order matters)."""
    h = 0x243F6A8885A308D3
    for p in parts:
        h = _splitmix(h ^ (p & _MASK))
    return h


def unit(*parts: int) -> float:
    """A uniform draw in [0, 1) for the key."""
    return (mix(*parts) >> 11) * (1.0 / (1 << 53))


def normal(*parts: int) -> float:
    """A standard normal draw for the key (Box-Muller on two keyed uniforms)."""
    u1 = unit(*parts, 1) or 1e-12
    u2 = unit(*parts, 2)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def stream(*parts: int) -> random.Random:
    """A ``random.Random`` seeded by the key."""
    return random.Random(mix(*parts))
