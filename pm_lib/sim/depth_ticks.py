"""The background depth of ``pm_lib.sim.depth`` in integers: prices in ticks, sizes in cents.

The read-only book scan serves tens of thousands of untouched books per second, each derived
once per epoch, so this module makes the same draws as ``depth.background_levels`` (same
generator, same calls, same order, same float arithmetic) without Decimal arithmetic and
without the pure-Python layers of ``random.Random``: ``randint`` is ``getrandbits`` with
rejection (``Random._randbelow_with_getrandbits``), ``gauss`` is the Box-Muller pair with the
spare value carried between calls (``Random.gauss``), ``uniform(a, b)`` is
``a + (b - a) * random()`` (as in CPython 3.11). ``tests/sim_data/test_book_fast_path.py``
pins the two implementations to the same levels over thousands of markets and epochs, so a
change to ``depth`` or to ``random`` that is not mirrored here fails there.

Prices are integers ``n`` meaning ``n * tick``; this needs a tick that divides 1 (every venue
tick does: 0.1, 0.01, 0.005, 0.0025, 0.001, 0.0001). ``tick_count`` is ``None`` otherwise and
callers use the Decimal path.
"""

from __future__ import annotations

import functools
import math
import random
from decimal import Decimal
from math import cos, exp, log, sin, sqrt

from pm_lib.sim.quotes import DipKind, Quote

__all__ = ["TickLevels", "background_ticks", "tick_count"]

TickLevels = list[tuple[int, int]]  # (price in ticks, size in cents of a share), best first

_ONE = Decimal(1)
_TWO_PI = 2.0 * math.pi
_FLOOR_TRUE_ARB_CENTS = 2500  # depth._FLOOR_TRUE_ARB, 25 shares
_TOUCH_SIGMA = 1.1  # universe_profile.draw_touch_size


@functools.lru_cache(maxsize=64)
def tick_count(tick: Decimal) -> int | None:
    """``1 / tick`` when it is a whole number of ticks (else ``None``)."""
    if tick <= 0:
        return None
    count = _ONE / tick
    return int(count) if count == count.to_integral_value() else None


def _cents(value: Decimal) -> int:
    """A size with at most two decimals (as ``depth._size`` and quantised touches) in cents."""
    return int(value.scaleb(2))


class _Draws:
    """The calls ``depth`` makes on its ``random.Random``, as bound C methods plus the spare
    normal of ``Random.gauss`` (the generator is private to one derivation)."""

    __slots__ = ("bits", "rand", "spare")

    def __init__(self, rng: random.Random) -> None:
        self.rand = rng.random
        self.bits = rng.getrandbits
        self.spare: float | None = rng.gauss_next  # type: ignore[attr-defined]

    def touch(self, depth: float) -> float:
        """``draw_touch_size(rng, depth)``: ``depth * exp(gauss(0, 1.1))``."""
        z = self.spare
        self.spare = None
        if z is None:
            x2pi = self.rand() * _TWO_PI
            g2rad = sqrt(-2.0 * log(1.0 - self.rand()))
            z = cos(x2pi) * g2rad
            self.spare = sin(x2pi) * g2rad
        return depth * exp(0.0 + z * _TOUCH_SIGMA)

    def below(self, n: int) -> int:
        """``randrange(n)`` (``Random._randbelow_with_getrandbits``)."""
        k = n.bit_length()
        r: int = self.bits(k)
        while r >= n:
            r = self.bits(k)
        return r


def _size_cents(x: float) -> int:
    """``depth._size`` in cents: whole cents of a share, at least one share."""
    return max(round(x * 100), 100)


def _side(
    draws: _Draws, best: int, step: int, limit: int, depth: float, touch: int | None, gap0: int
) -> TickLevels:
    """``depth._side_levels`` in ticks and cents (``step`` is -1 for bids, +1 for asks).

    The hot loop of a cold scan: ``draws.touch`` and ``_size_cents`` are inlined, with the
    spare normal kept in a local and handed back to ``draws`` at the end."""
    rand, bits, sigma = draws.rand, draws.bits, _TOUCH_SIGMA
    levels: TickLevels = []
    append = levels.append
    price = best
    size = touch if touch is not None else _size_cents(draws.touch(depth))
    spare = draws.spare
    count = 3 + draws.below(10)  # randint(3, 12)
    for n in range(count):
        if (price < limit) if step < 0 else (price > limit):
            break
        append((price, size))
        if n == 0 and gap0:
            price += step * gap0
        elif rand() < 0.6:
            price += step
        else:
            r = bits(3)  # randint(2, 5) is 2 + randrange(4): 3-bit draws below 4
            while r >= 4:
                r = bits(3)
            price += step * (2 + r)
        # size = _size(draw_touch_size(rng, depth) * exp(uniform(0.0, 1.5)))
        if spare is None:
            x2pi = rand() * _TWO_PI
            g2rad = sqrt(-2.0 * log(1.0 - rand()))
            z = cos(x2pi) * g2rad
            spare = sin(x2pi) * g2rad
        else:
            z, spare = spare, None
        # (Random.gauss and uniform add their 0.0 offsets: x + 0.0 == x for every non-zero
        # float, and exp(-0.0) == exp(0.0), so leaving them out changes no bit.)
        cents = round(depth * exp(z * sigma) * exp(1.5 * rand()) * 100)
        size = cents if cents > 100 else 100
    draws.spare = spare
    if rand() < 0.6 and levels and (levels[-1][0] - limit) * step < 0:
        append((limit, _size_cents(exp(8 + 6 * rand()))))
    return levels


def background_ticks(
    quote: Quote, count: int, tick: Decimal, depth: float, rng: random.Random
) -> tuple[TickLevels, TickLevels]:
    """(YES bids, YES asks), best first, in ticks and cents: ``depth.background_levels`` for
    a market whose tick divides 1 into ``count`` ticks."""
    draws = _Draws(rng)
    bids: TickLevels = []
    asks: TickLevels = []
    if quote.bid is not None:
        bids = _side(draws, int(quote.bid / tick), -1, 1, depth, None, 0)
    if quote.ask is not None:
        touch = _cents(quote.thin_ask) if quote.thin_ask is not None else None
        if touch is None and quote.dip == DipKind.ARBITRAGE:
            touch = max(_size_cents(draws.touch(depth)), _FLOOR_TRUE_ARB_CENTS)
        asks = _side(draws, int(quote.ask / tick), 1, count - 1, depth, touch, quote.ask_gap_ticks)
    return bids, asks
