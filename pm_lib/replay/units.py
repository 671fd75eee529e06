"""What the replay re-evaluates when a book changes: the *unit* of the changed token.

A unit is a neg-risk event (its markets together: the basket strategy needs them all) or a
market on its own. Each unit carries its own small ``Catalogue`` so the strategies and the risk
gate run over that unit only, never the whole universe.

``may_trade`` is a necessary condition read from top of book, in integer micro-units: the scan's
strategies can only find an opportunity where it holds, so a unit that fails it is not
evaluated (it never hides an opportunity; it only spares the stages most of the messages):

- ``complement_arbitrage`` buys YES + NO for less than 1 after fees: needs ask_yes + ask_no < 1;
- ``negrisk_arbitrage`` buys one YES of every outcome for less than 1 after fees: needs the sum
  of the YES asks < 1 (every member quoted);
- ``fair_value`` depends on user probabilities and held positions: always evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

from pm_lib.models import Catalogue, Market
from pm_lib.replay.books import SCALE, LocalBooks

__all__ = ["Unit", "build_units"]


@dataclass(frozen=True)
class Unit:
    key: str
    catalogue: Catalogue
    tokens: tuple[str, ...]
    binaries: tuple[tuple[str, str], ...]  # (yes, no) token pairs
    basket: tuple[str, ...]  # YES tokens of a neg-risk event, () if none
    neg_risk: frozenset[str]  # tokens of neg-risk markets

    def may_trade(self, books: LocalBooks, complement: bool, negrisk: bool, always: bool) -> bool:
        if always:
            return True
        got = books.books
        if complement:
            for yes, no in self.binaries:
                a, b = got.get(yes), got.get(no)
                if a is not None and b is not None and a.best_ask + b.best_ask < SCALE:
                    return True
        if negrisk and self.basket:
            total = 0
            for token in self.basket:
                book = got.get(token)
                if book is None:
                    return False
                total += book.best_ask
            return total < SCALE
        return False


def build_units(catalogue: Catalogue) -> tuple[dict[str, Unit], dict[str, Unit]]:
    """Units by key, and the unit of every token."""
    markets = catalogue.market_by_condition()
    grouped: dict[str, list[Market]] = {}
    event_of: dict[str, str] = {}
    for neg_risk_event in catalogue.events:
        if neg_risk_event.neg_risk:
            for condition in neg_risk_event.market_condition_ids:
                event_of[condition] = neg_risk_event.event_id
    events = {e.event_id: e for e in catalogue.events}
    for market in catalogue.markets:
        key = event_of.get(market.condition_id, market.condition_id)
        grouped.setdefault(key, []).append(market)
    units: dict[str, Unit] = {}
    by_token: dict[str, Unit] = {}
    for key, members in grouped.items():
        event = events.get(key)
        unit = Unit(
            key=key,
            catalogue=Catalogue(
                markets=tuple(members),
                events=(event,) if event is not None else (),
                fetched_at=catalogue.fetched_at,
            ),
            tokens=tuple(t for m in members for t in m.token_ids),
            binaries=tuple((m.yes.token_id, m.no.token_id) for m in members if m.is_binary),
            basket=(
                tuple(markets[c].yes.token_id for c in event.market_condition_ids if c in markets)
                if event is not None
                and len([c for c in event.market_condition_ids if c in markets])
                == len(event.market_condition_ids)
                else ()
            ),
            neg_risk=frozenset(t for m in members if m.neg_risk for t in m.token_ids),
        )
        units[key] = unit
        for token in unit.tokens:
            by_token[token] = unit
    return units, by_token
