"""Price-time matching on the mirrored YES ladder (``pm_lib.sim.state.Ladder``).

A taker order is first *planned* against the ladder without touching it (so FOK, balance and
fee checks can refuse it whole), then the plan is *applied*. Plans walk the opposite YES side
best price first and, within a price, oldest order first; background liquidity
(``owner is None``) and users' resting orders are consumed alike. A BUY NO at q arrives here as
a SELL YES at 1-q (``state.yes_terms``), which is how the venue mints and merges pairs.

The taker pays or receives each maker's own price (price improvement goes to the taker); the
exchange charges the taker fee per fill with ``pm_lib.book_math.taker_fee``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from pm_lib.sim.state import Ladder, RestingOrder

__all__ = [
    "PlannedFill",
    "apply_fills",
    "crosses",
    "plan_match",
    "remove_resting",
]


@dataclass(frozen=True)
class PlannedFill:
    """``size`` shares of resting ``maker`` at the maker's YES price."""

    maker: RestingOrder
    size: Decimal
    yes_price: Decimal


def _acceptable(yes_side: str, yes_limit: Decimal, level: Decimal) -> bool:
    """Whether a taker on ``yes_side`` with ``yes_limit`` trades at resting ``level``."""
    return level <= yes_limit if yes_side == "BUY" else level >= yes_limit


def _opposite_prices(ladder: Ladder, yes_side: str) -> list[Decimal]:
    """Opposite-side price levels, best first for a taker on ``yes_side``."""
    if yes_side == "BUY":
        return sorted(ladder.asks)
    return sorted(ladder.bids, reverse=True)


def crosses(ladder: Ladder, yes_side: str, yes_limit: Decimal) -> bool:
    """Whether an order on ``yes_side`` at ``yes_limit`` would trade on arrival."""
    book = ladder.side("SELL" if yes_side == "BUY" else "BUY")
    for price in _opposite_prices(ladder, yes_side):
        if not _acceptable(yes_side, yes_limit, price):
            return False
        if any(o.remaining > 0 for o in book[price]):
            return True
    return False


def plan_match(
    ladder: Ladder, yes_side: str, yes_limit: Decimal, size: Decimal
) -> list[PlannedFill]:
    """The fills a taker for ``size`` shares would get now, in execution order."""
    book = ladder.side("SELL" if yes_side == "BUY" else "BUY")
    fills: list[PlannedFill] = []
    left = size
    for price in _opposite_prices(ladder, yes_side):
        if left <= 0 or not _acceptable(yes_side, yes_limit, price):
            break
        for maker in book[price]:
            if left <= 0:
                break
            if maker.remaining <= 0:
                continue
            take = min(left, maker.remaining)
            fills.append(PlannedFill(maker=maker, size=take, yes_price=price))
            left -= take
    return fills


def _drop_filled(ladder: Ladder, yes_side: str, price: Decimal) -> None:
    book = ladder.side(yes_side)
    queue = book.get(price)
    if queue is None:
        return
    while queue and queue[0].remaining <= 0:
        queue.popleft()
    if any(o.remaining <= 0 for o in queue):
        kept = [o for o in queue if o.remaining > 0]
        queue.clear()
        queue.extend(kept)
    if not queue:
        del book[price]


def apply_fills(ladder: Ladder, fills: list[PlannedFill]) -> None:
    """Consume the planned fills from the ladder (hold the venue lock)."""
    touched: set[tuple[str, Decimal]] = set()
    for fill in fills:
        fill.maker.remaining -= fill.size
        touched.add((fill.maker.yes_side, fill.yes_price))
    for yes_side, price in touched:
        _drop_filled(ladder, yes_side, price)
    if fills:
        ladder.last_trade_price = fills[-1].yes_price
        ladder.version += 1


def remove_resting(ladder: Ladder, order: RestingOrder) -> bool:
    """Take ``order`` off the ladder (a cancel); False when it is no longer there."""
    book = ladder.side(order.yes_side)
    queue = book.get(order.yes_price)
    if queue is None or not any(o is order for o in queue):
        return False
    kept = [o for o in queue if o is not order]
    queue.clear()
    queue.extend(kept)
    if not queue:
        del book[order.yes_price]
    ladder.version += 1
    return True
