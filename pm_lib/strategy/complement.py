"""Complement arbitrage: buy ``q`` YES and ``q`` NO of one binary market for less than ``q``.

One of the two tokens pays 1 pUSD at resolution, so the pair is worth exactly ``q``. The venue
cross-matches YES and NO (docs/VENUE.md 7), so on live books the two asks sum to 1 + spread and
this fires rarely: most markets are rejected on top of book, without walking a ladder. Prices
come from the books only, never from Gamma's ``outcomePrices`` (not executable).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pm_lib.models import (
    ONE,
    Catalogue,
    Leg,
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
from pm_lib.strategy.basket import BasketFill, BasketLeg, fill_basket

__all__ = ["ComplementArbitrage"]


@dataclass(frozen=True, slots=True)
class ComplementArbitrage:
    """Buy YES + NO when ``VWAP_yes + VWAP_no + fees per share < 1 - min_edge``."""

    params: StrategyParams
    name: ClassVar[str] = "complement_arbitrage"

    def find(
        self,
        catalogue: Catalogue,
        books: Mapping[str, OrderBook],
        portfolio: PortfolioState,
        now: datetime,
    ) -> StrategyResult:
        """Scan every binary market of the catalogue (``portfolio`` is not used)."""
        cutoff = now - self.params.max_book_age
        ceiling = ONE - self.params.min_edge
        found: list[Opportunity] = []
        skipped: list[SkippedItem] = []
        for market in catalogue.markets:
            if not market.is_binary:
                continue
            yes_id, no_id = market.outcomes[0].token_id, market.outcomes[1].token_id
            yes, no = books.get(yes_id), books.get(no_id)
            if yes is None or no is None or yes.timestamp < cutoff or no.timestamp < cutoff:
                problem = book_problem(yes, yes_id, now, self.params.max_book_age) or book_problem(
                    no, no_id, now, self.params.max_book_age
                )
                if problem:
                    skipped.append(self._skip(market, problem))
                continue
            if not yes.asks or not no.asks or yes.asks[0].price + no.asks[0].price >= ceiling:
                continue  # the common case: no edge on top of book, nothing to walk
            problem = market_problem(market)
            if problem:
                skipped.append(self._skip(market, problem))
                continue
            outcome = self._evaluate(market, yes, no, now)
            if isinstance(outcome, str):
                skipped.append(self._skip(market, outcome))
            else:
                found.append(outcome)
        return StrategyResult(tuple(found), tuple(skipped))

    def _skip(self, market: Market, reason: str) -> SkippedItem:
        return SkippedItem(
            kind="market", ident=market.condition_id, reason=f"{self.name}: {reason}"
        )

    def _evaluate(
        self, market: Market, yes: OrderBook, no: OrderBook, now: datetime
    ) -> Opportunity | str:
        legs = [
            BasketLeg(
                b.asks, market.fees, b.tick_size, max(market.min_order_size, b.min_order_size)
            )
            for b in (yes, no)
        ]
        fill = fill_basket(
            legs,
            self.params.min_edge,
            self.params.max_order_notional,
            self.params.min_marketable_notional,
        )
        if isinstance(fill, str):
            return fill
        order_legs = tuple(
            Leg(
                token_id=book.token_id,
                condition_id=market.condition_id,
                side=Side.BUY,
                size=fill.size,
                limit_price=limit,
                expected_vwap=filled_vwap(walk),
                expected_fee=walk.fee,
                order_type=OrderType.FOK,
            )
            for book, walk, limit in zip((yes, no), fill.walks, fill.limit_prices, strict=True)
        )
        return Opportunity(
            id=opportunity_id(self.name, market.condition_id, order_legs, (yes, no)),
            strategy=self.name,
            market=market.condition_id,
            legs=order_legs,
            edge=fill.edge,
            cost=fill.cost,
            fees=fill.fees,
            payout=fill.payout,
            reason=self._reason(market, fill),
            created_at=now,
        )

    def _reason(self, market: Market, fill: BasketFill) -> str:
        yes, no = fill.walks
        names = (market.outcomes[0].name, market.outcomes[1].name)
        parts = [
            f"{fill.size} {name} @ VWAP {money(filled_vwap(w))} (limit {limit})"
            for name, w, limit in zip(names, (yes, no), fill.limit_prices, strict=True)
        ]
        return (
            f"buy {' + '.join(parts)}: cost {money(fill.cost)} + fees {money(fill.fees, 5)} "
            f"< payout {money(fill.payout)}; net edge {money(fill.edge, 5)} "
            f"({money(fill.edge / fill.size, 5)}/share, min {self.params.min_edge})"
        )
