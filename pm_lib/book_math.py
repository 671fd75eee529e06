"""Exact order-book arithmetic: best prices, VWAP walks, depth, taker fees, ticks, precision.

Everything here is a pure function of ``Decimal`` inputs; nothing rounds through ``float``.
Books are ``pm_lib.models.OrderBook`` (bids and asks each *best first*, sorted by the parser).

Venue rules written down here, with where they come from:

- **Taker fee** (docs/VENUE.md 4.4; docs.polymarket.com/trading/fees):
  ``fee = shares * rate * (p * (1 - p)) ** exponent`` in pUSD, rounded to 5 decimals, "anything
  under 0.00001 rounds to 0". We round *down* (``ROUND_DOWN``): rounding half-up would turn
  0.000006 into 0.00001, which the "under 0.00001 rounds to 0" rule rules out, and
  NautilusTrader's Polymarket adapter (``compute_commission``) floors to 5 decimals "matching
  the venue charge". The venue charges per match (per maker order); we charge per *level* of a
  walk. floor(a) + floor(b) <= floor(a + b), so where a level holds several maker orders the
  venue's total is at most ours: our estimate never understates the fee.
- **Tick**: a valid price is on the tick grid and ``tick <= price <= 1 - tick`` (docs/VENUE.md 4.3;
  ``py_clob_client_v2`` ``create_order`` checks the same).
- **Amount precision** per tick size: ``py_clob_client_v2/order_builder/builder.py``
  ``ROUNDING_CONFIG`` (price, size, amount decimals), e.g. tick 0.01 -> (2, 2, 4), tick 0.001 ->
  (3, 2, 5). Sizes are shares to 2 decimals; pUSD has 6 decimals on chain (amounts are signed as
  integers x 1e6). For a limit (GTC/GTD) order the amount ``size * price`` is exact within the
  amount decimals whenever the size has 2 decimals and the price is on tick.
  Marketable-only orders (FOK/FAK) are stricter on the venue: a BUY's maker amount (pUSD,
  ``size * price``) may have at most 2 decimals and its taker amount (shares) 4; a SELL's maker
  amount (shares) 2 and its taker amount (pUSD) 4. Error text: "invalid amounts, the market buy
  orders maker amount supports a max accuracy of 2 decimals, taker amount a max of 4 decimals"
  (py-clob-client#121: a FOK BUY of 1.74 @ 0.58 = 1.0092 pUSD was refused, GTC accepted;
  py-clob-client-v2#99).
- **$1 minimum** for marketable orders (FOK/FAK; the live text "invalid amount for a marketable
  BUY order ($0.5), min size: $1", nautilus_trader#3874): on what the order executes along the
  book (``marketable_spend``), which is below ``size x limit`` when the walk averages under the
  limit. Checked before signing by the risk gate (every leg of a basket, so no leg is sent when
  one would be refused) and by the strategies' sizing.
- **SDK rounding**: the unified SDK (``polymarket-client``) takes Decimal price and size and
  floors sizes to 2 decimals in Decimal, so 4.35 is signed as 4.35. (The deprecated
  ``py-clob-client-v2`` floored through ``float``: 4.35 was signed as 4.34; the strategies size
  in whole shares since then.) The adapter checks the signed amounts against these to the
  micro-unit before posting anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext
from typing import Literal

from pm_lib.models import ONE, ZERO, FeeSchedule, Level, OrderBook, OrderType, Side

__all__ = [
    "COLLATERAL_DECIMALS",
    "FEE_QUANTUM",
    "MARKETABLE_AMOUNT_DECIMALS",
    "ROUNDING_CONFIG",
    "SIZE_DECIMALS",
    "VWAP_QUANTUM",
    "RoundingConfig",
    "Walk",
    "best_ask",
    "best_bid",
    "decimal_places",
    "depth_to_limit",
    "fee_per_share",
    "is_on_tick",
    "is_valid_price",
    "marketable_buy_limit",
    "marketable_spend",
    "order_amounts",
    "precision_problem",
    "round_size",
    "round_to_tick",
    "shares_for_notional",
    "taker_fee",
    "to_micro_units",
    "vwap_buy",
    "vwap_sell",
    "walk_buy",
    "walk_sell",
]

FEE_QUANTUM = Decimal("0.00001")
"""Fees are charged to 5 decimals (docs/VENUE.md 4.4)."""
VWAP_QUANTUM = Decimal("0.00000001")
"""VWAPs are reported to 8 decimals (half-even); costs stay exact, so nothing sums VWAPs."""
SIZE_DECIMALS = 2
"""Shares are signed to 2 decimals (``ROUNDING_CONFIG[*].size``)."""
COLLATERAL_DECIMALS = 6
"""pUSD is an ERC-20 with 6 decimals; signed amounts are integers x 1e6."""
MARKETABLE_AMOUNT_DECIMALS = (2, 4)
"""FOK/FAK: (maker, taker) amount decimals the venue accepts (see module docstring)."""

_SIZE_QUANTUM = Decimal(1).scaleb(-SIZE_DECIMALS)
# Enough digits for shares x rate x (p(1-p))**exponent to be exact before the 5-decimal floor
# (a 4-decimal price squared alone has 16 decimals); the default context keeps only 28.
_FEE_PRECISION = 60
_MICRO = Decimal(1).scaleb(COLLATERAL_DECIMALS)

TickRounding = Literal["down", "up", "nearest"]
_TICK_MODES: dict[str, str] = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_EVEN}


@dataclass(frozen=True, slots=True)
class RoundingConfig:
    """Decimal places the V2 SDK signs for one tick size: price, size (shares), amount (pUSD)."""

    price: int
    size: int
    amount: int


ROUNDING_CONFIG: dict[Decimal, RoundingConfig] = {
    Decimal("0.1"): RoundingConfig(price=1, size=2, amount=3),
    Decimal("0.01"): RoundingConfig(price=2, size=2, amount=4),
    Decimal("0.005"): RoundingConfig(price=3, size=2, amount=5),
    Decimal("0.0025"): RoundingConfig(price=4, size=2, amount=6),
    Decimal("0.001"): RoundingConfig(price=3, size=2, amount=5),
    Decimal("0.0001"): RoundingConfig(price=4, size=2, amount=6),
}
"""Copied in figures from ``py_clob_client_v2.order_builder.builder.ROUNDING_CONFIG`` (1.2.1)."""


@dataclass(frozen=True, slots=True)
class Walk:
    """The result of taking liquidity level by level, best price first.

    ``fills`` are the (price, size) taken at each level. ``cost`` is the exact sum of
    price x size (fees excluded); ``fee`` the sum of per-level taker fees. A walk is *partial*
    when the book ran out first: then ``filled < requested`` and ``complete`` is False.
    """

    side: Side
    requested: Decimal
    filled: Decimal
    cost: Decimal
    fee: Decimal
    worst_price: Decimal | None
    fills: tuple[tuple[Decimal, Decimal], ...]

    @property
    def complete(self) -> bool:
        """True when the whole requested size was available."""
        return self.filled >= self.requested

    @property
    def shortfall(self) -> Decimal:
        """Shares requested but not available in the book."""
        return self.requested - self.filled

    @property
    def vwap(self) -> Decimal | None:
        """Volume-weighted average price (8 decimals), or None when nothing filled."""
        if self.filled <= ZERO:
            return None
        return (self.cost / self.filled).quantize(VWAP_QUANTUM, rounding=ROUND_HALF_EVEN)

    @property
    def cost_with_fee(self) -> Decimal:
        """What a BUY pays in total (cost + fee)."""
        return self.cost + self.fee

    @property
    def proceeds_after_fee(self) -> Decimal:
        """What a SELL receives net of the taker fee (cost - fee)."""
        return self.cost - self.fee


def best_bid(book: OrderBook) -> Decimal | None:
    """The highest bid, or None on an empty bid side."""
    return book.bids[0].price if book.bids else None


def best_ask(book: OrderBook) -> Decimal | None:
    """The lowest ask, or None on an empty ask side."""
    return book.asks[0].price if book.asks else None


def fee_per_share(price: Decimal, fees: FeeSchedule | None) -> Decimal:
    """Unrounded taker fee for one share at ``price``: ``rate * (p * (1 - p)) ** exponent``."""
    if fees is None or fees.rate == ZERO:
        return ZERO
    with localcontext() as exact:
        exact.prec = _FEE_PRECISION
        return fees.rate * (price * (ONE - price)) ** fees.exponent


def taker_fee(shares: Decimal, price: Decimal, fees: FeeSchedule | None) -> Decimal:
    """The venue's taker fee in pUSD for one match, floored to 5 decimals (module docstring).

    ``shares * rate * (p * (1 - p)) ** exponent``; under 0.00001 it is 0. No fee schedule or a
    zero rate means no fee.
    """
    if fees is None or fees.rate == ZERO or shares <= ZERO:
        return ZERO
    with localcontext() as exact:
        exact.prec = _FEE_PRECISION
        return (shares * fee_per_share(price, fees)).quantize(FEE_QUANTUM, rounding=ROUND_DOWN)


def _levels(book_or_levels: OrderBook | Sequence[Level], side: Side) -> Sequence[Level]:
    if isinstance(book_or_levels, OrderBook):
        return book_or_levels.asks if side is Side.BUY else book_or_levels.bids
    return book_or_levels


def _walk(levels: Sequence[Level], side: Side, size: Decimal, fees: FeeSchedule | None) -> Walk:
    remaining = size
    cost = ZERO
    fee = ZERO
    worst: Decimal | None = None
    fills: list[tuple[Decimal, Decimal]] = []
    for level in levels:
        if remaining <= ZERO:
            break
        if level.size <= ZERO:
            continue
        take = level.size if level.size < remaining else remaining
        cost += level.price * take
        fee += taker_fee(take, level.price, fees)
        worst = level.price
        fills.append((level.price, take))
        remaining -= take
    filled = size - remaining if remaining > ZERO else size
    return Walk(side, size, filled, cost, fee, worst, tuple(fills))


def walk_buy(
    book_or_asks: OrderBook | Sequence[Level], size: Decimal, fees: FeeSchedule | None = None
) -> Walk:
    """Buy ``size`` shares from the asks (best first); the walk may be partial (see ``Walk``)."""
    return _walk(_levels(book_or_asks, Side.BUY), Side.BUY, size, fees)


def walk_sell(
    book_or_bids: OrderBook | Sequence[Level], size: Decimal, fees: FeeSchedule | None = None
) -> Walk:
    """Sell ``size`` shares into the bids (best first); the walk may be partial."""
    return _walk(_levels(book_or_bids, Side.SELL), Side.SELL, size, fees)


def vwap_buy(
    book_or_asks: OrderBook | Sequence[Level], size: Decimal, fees: FeeSchedule | None = None
) -> Walk | None:
    """The walk for buying exactly ``size`` shares, or None when the asks are too thin.

    Use ``walk_buy`` to see how much a thin book *would* fill.
    """
    walk = walk_buy(book_or_asks, size, fees)
    return walk if walk.complete else None


def vwap_sell(
    book_or_bids: OrderBook | Sequence[Level], size: Decimal, fees: FeeSchedule | None = None
) -> Walk | None:
    """The walk for selling exactly ``size`` shares, or None when the bids are too thin."""
    walk = walk_sell(book_or_bids, size, fees)
    return walk if walk.complete else None


def shares_for_notional(
    book_or_asks: OrderBook | Sequence[Level], usd: Decimal, fees: FeeSchedule | None = None
) -> Walk:
    """Spend at most ``usd`` pUSD (fees excluded) on the asks; the walk says what it buys.

    Within the last level the size is floored to 2 decimals, so ``walk.cost <= usd``. If the
    book runs out first the walk holds all the depth and ``walk.cost < usd``. ``requested`` is
    set to the shares bought, so the walk reads as complete.
    """
    budget = usd
    cost = ZERO
    fee = ZERO
    worst: Decimal | None = None
    fills: list[tuple[Decimal, Decimal]] = []
    for level in _levels(book_or_asks, Side.BUY):
        if budget <= ZERO:
            break
        if level.size <= ZERO or level.price <= ZERO:
            continue
        level_cost = level.price * level.size
        take = (
            level.size
            if level_cost <= budget
            else (budget / level.price).quantize(_SIZE_QUANTUM, rounding=ROUND_DOWN)
        )
        if take <= ZERO:
            break
        cost += level.price * take
        fee += taker_fee(take, level.price, fees)
        budget -= level.price * take
        worst = level.price
        fills.append((level.price, take))
    filled = sum((s for _, s in fills), ZERO)
    return Walk(Side.BUY, filled, filled, cost, fee, worst, tuple(fills))


def depth_to_limit(levels: Sequence[Level], side: Side, limit_price: Decimal) -> Decimal:
    """Shares available at ``limit_price`` or better for an order on ``side``.

    A BUY takes asks priced at most the limit; a SELL takes bids priced at least the limit.
    ``levels`` must be the side the order takes (asks for a BUY, bids for a SELL), best first.
    """
    total = ZERO
    for level in levels:
        if (side is Side.BUY and level.price > limit_price) or (
            side is Side.SELL and level.price < limit_price
        ):
            break
        total += level.size
    return total


def marketable_spend(
    book_or_levels: OrderBook | Sequence[Level], side: Side, size: Decimal, limit_price: Decimal
) -> Decimal:
    """What the part of an order that executes on arrival is worth, in pUSD (before fees).

    The order takes the opposite side's levels priced at ``limit_price`` or better, best first,
    up to ``size`` shares: a BUY spends that much, a SELL receives it. The venue's $1 minimum
    for marketable orders applies to this executed notional, not to ``size x limit``
    (``pm_lib.sim.order_rules.check_marketable_notional``; an order that executes nothing is
    not marketable). A FOK that cannot fill whole is killed by its own rule.
    """
    levels = _levels(book_or_levels, side)
    usable = depth_to_limit(levels, side, limit_price)
    return _walk(levels, side, min(size, usable), None).cost


def round_to_tick(price: Decimal, tick: Decimal, mode: TickRounding) -> Decimal:
    """``price`` moved onto the tick grid: "down" (floor), "up" (ceiling) or "nearest".

    "nearest" is half-even, like the SDK's ``round_normal`` (Python ``round``). For a BUY limit
    "down" is the conservative direction, for a SELL limit "up".
    """
    steps = (price / tick).to_integral_value(rounding=_TICK_MODES[mode])
    return (steps * tick).quantize(tick)


def is_on_tick(price: Decimal, tick: Decimal) -> bool:
    """True when ``price`` is a whole number of ticks."""
    return tick > ZERO and price % tick == ZERO


def is_valid_price(price: Decimal, tick: Decimal) -> bool:
    """True when the venue accepts ``price`` at ``tick``: on tick and ``tick <= p <= 1 - tick``."""
    return is_on_tick(price, tick) and tick <= price <= ONE - tick


def decimal_places(value: Decimal) -> int:
    """Significant decimal places of ``value`` (``Decimal("1.50")`` has 1, ``Decimal(100)`` 0)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def round_size(size: Decimal) -> Decimal:
    """``size`` floored to the 2 share decimals the venue signs (never rounds a size up)."""
    return size.quantize(_SIZE_QUANTUM, rounding=ROUND_DOWN)


def to_micro_units(amount: Decimal) -> int:
    """pUSD or shares as the on-chain integer (x 1e6); refuses values finer than 6 decimals."""
    micro = amount * _MICRO
    if micro != micro.to_integral_value():
        raise ValueError(f"{amount} has more than {COLLATERAL_DECIMALS} decimals")
    return int(micro)


def order_amounts(side: Side, size: Decimal, price: Decimal) -> tuple[Decimal, Decimal]:
    """(maker amount, taker amount) of a limit order, exact: a BUY gives ``size * price`` pUSD
    and takes ``size`` shares; a SELL gives ``size`` shares and takes ``size * price`` pUSD."""
    notional = size * price
    return (notional, size) if side is Side.BUY else (size, notional)


def precision_problem(
    side: Side, size: Decimal, price: Decimal, tick: Decimal, order_type: OrderType
) -> str | None:
    """Why the venue would refuse these size/price decimals, or None when they are fine.

    Rules (module docstring): the tick must be one the SDK knows; size to 2 decimals; price to
    the tick's price decimals; limit orders' amount within the tick's amount decimals;
    FOK/FAK maker amount to 2 and taker amount to 4 decimals.
    """
    config = ROUNDING_CONFIG.get(tick)
    if config is None:
        return f"tick size {tick} is not one the SDK signs ({', '.join(map(str, ROUNDING_CONFIG))})"
    if decimal_places(size) > config.size:
        return f"size {size} has more than {config.size} decimals"
    if decimal_places(price) > config.price:
        return f"price {price} has more than {config.price} decimals at tick {tick}"
    maker, taker = order_amounts(side, size, price)
    if order_type.is_marketable_only:
        max_maker, max_taker = MARKETABLE_AMOUNT_DECIMALS
        if decimal_places(maker) > max_maker:
            return f"{order_type} {side} maker amount {maker} has more than {max_maker} decimals"
        if decimal_places(taker) > max_taker:
            return f"{order_type} {side} taker amount {taker} has more than {max_taker} decimals"
        return None
    amount = maker if side is Side.BUY else taker
    if decimal_places(amount) > config.amount:
        return f"amount {amount} has more than {config.amount} decimals at tick {tick}"
    return None


def marketable_buy_limit(size: Decimal, worst_price: Decimal, tick: Decimal) -> Decimal | None:
    """The lowest limit price at or above ``worst_price`` at which a FOK/FAK BUY of ``size``
    has a 2-decimal maker amount (``size * price``), or None if none exists up to ``1 - tick``.

    A limit above the worst level walked does not change the fill on an unchanged book; it only
    lets the order absorb a small move. For whole-share sizes the answer is never more than one
    cent above ``worst_price`` (every 0.01 price works), see the module docstring.
    """
    price = round_to_tick(worst_price, tick, "up")
    ceiling = ONE - tick
    max_maker = MARKETABLE_AMOUNT_DECIMALS[0]
    while price <= ceiling:
        if decimal_places(size * price) <= max_maker:
            return price
        price += tick
    return None
