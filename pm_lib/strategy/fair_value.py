"""Fair value: trade against user-supplied probabilities, sized by a capped Kelly stake.

- **Buy** a token when its asks, net of the taker fee, are at most ``fair - fair_value_edge``.
  The stake is ``kelly_fraction`` of the Kelly stake for a binary contract bought at price ``L``:
  ``f* = (p - L) / (1 - L)`` of the bankroll (``portfolio.cash``), with ``L`` the worst price
  we would pay (Kelly shrinks as the price rises, so this is the conservative end). Shares are
  then capped by the depth at qualifying prices and by ``max_order_notional``, in whole shares.
- **Sell** a held position when its bids, net of the fee, are at least ``fair + fair_value_edge``;
  the size is capped by the position, the depth and ``max_order_notional`` at the lowest
  qualifying bid, which is also the sell's limit.

Legs are **GTC** limit orders (a buy at the worst price walked, a sell at the lowest qualifying
bid). Every share filled at that limit or better still clears the required edge, so if the book
moved and part of the order rests, it rests at a price we still want; GTC also avoids the FOK
rule that a BUY's pUSD amount have at most 2 decimals. Resting orders count against
``max_open_orders`` in the risk gate.

Money columns hold 6 decimals, so the expected value ``size x fair`` of a buy is floored to 6
decimals and the value given up by a sell is raised to 6: the reported edge stays exact and never
flatters. For a SELL, ``cost`` is the fair value of the shares given up and ``payout`` the pUSD
received, so ``edge = payout - cost - fees`` holds for both sides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import ClassVar

from pm_lib.book_math import fee_per_share, round_size, walk_buy, walk_sell
from pm_lib.models import (
    ONE,
    ZERO,
    Catalogue,
    FeeSchedule,
    Leg,
    Level,
    Market,
    Opportunity,
    OrderBook,
    OrderType,
    PortfolioState,
    Side,
    SkippedItem,
)
from pm_lib.strategy.base import (
    StrategyParams,
    StrategyResult,
    book_problem,
    filled_vwap,
    market_problem,
    money,
    opportunity_id,
)
from pm_lib.strategy.fair_values import token_fair_values

__all__ = ["FairValue"]

_MONEY = Decimal("0.000001")


def _qualifying(
    levels: Sequence[Level], fees: FeeSchedule, side: Side, bound: Decimal
) -> tuple[Decimal, Decimal] | None:
    """(worst qualifying price, depth) of the best-first prefix whose net price clears ``bound``.

    Net price is ``p + fee(p)`` for a buy (at most ``bound``), ``p - fee(p)`` for a sell (at
    least ``bound``); both are monotone in ``p``, so the qualifying levels are a prefix.
    """
    worst: Decimal | None = None
    depth = ZERO
    for level in levels:
        fee = fee_per_share(level.price, fees)
        net = level.price + fee if side is Side.BUY else level.price - fee
        if (side is Side.BUY and net > bound) or (side is Side.SELL and net < bound):
            break
        worst = level.price
        depth += level.size
    return None if worst is None else (worst, depth)


@dataclass(frozen=True, slots=True)
class FairValue:
    """Buy below ``fair - edge`` and sell holdings above ``fair + edge``."""

    params: StrategyParams
    fair_values: Mapping[str, Decimal] = field(default_factory=dict)
    name: ClassVar[str] = "fair_value"

    def find(
        self,
        catalogue: Catalogue,
        books: Mapping[str, OrderBook],
        portfolio: PortfolioState,
        now: datetime,
    ) -> StrategyResult:
        """Check every token with a fair value; positions come from ``portfolio``."""
        if not self.fair_values:
            return StrategyResult()
        by_token = catalogue.market_by_token()
        found: list[Opportunity] = []
        skipped: list[SkippedItem] = []
        for token_id, fair in token_fair_values(catalogue, self.fair_values).items():
            market = by_token[token_id]
            book = books.get(token_id)
            problem = market_problem(market) or book_problem(
                book, token_id, now, self.params.max_book_age
            )
            outcomes: list[Opportunity | str | None] = []
            if problem is None and book is not None:
                outcomes = [
                    self._buy(market, book, fair, portfolio.cash, now),
                    self._sell(market, book, fair, portfolio, now),
                ]
            else:
                outcomes = [problem]
            for outcome in outcomes:
                if isinstance(outcome, str):
                    skipped.append(
                        SkippedItem(kind="token", ident=token_id, reason=f"{self.name}: {outcome}")
                    )
                elif outcome is not None:
                    found.append(outcome)
        return StrategyResult(tuple(found), tuple(skipped))

    def _buy(
        self, market: Market, book: OrderBook, fair: Decimal, cash: Decimal, now: datetime
    ) -> Opportunity | str | None:
        edge_required = self.params.fair_value_edge
        qualifying = _qualifying(book.asks, market.fees, Side.BUY, fair - edge_required)
        if qualifying is None:
            return None
        worst, depth = qualifying
        if not ZERO < worst < ONE:
            return f"ask price {worst} is outside (0, 1)"
        if cash <= ZERO:
            return f"asks at {worst} clear fair {fair} - {edge_required} but cash is {cash}"
        kelly = (fair - worst) / (ONE - worst)
        stake = self.params.kelly_fraction * kelly * cash
        caps = {
            "Kelly": stake / worst,
            "depth": depth,
            "max order notional": self.params.max_order_notional / worst,
        }
        binding = min(caps, key=lambda k: caps[k])
        size = caps[binding].to_integral_value(rounding=ROUND_FLOOR)
        min_size = max(market.min_order_size, book.min_order_size)
        if size < min_size:
            return f"buy size {size} ({binding} cap) is below the minimum order size {min_size}"
        walk = walk_buy(book.asks, size, market.fees)
        limit = walk.worst_price if walk.worst_price is not None else worst
        if size * limit < self.params.min_marketable_notional:
            return f"buy notional {size * limit} is below the $1 marketable minimum"
        payout = (size * fair).quantize(_MONEY, rounding=ROUND_DOWN)
        leg = self._leg(market, book, Side.BUY, size, limit, filled_vwap(walk), walk.fee)
        reason = (
            f"buy {size} @ VWAP {money(leg.expected_vwap)} (GTC limit {limit}) vs fair {fair} - "
            f"edge {edge_required}: Kelly f*={money(kelly)} x {self.params.kelly_fraction} x cash "
            f"{money(cash, 2)} = stake {money(stake, 2)}; size capped by {binding}; cost "
            f"{money(walk.cost)} + fees {money(walk.fee, 5)} vs value {money(payout)}; net edge "
            f"{money(payout - walk.cost - walk.fee, 5)}"
        )
        return self._opportunity(market, book, fair, leg, walk.cost, walk.fee, payout, reason, now)

    def _sell(
        self,
        market: Market,
        book: OrderBook,
        fair: Decimal,
        portfolio: PortfolioState,
        now: datetime,
    ) -> Opportunity | str | None:
        position = portfolio.positions.get(book.token_id)
        if position is None or position.size <= ZERO:
            return None
        edge_required = self.params.fair_value_edge
        qualifying = _qualifying(book.bids, market.fees, Side.SELL, fair + edge_required)
        if qualifying is None:
            return None
        worst, depth = qualifying
        if not ZERO < worst < ONE:
            return f"bid price {worst} is outside (0, 1)"
        size = round_size(min(position.size, depth, self.params.max_order_notional / worst))
        min_size = max(market.min_order_size, book.min_order_size)
        if size < min_size:
            return f"sell size {size} is below the minimum order size {min_size}"
        walk = walk_sell(book.bids, size, market.fees)
        # The limit stays at the lowest qualifying bid: still a price we want, and the one the
        # notional cap was computed at (a smaller walk may end higher, which would break it).
        limit = worst
        given_up = (size * fair).quantize(_MONEY, rounding=ROUND_CEILING)
        leg = self._leg(market, book, Side.SELL, size, limit, filled_vwap(walk), walk.fee)
        reason = (
            f"sell {size} of {position.size} held @ VWAP {money(leg.expected_vwap)} (GTC limit "
            f"{limit}) vs fair {fair} + edge {edge_required}: proceeds {money(walk.cost)} - fees "
            f"{money(walk.fee, 5)} vs value given up {money(given_up)}; net edge "
            f"{money(walk.cost - given_up - walk.fee, 5)}"
        )
        return self._opportunity(
            market, book, fair, leg, given_up, walk.fee, walk.cost, reason, now
        )

    @staticmethod
    def _leg(
        market: Market,
        book: OrderBook,
        side: Side,
        size: Decimal,
        limit: Decimal,
        vwap: Decimal,
        fee: Decimal,
    ) -> Leg:
        return Leg(
            token_id=book.token_id,
            condition_id=market.condition_id,
            side=side,
            size=size,
            limit_price=limit,
            expected_vwap=vwap,
            expected_fee=fee,
            order_type=OrderType.GTC,
        )

    def _opportunity(
        self,
        market: Market,
        book: OrderBook,
        fair: Decimal,
        leg: Leg,
        cost: Decimal,
        fees: Decimal,
        payout: Decimal,
        reason: str,
        now: datetime,
    ) -> Opportunity:
        return Opportunity(
            id=opportunity_id(self.name, market.condition_id, (leg,), (book,), f"fair={fair}"),
            strategy=self.name,
            market=market.condition_id,
            legs=(leg,),
            edge=payout - cost - fees,
            cost=cost,
            fees=fees,
            payout=payout,
            reason=reason,
            created_at=now,
        )
