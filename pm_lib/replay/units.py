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
from pm_lib.replay.books import NO_ASK, SCALE, from_micro

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
    """``may_trade`` kept incrementally, as best asks move (``on_ask``, called by the books):
    each move costs O(1), whatever the size of its event (a basket's sum of costs is updated by
    the move of one leg). ``hot`` holds the keys of the baskets and YES/NO pairs whose condition
    holds now (and ``ALWAYS`` when ``fair_value`` is on): while it is empty no unit can trade,
    and the replay does not look at changed tokens at all."""

    ALWAYS = "*"

    def __init__(
        self,
        units: dict[str, Unit],
        *,
        complement: bool,
        negrisk: bool,
        always: bool,
        ceiling: int,
    ) -> None:
        self.ceiling = ceiling
        self.hot: set[str] = {self.ALWAYS} if always else set()
        self.always = always
        self.sums: dict[str, int] = {}  # pair or basket key -> sum of its legs' costs
        self.last: dict[str, int] = {}  # token -> its cost in the sums
        # token -> (its schedule's costs by ask, schedule id, pair key, basket key): on_ask
        self.moves: dict[str, tuple[dict[int, int], int, str | None, str | None]] = {}
        # token -> (unit, pair key, the unit's basket key): chosen
        self.looks: dict[str, tuple[Unit, str | None, str | None]] = {}
        schedules: dict[FeeSchedule, int] = {}
        self.schedules: list[FeeSchedule] = []
        self.costs: list[dict[int, int]] = []
        for unit in units.values():
            pair_of: dict[str, str] = {}
            if complement:
                for yes, no in unit.binaries:
                    pair_of[yes] = pair_of[no] = "p:" + yes
                    self.sums["p:" + yes] = 2 * NO_ASK
            basket = "b:" + unit.key if negrisk and unit.basket else None
            if basket is not None:
                self.sums[basket] = NO_ASK * len(unit.basket)
            legs = set(unit.basket) if basket is not None else set()
            for market in unit.catalogue.markets:
                sid = schedules.get(market.fees)
                if sid is None:
                    sid = schedules[market.fees] = len(self.schedules)
                    self.schedules.append(market.fees)
                    self.costs.append({})
                for token in market.token_ids:
                    pair = pair_of.get(token)
                    leg = basket if token in legs else None
                    self.last[token] = NO_ASK
                    self.looks[token] = (unit, pair, basket)
                    if pair is not None or leg is not None:
                        self.moves[token] = (self.costs[sid], sid, pair, leg)

    def cost(self, sid: int, ask: int) -> int:
        """One share bought at ``ask`` with its taker fee (schedule ``sid``), in micro-units,
        rounded down (so the condition stays necessary)."""
        if ask >= NO_ASK:
            return NO_ASK
        found = self.costs[sid].get(ask)
        if found is None:
            fee = fee_per_share(from_micro(ask), self.schedules[sid]) * SCALE
            found = self.costs[sid][ask] = ask + int(fee)
        return found

    def on_ask(self, token: str, ask: int) -> None:
        """``token``'s best ask is (now) ``ask``: its pair's and basket's sums follow."""
        entry = self.moves.get(token)
        if entry is None:
            return
        costs, sid, pair, basket = entry
        cost = costs.get(ask)
        if cost is None:
            cost = self.cost(sid, ask)
        delta = cost - self.last[token]
        if not delta:
            return
        self.last[token] = cost
        sums, hot, ceiling = self.sums, self.hot, self.ceiling
        if pair is not None:
            total = sums[pair] = sums[pair] + delta
            if total < ceiling:
                hot.add(pair)
            else:
                hot.discard(pair)
        if basket is not None:
            total = sums[basket] = sums[basket] + delta
            if total < ceiling:
                hot.add(basket)
            else:
                hot.discard(basket)

    def chosen(self, changed: set[str], busy: set[str]) -> list[Unit]:
        """The units to evaluate after ``changed`` tokens changed (busy units left out), in
        key order: those whose strategies could find something (``may_trade``)."""
        hot = self.hot
        if not hot:
            return []
        picked: dict[str, Unit] = {}
        for token in changed:
            entry = self.looks.get(token)
            if entry is None:
                continue
            unit, pair, basket = entry
            if unit.key in picked or unit.key in busy:
                continue
            if self.always or pair in hot or basket in hot:
                picked[unit.key] = unit
        return [picked[k] for k in sorted(picked)]


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
