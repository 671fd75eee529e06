"""Background liquidity below the top of book: the levels "other traders" rest, per generation.

Shapes follow the recorded books (PROFILE.md section D and the two full live /book samples):
3-12 levels a side stepping away from the touch by one to a few ticks, touch sizes lognormal
around the market's depth scale, deeper levels larger, and often a large stub at the extreme
prices (0.001 / 0.999 in the live captures). Sizes have at most 2 decimals, as on the CLOB.

``pm_lib.sim.depth_ticks`` makes the same draws in integers for the cold read path: change
both together (``tests/sim_data/test_book_fast_path.py`` compares them).
"""

from __future__ import annotations

import math
import random
from collections import deque
from decimal import Decimal

from pm_lib.sim.quotes import Quote
from pm_lib.sim.state import RestingOrder, SimMarket
from pm_lib.sim.universe_profile import draw_touch_size

__all__ = ["background_levels", "background_orders"]

ONE = Decimal(1)
_FLOOR_TRUE_ARB = Decimal(25)


def _size(x: float) -> Decimal:
    """Shares with at most 2 decimals (whole cents of a share), at least 1."""
    return Decimal(max(round(x * 100), 100)).scaleb(-2)


def _side_levels(
    rng: random.Random,
    best: Decimal,
    step: Decimal,
    limit: Decimal,
    depth: float,
    touch: Decimal | None,
    first_gap: int,
) -> list[tuple[Decimal, Decimal]]:
    """(price, size) levels from ``best`` moving away by ``step`` (negative for bids)."""
    levels: list[tuple[Decimal, Decimal]] = []
    price = best
    size = touch if touch is not None else _size(draw_touch_size(rng, depth))
    count = rng.randint(3, 12)
    for n in range(count):
        if (step < 0 and price < limit) or (step > 0 and price > limit):
            break
        levels.append((price, size))
        gap = (
            first_gap if n == 0 and first_gap else (1 if rng.random() < 0.6 else rng.randint(2, 5))
        )
        price += step * gap
        size = _size(draw_touch_size(rng, depth) * math.exp(rng.uniform(0.0, 1.5)))
    short_of_limit = levels and (levels[-1][0] - limit) * step < 0
    if rng.random() < 0.6 and short_of_limit:
        levels.append((limit, _size(math.exp(rng.uniform(8, 14)))))
    return levels


def background_levels(
    market: SimMarket, quote: Quote, depth: float, rng: random.Random
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """(YES bids, YES asks), best first, for ``quote``."""
    tick = market.tick_size
    bids: list[tuple[Decimal, Decimal]] = []
    asks: list[tuple[Decimal, Decimal]] = []
    if quote.bid is not None:
        bids = _side_levels(rng, quote.bid, -tick, tick, depth, None, 0)
    if quote.ask is not None:
        touch = quote.thin_ask
        if touch is None and quote.dip == "arbitrage":
            touch = max(_size(draw_touch_size(rng, depth)), _FLOOR_TRUE_ARB)
        asks = _side_levels(rng, quote.ask, tick, ONE - tick, depth, touch, quote.ask_gap_ticks)
    return bids, asks


def background_orders(
    market: SimMarket,
    levels: tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]],
    tag: str,
    created_at: float,
) -> tuple[dict[Decimal, deque[RestingOrder]], dict[Decimal, deque[RestingOrder]]]:
    """Resting orders (``owner=None``) for the levels, one order per level."""
    yes_token = market.yes_token
    out: tuple[dict[Decimal, deque[RestingOrder]], dict[Decimal, deque[RestingOrder]]] = ({}, {})
    for book, side, side_levels in ((out[0], "BUY", levels[0]), (out[1], "SELL", levels[1])):
        for n, (price, size) in enumerate(side_levels):
            order = RestingOrder(
                order_id=f"bg-{tag}-{side[0]}{n}",
                yes_side=side,
                yes_price=price,
                remaining=size,
                owner=None,
                token_id=yes_token,
                side=side,
                price=price,
                created_at=created_at,
            )
            book[price] = deque((order,))
    return out
