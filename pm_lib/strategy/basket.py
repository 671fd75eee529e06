"""Sizing a basket: buy ``q`` of every leg when exactly one leg pays 1 pUSD per share.

Used by complement arbitrage (YES + NO of one market) and neg-risk arbitrage (YES of every
outcome of a neg-risk event). Net profit is ``q - cost(q) - fees(q)``. Each ladder's marginal
price is a step function of ``q`` that never falls, and so is ``p + fee_per_share(p)`` for the
venue's fee curve (its slope is ``1 + rate * (1 - 2p)`` for exponent 1, positive for any
``rate < 1``), so profit is concave and piecewise linear: we merge the ladders into segments of
constant marginal profit and take segments while the marginal profit is positive, the average
edge stays at least ``min_edge`` and every leg's order notional stays under the cap. The
optimum therefore sits at a level boundary or at a limit, never only at the top level.

Every leg must spend at least the venue's $1 marketable minimum along its walked book (the
venue measures executed notional, not ``size x limit``); one leg under it refuses the whole
basket, so no leg is sent that the venue would refuse after another one filled.

The continuous optimum is then floored to whole shares: a FOK BUY's pUSD amount must have at
most 2 decimals (``pm_lib.book_math``), which any whole number of shares meets at any 0.01
price, and the SDK's float flooring keeps whole sizes exact. Each leg's limit is the worst price
walked, raised (by less than a cent, on tick) only when ``q * price`` would have more than two
decimals. The notional cap is computed at the worst price rounded *up* to the cent, so raising
the limit can never break it.

Fees in the sizing are unrounded; the reported fees are the venue's floored per-level fees,
which are never larger, so the reported edge is never below the edge the sizing accepted.
Removing depth from any ladder can only raise marginal prices, lower the cap and lower the
average edge, so it never increases the chosen size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pm_lib.book_math import Walk, fee_per_share, marketable_buy_limit, walk_buy
from pm_lib.models import ONE, ZERO, FeeSchedule, Level

__all__ = ["BasketFill", "BasketLeg", "basket_size", "fill_basket"]

_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class BasketLeg:
    """One leg's ladder and venue parameters (asks best first)."""

    asks: Sequence[Level]
    fees: FeeSchedule
    tick: Decimal
    min_size: Decimal


@dataclass(frozen=True, slots=True)
class BasketFill:
    """A sized basket: ``size`` shares of every leg, with each leg's walk and limit price."""

    size: Decimal
    walks: tuple[Walk, ...]
    limit_prices: tuple[Decimal, ...]

    @property
    def cost(self) -> Decimal:
        return sum((w.cost for w in self.walks), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((w.fee for w in self.walks), ZERO)

    @property
    def payout(self) -> Decimal:
        """Exactly one leg resolves to 1 pUSD a share."""
        return self.size

    @property
    def edge(self) -> Decimal:
        """Net profit at resolution: payout - cost - fees (exact)."""
        return self.payout - self.cost - self.fees


def _notional_cap(asks: Sequence[Level], max_notional: Decimal) -> Decimal:
    """The most shares whose order notional (size x worst price, rounded up to the cent) fits."""
    depth = ZERO
    for level in asks:
        price = level.price.quantize(_CENT, rounding=ROUND_CEILING)
        if (depth + level.size) * price <= max_notional:
            depth += level.size
            continue
        return max(depth, max_notional / price)
    return depth


def basket_size(legs: Sequence[BasketLeg], min_edge: Decimal, max_notional: Decimal) -> Decimal:
    """The profit-maximising basket size in whole shares (0 when there is no edge).

    Takes merged segments while the marginal profit per basket is positive, the average edge per
    basket stays at least ``min_edge`` (strictly above it after flooring) and every leg's notional
    stays within ``max_notional``. Minimum sizes and the $1 rule are checked by ``fill_basket``.
    """
    if not legs or any(not leg.asks for leg in legs):
        return ZERO
    cap = min(_notional_cap(leg.asks, max_notional) for leg in legs)
    index = [0] * len(legs)
    remaining = [leg.asks[0].size for leg in legs]
    taken = ZERO
    edge = ZERO
    segments: list[tuple[Decimal, Decimal]] = []  # (length, marginal profit per basket)
    while taken < cap:
        marginal = ONE - sum(
            (
                leg.asks[i].price + fee_per_share(leg.asks[i].price, leg.fees)
                for leg, i in zip(legs, index, strict=True)
            ),
            ZERO,
        )
        if marginal <= ZERO:
            break
        length = min(min(remaining), cap - taken)
        if marginal <= min_edge:
            surplus = edge - min_edge * taken  # how far the average edge is above min_edge
            if surplus <= ZERO:
                break
            if marginal < min_edge:
                # the average edge reaches min_edge after surplus / (min_edge - marginal) more
                length = min(length, surplus / (min_edge - marginal))
        taken += length
        edge += marginal * length
        segments.append((length, marginal))
        if length < min(remaining):
            break
        if not _advance(legs, index, remaining, length):
            break
    size = taken.to_integral_value(rounding=ROUND_FLOOR)
    if size > ZERO and _edge_at(segments, size) <= min_edge * size:
        size -= ONE  # the average edge hit min_edge exactly at a whole size; stay strictly above
    return size


def _advance(
    legs: Sequence[BasketLeg], index: list[int], remaining: list[Decimal], length: Decimal
) -> bool:
    """Consume ``length`` from every ladder; False when one of them is exhausted."""
    for k, leg in enumerate(legs):
        remaining[k] -= length
        if remaining[k] <= ZERO:
            index[k] += 1
            if index[k] >= len(leg.asks):
                return False
            remaining[k] = leg.asks[index[k]].size
    return True


def _edge_at(segments: Sequence[tuple[Decimal, Decimal]], size: Decimal) -> Decimal:
    edge = ZERO
    left = size
    for length, marginal in segments:
        step = min(length, left)
        edge += marginal * step
        left -= step
        if left <= ZERO:
            break
    return edge


def fill_basket(
    legs: Sequence[BasketLeg],
    min_edge: Decimal,
    max_notional: Decimal,
    min_marketable_notional: Decimal,
) -> BasketFill | str:
    """The sized basket with per-leg walks and FOK limit prices, or why there is none.

    A string answer means an edge exists on top of book but cannot be traded within the venue's
    minimums (shares, $1 marketable notional, price ceiling) or the limits.
    """
    size = basket_size(legs, min_edge, max_notional)
    if size <= ZERO:
        return "no size with a net edge above min_edge within depth and the notional cap"
    min_size = max(leg.min_size for leg in legs)
    if size < min_size:
        return f"profitable size {size} is below the minimum order size {min_size}"
    walks: list[Walk] = []
    limits: list[Decimal] = []
    for leg in legs:
        walk = walk_buy(leg.asks, size, leg.fees)
        limit = (
            marketable_buy_limit(size, walk.worst_price, leg.tick)
            if walk.worst_price is not None
            else None
        )
        if limit is None:
            return f"no FOK limit price at or below 1 - tick for {size} shares"
        if walk.cost < min_marketable_notional:
            # the venue's $1 floor is on what the order executes, not size x limit
            return (
                f"a leg spends {walk.cost} pUSD along its book (size x limit {size * limit}), "
                f"below the ${min_marketable_notional} marketable minimum"
            )
        walks.append(walk)
        limits.append(limit)
    fill = BasketFill(size, tuple(walks), tuple(limits))
    if fill.edge <= min_edge * size:  # cannot happen (module docstring); kept as a guard
        return f"net edge {fill.edge} is not above min_edge x size"
    return fill
