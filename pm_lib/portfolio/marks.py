"""The one marking rule: what the open positions could be turned into pUSD for now.

Every reader of the account (the risk gate, the run summary, the daily report, the CLI) values
positions with ``value_positions``; nothing else marks a position.

- A token with a fresh book (no older than ``max_book_age``) is worth what selling the held
  shares into its bids would pay **after the taker fee** (VWAP walk, best bid first; shares the
  bids cannot absorb are worth 0). That value is also the token's new trusted mark.
- A token without a fresh book (a closed market's book is gone: 404) is worth its **last trusted
  mark**, scaled to the shares held (``value x held / marked size``), never its cost. With no
  mark at all it is worth 0 and counted as unmarked: nothing is claimed that was never seen.
- **Complete sets** are worth 1 pUSD a set when that beats selling the same shares into the bids:
  a binary market's YES + NO (the CTF merges a pair into 1 pUSD now), and one YES of every
  outcome of a complete neg-risk event (not augmented, every market of the event known: exactly
  one outcome pays 1 pUSD, so the basket's value is locked in). For each set the rule compares
  "merge ``n`` sets, sell the rest into the bids" with "sell everything into the bids" and takes
  the larger; neg-risk baskets are formed first, then binary pairs from the shares left.
- Values are floored to the micro-pUSD (the store's precision), so a mark stored and read back
  values the same shares to the same figure.

- A token of a **resolved** market (``market_resolution``, ``pm_lib.settlement``) is worth its
  payout: 1 pUSD a share for the winner, 0 for the others (what redeeming pays), never a stale
  book or last mark; it takes no part in complete sets (the payout already is the set's value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from pm_lib.book_math import walk_sell
from pm_lib.models import ONE, ZERO, Event, Market, MarketResolution, OrderBook, Position
from pm_lib.store.account import PositionMark

__all__ = ["PositionValue", "Valuation", "complete_sets", "value_positions"]

_MICRO = Decimal("0.000001")


def _floor(value: Decimal) -> Decimal:
    return value.quantize(_MICRO, rounding=ROUND_FLOOR)


@dataclass(frozen=True, slots=True)
class PositionValue:
    """One open position: its cost basis, its value now and where the value came from.

    ``source``: ``bids`` (a fresh book), ``mark`` (the last trusted mark, of ``marked_at``),
    ``payout`` (its market resolved: ``marked_at`` is the resolution), ``none`` (never marked:
    worth 0 outside a set). ``merged`` is how many of the shares were
    valued as part of complete sets (1 pUSD a set, shared among the set's legs in proportion to
    their average prices, so each leg's unrealised P&L reads as its share of the set's).
    """

    token_id: str
    condition_id: str
    size: Decimal
    cost: Decimal
    value: Decimal
    source: str
    marked_at: datetime | None = None
    merged: Decimal = ZERO

    @property
    def unrealised(self) -> Decimal:
        return self.value - self.cost


@dataclass(frozen=True, slots=True)
class Valuation:
    """The open positions valued by the rule above, and the fresh marks it took."""

    positions: tuple[PositionValue, ...] = ()
    fresh_marks: tuple[PositionMark, ...] = ()

    @property
    def cost(self) -> Decimal:
        return sum((p.cost for p in self.positions), ZERO)

    @property
    def value(self) -> Decimal:
        return sum((p.value for p in self.positions), ZERO)

    @property
    def unrealised(self) -> Decimal:
        return self.value - self.cost

    @property
    def unmarked(self) -> int:
        """Positions with shares never marked (no fresh book, no stored mark, not in a
        complete set): those shares are valued at 0."""
        return sum(1 for p in self.positions if p.source == "none" and p.merged < p.size)


def complete_sets(
    held: Iterable[Position], markets: Mapping[str, Market], events: Sequence[Event]
) -> list[tuple[str, ...]]:
    """The token sets that pay exactly 1 pUSD together: complete neg-risk baskets (YES of every
    outcome) first, then binary YES + NO pairs. Only sets of which every token is held."""
    held = list(held)
    tokens = {p.token_id for p in held}
    by_condition: dict[str, set[str]] = {}
    for p in held:
        by_condition.setdefault(p.condition_id, set()).add(p.token_id)
    sets: list[tuple[str, ...]] = []
    for event in events:
        if not event.neg_risk or event.neg_risk_augmented or not event.market_condition_ids:
            continue
        legs = [markets.get(c) for c in event.market_condition_ids]
        if any(m is None or not m.is_binary for m in legs):
            continue
        basket = tuple(m.yes.token_id for m in legs if m is not None)
        if all(t in tokens for t in basket):
            sets.append(basket)
    for condition_id in sorted(by_condition):
        market = markets.get(condition_id)
        if market is not None and market.is_binary:
            pair = (market.yes.token_id, market.no.token_id)
        else:
            found = sorted(by_condition[condition_id])
            if len(found) != 2:  # a binary market has two tokens; anything else is no pair
                continue
            pair = (found[0], found[1])
        if all(t in tokens for t in pair):
            sets.append(pair)
    return sets


@dataclass(frozen=True, slots=True)
class _Pricer:
    """Sells ``k`` shares of a token: into its fresh book, else at its last trusted mark."""

    books: Mapping[str, OrderBook]
    marks: Mapping[str, PositionMark]
    markets: Mapping[str, Market]

    def sell(self, position: Position, shares: Decimal) -> Decimal:
        if shares <= ZERO:
            return ZERO
        book = self.books.get(position.token_id)
        if book is not None:
            market = self.markets.get(position.condition_id)
            fees = market.fees if market is not None else None
            return _floor(walk_sell(book.bids, shares, fees).proceeds_after_fee)
        mark = self.marks.get(position.token_id)
        if mark is None or mark.size <= ZERO:
            return ZERO
        return _floor(mark.value * shares / mark.size)

    def source(self, token_id: str) -> tuple[str, datetime | None]:
        book = self.books.get(token_id)
        if book is not None:
            return "bids", book.timestamp
        mark = self.marks.get(token_id)
        return ("mark", mark.marked_at) if mark is not None else ("none", None)


def _split(amount: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """``amount`` shared in proportion to ``weights`` (equally when they sum to 0), floored to
    the micro-pUSD; the last share takes the remainder, so the parts sum to ``amount``."""
    total = sum(weights, ZERO)
    if total <= ZERO:
        weights, total = [ONE] * len(weights), Decimal(len(weights))
    parts = [_floor(amount * w / total) for w in weights[:-1]]
    return [*parts, amount - sum(parts, ZERO)]


def value_positions(
    positions: Mapping[str, Position],
    *,
    now: datetime,
    books: Mapping[str, OrderBook] | None = None,
    marks: Mapping[str, PositionMark] | None = None,
    markets: Mapping[str, Market] | None = None,
    events: Sequence[Event] = (),
    max_book_age: timedelta = timedelta(seconds=60),
    resolutions: Mapping[str, MarketResolution] | None = None,
) -> Valuation:
    """Value the open positions (size > 0) by the module's rule.

    ``books``: this run's books (only those no older than ``max_book_age`` at ``now`` count);
    ``marks``: the stored last trusted marks; ``markets``/``events``: the catalogue, for fees and
    for the complete sets; ``resolutions``: the resolved markets, by condition id (their
    tokens are worth their payout). Returns the values and the fresh marks to store.
    """
    markets = markets or {}
    resolutions = resolutions or {}
    held_all = {t: p for t, p in positions.items() if p.size > ZERO}
    paid = {t: p for t, p in held_all.items() if p.condition_id in resolutions}
    held = {t: p for t, p in held_all.items() if t not in paid}
    fresh = {
        t: b for t, b in (books or {}).items() if t in held and now - b.timestamp <= max_book_age
    }
    pricer = _Pricer(fresh, marks or {}, markets)
    remaining = {t: p.size for t, p in held.items()}
    merged_value = dict.fromkeys(held, ZERO)
    merged_shares = dict.fromkeys(held, ZERO)
    for tokens in complete_sets(held.values(), markets, events):
        n = min(remaining[t] for t in tokens)
        if n <= ZERO:
            continue
        keep = sum((pricer.sell(held[t], remaining[t]) for t in tokens), ZERO)
        merge = n * ONE + sum((pricer.sell(held[t], remaining[t] - n) for t in tokens), ZERO)
        if merge <= keep:
            continue
        for t, part in zip(tokens, _split(n, [held[t].avg_price for t in tokens]), strict=True):
            remaining[t] -= n
            merged_shares[t] += n
            merged_value[t] += part
    values = []
    for token, p in sorted(held.items()):
        source, marked_at = pricer.source(token)
        values.append(
            PositionValue(
                token_id=token,
                condition_id=p.condition_id,
                size=p.size,
                cost=p.size * p.avg_price,
                value=merged_value[token] + pricer.sell(p, remaining[token]),
                source=source,
                marked_at=marked_at,
                merged=merged_shares[token],
            )
        )
    for token, p in paid.items():
        resolution = resolutions[p.condition_id]
        values.append(
            PositionValue(
                token_id=token,
                condition_id=p.condition_id,
                size=p.size,
                cost=p.size * p.avg_price,
                value=_floor(p.size * resolution.payouts.get(token, ZERO)),
                source="payout",
                marked_at=resolution.resolved_at,
            )
        )
    values.sort(key=lambda v: v.token_id)
    fresh_marks = tuple(
        PositionMark(
            token_id=t,
            condition_id=held[t].condition_id,
            size=held[t].size,
            value=pricer.sell(held[t], held[t].size),
            marked_at=b.timestamp,
        )
        for t, b in sorted(fresh.items())
    )
    return Valuation(tuple(values), fresh_marks)
