"""What the replay re-evaluates when a book changes: the *unit* of the changed token.

A unit is a neg-risk event (its markets together: the basket strategy needs them all) or a
market on its own. Each unit carries its own small ``Catalogue`` so the strategies and the risk
gate run over that unit only, never the whole universe.

``may_trade`` is a necessary condition read from top of book, in integer micro-units: the scan's
strategies can only find an opportunity where it holds, so a unit that fails it is not
evaluated (it never hides an opportunity; it only spares the stages most of the messages):

- ``complement_arbitrage`` buys YES + NO when their cost plus taker fees per share is below
  ``1 - min_edge``: needs (ask + fee per share at ask) of YES plus that of NO < 1 - min_edge;
- ``negrisk_arbitrage`` buys one YES of every outcome on the same rule: needs the sum over the
  YES legs of (best ask + its fee per share) < 1 - min_edge (every member quoted; complete,
  not augmented events only, as the strategy);
- ``fair_value`` depends on user probabilities and held positions: always evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

from pm_lib.book_math import fee_per_share
from pm_lib.models import Catalogue, Event, FeeSchedule, Market
from pm_lib.replay.books import NO_ASK, SCALE, LocalBooks, from_micro

__all__ = ["Triggers", "Unit", "build_units"]


@dataclass(frozen=True)
class Unit:
    key: str
    catalogue: Catalogue
    tokens: tuple[str, ...]
    binaries: tuple[tuple[str, str], ...]  # (yes, no) token pairs
    basket: tuple[str, ...]  # YES tokens of a neg-risk event, () if none
    neg_risk: frozenset[str]  # tokens of neg-risk markets


class Triggers:
    """``may_trade`` kept incrementally: each changed token costs O(1), whatever the size of its
    event (a basket's sum of best asks is updated by the change of one leg's best ask)."""

    def __init__(
        self,
        units: dict[str, Unit],
        books: LocalBooks,
        *,
        complement: bool,
        negrisk: bool,
        always: bool,
        ceiling: int,
    ) -> None:
        self.books = books.books
        self.complement = complement
        self.negrisk = negrisk
        self.always = always
        self.ceiling = ceiling
        self.pair: dict[str, tuple[str, str]] = {}
        self.basket_of: dict[str, str] = {}
        self.sums: dict[str, int] = {}
        self.last_ask: dict[str, int] = {}
        # token -> (unit, basket key or None, fee schedule id, what to look at once)
        self.info: dict[str, tuple[Unit, str | None, int, str]] = {}
        self.schedule: dict[str, int] = {}
        schedules: dict[FeeSchedule, int] = {}
        self.schedules: list[FeeSchedule] = []
        self.costs: dict[tuple[int, int], int] = {}
        for unit in units.values():
            for market in unit.catalogue.markets:
                sid = schedules.get(market.fees)
                if sid is None:
                    sid = schedules[market.fees] = len(self.schedules)
                    self.schedules.append(market.fees)
                for token in market.token_ids:
                    self.schedule[token] = sid
            for yes, no in unit.binaries:
                self.pair[yes] = self.pair[no] = (yes, no)
            if unit.basket:
                self.sums[unit.key] = NO_ASK * len(unit.basket)
                for token in unit.basket:
                    self.basket_of[token] = unit.key
                    self.last_ask[token] = NO_ASK
            for token in unit.tokens:
                pair = self.pair.get(token)
                look = unit.key + "|" + (pair[0] if pair is not None else token)
                self.info[token] = (unit, self.basket_of.get(token), self.schedule[token], look)

    def cost(self, token: str, ask: int) -> int:
        """One share bought at ``ask`` with its taker fee, in micro-units, rounded down (so
        the condition stays necessary)."""
        if ask >= NO_ASK:
            return NO_ASK
        key = (self.schedule.get(token, -1), ask)
        found = self.costs.get(key)
        if found is None:
            fees = self.schedules[key[0]] if key[0] >= 0 else None
            fee = fee_per_share(from_micro(ask), fees) * SCALE
            found = self.costs[key] = ask + int(fee)
        return found

    def chosen(self, changed: set[str], busy: set[str]) -> list[Unit]:
        """The units to evaluate after ``changed`` tokens changed (busy units left out), in
        key order. Every changed token's basket sum is brought up to date first."""
        info, books, sums, last, costs = self.info, self.books, self.sums, self.last_ask, self.costs
        candidates: dict[str, tuple[Unit, str]] = {}
        for token in changed:
            entry = info.get(token)
            if entry is None:
                continue
            unit, key, sid, look = entry
            if key is not None:
                ask = books[token].best_ask
                cost = costs.get((sid, ask))
                if cost is None:
                    cost = self.cost(token, ask)
                sums[key] += cost - last[token]
                last[token] = cost
            # a YES and its NO (one price_change carries both) are looked at once
            candidates[look] = (unit, token)
        if not candidates:
            return []
        picked: dict[str, Unit] = {}
        for unit, token in candidates.values():
            if unit.key not in picked and unit.key not in busy and self.may_trade(unit, token):
                picked[unit.key] = unit
        return [picked[k] for k in sorted(picked)]

    def may_trade(self, unit: Unit, token: str) -> bool:
        """Whether the strategies could find something in ``unit`` after ``token`` changed."""
        if self.always:
            return True
        if self.negrisk:
            total = self.sums.get(unit.key)
            if total is not None and total < self.ceiling:
                return True
        if self.complement:
            pair = self.pair.get(token)
            if pair is not None:
                a, b = self.books.get(pair[0]), self.books.get(pair[1])
                if (
                    a is not None
                    and b is not None
                    and a.best_ask + b.best_ask < self.ceiling
                    and self.cost(pair[0], a.best_ask) + self.cost(pair[1], b.best_ask)
                    < self.ceiling
                ):
                    return True
        return False


def _basket(event: Event | None, markets: dict[str, Market]) -> tuple[str, ...]:
    """The YES tokens of a basket the strategy would trade (complete, not augmented)."""
    if event is None or event.neg_risk_augmented or not event.neg_risk_market_id:
        return ()
    members = event.market_condition_ids
    if len(members) < 2 or any(c not in markets for c in members):
        return ()
    return tuple(markets[c].yes.token_id for c in members)


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
            basket=_basket(event, markets),
            neg_risk=frozenset(t for m in members if m.neg_risk for t in m.token_ids),
        )
        units[key] = unit
        for token in unit.tokens:
            by_token[token] = unit
    return units, by_token
