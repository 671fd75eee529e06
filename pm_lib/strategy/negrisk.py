"""Neg-risk arbitrage: buy ``q`` YES of every outcome of a neg-risk event for less than ``q``.

In a neg-risk event the outcomes are mutually exclusive and exactly one resolves YES, so a basket
of one YES share per outcome pays exactly 1 pUSD, but only if the basket holds *every* outcome.
So the event is traded only when its outcome set is complete and tradable.

The outcome set comes from two Gamma sources that must agree: the event's nested ``markets``
list and every catalogue market that carries the event's ``negRiskMarketID`` (the live event
list can leave out an outcome the markets listing holds, docs/VENUE.md 7 "Neg-risk traps": a
basket of the listed long shots without the favourite is not an arbitrage, it is a bet against
the favourite). Any disagreement refuses the event: a catalogue member the event does not list,
a listed market the catalogue does not hold (closed, not accepting orders, not yet listed), or a
listed market under another ``negRiskMarketID``. Every outcome must then be open, accepting
orders, on Protocol V1 and have a fresh book. Augmented neg-risk events (``negRiskAugmented``,
or a nested "Other" placeholder leg, ``pm_lib.venue.wire_gamma``) can gain outcomes later, so a
"complete" basket today may not cover the winner: they are skipped. Each outcome has its own
book, so the YES asks can sum below 1 (docs/VENUE.md 7: recorded sums were 1.003-1.156).

The risk gate checks the same completeness again (``pm_lib.risk.rules_venue.basket_missing``)
and stores its refusal with the opportunity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from pm_lib.models import (
    ONE,
    ZERO,
    Catalogue,
    Event,
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

__all__ = ["REFUSED_BASKET", "NegRiskArbitrage", "group_members"]

REFUSED_BASKET = "refused_basket"
"""The ``SkippedItem`` kind of an event whose basket is refused because its outcome set cannot
be trusted (the sources disagree, it may gain outcomes, or an outcome lacks a trusted book);
stored (``pm_lib.store.signals.record_refusals``), unlike routine skips."""


@dataclass(frozen=True, slots=True)
class _Skip:
    """Why an event gives no opportunity; ``refused``: its outcome set cannot be trusted."""

    reason: str
    refused: bool = False


def group_members(markets: Iterable[Market]) -> dict[str, frozenset[str]]:
    """The condition ids of the catalogue's markets by ``negRiskMarketID`` (neg-risk only)."""
    groups: dict[str, set[str]] = {}
    for market in markets:
        if market.neg_risk and market.neg_risk_market_id:
            groups.setdefault(market.neg_risk_market_id, set()).add(market.condition_id)
    return {group: frozenset(members) for group, members in groups.items()}


@dataclass(frozen=True, slots=True)
class NegRiskArbitrage:
    """Buy YES of every outcome when ``sum(VWAP asks) + fees per share < 1 - min_edge``."""

    params: StrategyParams
    name: ClassVar[str] = "negrisk_arbitrage"

    def find(
        self,
        catalogue: Catalogue,
        books: Mapping[str, OrderBook],
        portfolio: PortfolioState,
        now: datetime,
    ) -> StrategyResult:
        """Scan every neg-risk event of the catalogue (``portfolio`` is not used)."""
        by_condition = catalogue.market_by_condition()
        groups = group_members(catalogue.markets)
        found: list[Opportunity] = []
        skipped: list[SkippedItem] = []
        for event in catalogue.events:
            if not event.neg_risk:
                continue
            outcome = self._evaluate(event, by_condition, groups, books, now)
            if isinstance(outcome, _Skip):
                kind = REFUSED_BASKET if outcome.refused else "event"
                skipped.append(
                    SkippedItem(
                        kind=kind, ident=event.event_id, reason=f"{self.name}: {outcome.reason}"
                    )
                )
            elif outcome is not None:
                found.append(outcome)
        return StrategyResult(tuple(found), tuple(skipped))

    def _outcome_set(
        self,
        event: Event,
        by_condition: Mapping[str, Market],
        groups: Mapping[str, frozenset[str]],
        books: Mapping[str, OrderBook],
        now: datetime,
    ) -> list[tuple[Market, OrderBook]] | _Skip:
        """Every outcome's market and YES book, or why the set is not complete and tradable."""
        if event.neg_risk_augmented:
            return _Skip("augmented neg-risk event: outcomes may be added (placeholder legs)", True)
        if event.closed:
            return _Skip("event is closed")
        if len(event.market_condition_ids) < 2:
            return _Skip(f"only {len(event.market_condition_ids)} market(s) listed for the event")
        group = event.neg_risk_market_id
        if not group:
            return _Skip(
                "no negRiskMarketID on the event: its outcome set cannot be cross-checked", True
            )
        unlisted = sorted(groups.get(group, frozenset()) - set(event.market_condition_ids))
        if unlisted:
            return _Skip(
                f"incomplete outcome set: the catalogue holds {len(unlisted)} market(s) under "
                f"negRiskMarketID {group} that the event does not list: {', '.join(unlisted)}",
                True,
            )
        members: list[tuple[Market, OrderBook]] = []
        for condition_id in event.market_condition_ids:
            market = by_condition.get(condition_id)
            if market is None:
                return _Skip(
                    f"incomplete outcome set: market {condition_id} is not in the catalogue", True
                )
            if market.neg_risk_market_id != group:
                return _Skip(
                    f"incomplete outcome set: market {condition_id} is listed by the event but "
                    f"carries negRiskMarketID {market.neg_risk_market_id}, not {group}",
                    True,
                )
            problem = market_problem(market)
            if problem:
                return _Skip(f"incomplete outcome set: {problem}", True)
            if not market.is_binary:
                return _Skip(
                    f"market {condition_id} has {len(market.outcomes)} outcomes, not YES/NO", True
                )
            token_id = market.yes.token_id
            book = books.get(token_id)
            problem = book_problem(book, token_id, now, self.params.max_book_age)
            if problem or book is None:
                return _Skip(problem or f"no book for token {token_id}", True)
            members.append((market, book))
        return members

    def _evaluate(
        self,
        event: Event,
        by_condition: Mapping[str, Market],
        groups: Mapping[str, frozenset[str]],
        books: Mapping[str, OrderBook],
        now: datetime,
    ) -> Opportunity | _Skip | None:
        members = self._outcome_set(event, by_condition, groups, books, now)
        if isinstance(members, _Skip):
            return members
        if any(not book.asks for _, book in members):
            return None  # an outcome has no sellers: nothing to buy, not an error
        top = sum((book.asks[0].price for _, book in members), ZERO)
        if top >= ONE - self.params.min_edge:
            return None  # the common case: no edge on top of book
        legs = [
            BasketLeg(
                book.asks,
                market.fees,
                book.tick_size,
                max(market.min_order_size, book.min_order_size),
            )
            for market, book in members
        ]
        fill = fill_basket(
            legs,
            self.params.min_edge,
            self.params.max_order_notional,
            self.params.min_marketable_notional,
        )
        if isinstance(fill, str):
            return _Skip(fill)
        group = event.neg_risk_market_id or event.event_id
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
            for (market, book), walk, limit in zip(
                members, fill.walks, fill.limit_prices, strict=True
            )
        )
        return Opportunity(
            id=opportunity_id(self.name, group, order_legs, (b for _, b in members)),
            strategy=self.name,
            market=group,
            legs=order_legs,
            edge=fill.edge,
            cost=fill.cost,
            fees=fill.fees,
            payout=fill.payout,
            reason=self._reason(event, top, fill),
            created_at=now,
        )

    def _reason(self, event: Event, top: Decimal, fill: BasketFill) -> str:
        vwaps = " + ".join(money(filled_vwap(w)) for w in fill.walks)
        return (
            f"buy {fill.size} YES of all {len(fill.walks)} outcomes of '{event.title}': "
            f"best asks sum {top}, VWAPs {vwaps}; cost {money(fill.cost)} + fees "
            f"{money(fill.fees, 5)} < payout {money(fill.payout)}; net edge "
            f"{money(fill.edge, 5)} ({money(fill.edge / fill.size, 5)}/share, "
            f"min {self.params.min_edge})"
        )
