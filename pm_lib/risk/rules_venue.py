"""Rules about the venue and the market: kill switch, tradable market, fresh book, order rules.

A neg-risk basket (YES of several outcomes of one ``negRiskMarketID``, the opportunity's market
being that id) pays 1 only when it holds every outcome: ``market_tradable`` refuses one that
leaves out a catalogue market of its group (the strategy cross-checks the event's list too,
``pm_lib.strategy.negrisk``); the refusal is stored with the opportunity like any other.

Order rules (``pm_lib.book_math`` has the sources): price on the tick grid and within
``[tick, 1 - tick]``; size at least the market's minimum; a marketable order (FOK/FAK, or a
limit at or through the best opposite price) executing at least $1 along the gate's book
(``book_math.marketable_spend``: what it spends or receives, not ``size x limit``); size and
amount decimals the venue signs;
and a SELL no larger than the shares held minus what earlier approvals of this run sell.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal

from pm_lib.book_math import is_on_tick, marketable_spend, precision_problem
from pm_lib.models import (
    ONE,
    ZERO,
    Leg,
    Market,
    Opportunity,
    OrderBook,
    PortfolioState,
    ProtocolVersion,
    Side,
)
from pm_lib.risk.check import Check, fail, pass_
from pm_lib.risk.context import RiskContext
from pm_lib.risk.limits import RiskLimits

__all__ = ["basket_missing", "book_fresh", "kill_switch", "market_tradable", "venue_rules"]


def kill_switch(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Nothing passes while trading is halted."""
    if state.halted:
        return fail(
            "kill_switch",
            f"trading is halted: {state.halted_reason or 'kill switch on'}",
            halted="true",
        )
    return pass_("kill_switch", halted="false")


def market_tradable(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Every leg's market is listed, open, accepting orders, on Protocol V1 and not ending soon."""
    for condition_id in dict.fromkeys(leg.condition_id for leg in opp.legs):
        market = ctx.markets.get(condition_id)
        if market is None:
            return fail("market_tradable", f"market {condition_id} is not in the catalogue")
        problem = None
        if market.closed:
            problem = "is closed"
        elif not market.active:
            problem = "is inactive"
        elif not market.accepting_orders:
            problem = "is not accepting orders"
        elif market.version is not ProtocolVersion.V1:
            problem = f"is Protocol {market.version} (positionIds, not supported)"
        elif market.end_date is not None and now >= market.end_date - limits.market_end_buffer:
            problem = (
                f"ends at {market.end_date.isoformat()}, within the "
                f"{limits.market_end_buffer_minutes} min buffer of {now.isoformat()}"
            )
        if problem:
            return fail(
                "market_tradable",
                f"market {condition_id} {problem}",
                market=condition_id,
                end_date=market.end_date.isoformat() if market.end_date else "",
            )
    missing = basket_missing(opp, ctx.markets)
    if missing:
        return fail(
            "market_tradable",
            f"incomplete neg-risk basket: the catalogue holds {len(missing)} more market(s) "
            f"under negRiskMarketID {opp.market} than the basket buys: {', '.join(missing)}",
            group=opp.market,
            missing=",".join(missing),
        )
    return pass_("market_tradable", markets=len({leg.condition_id for leg in opp.legs}))


def basket_missing(opp: Opportunity, markets: Mapping[str, Market]) -> list[str]:
    """The catalogue markets of ``opp``'s neg-risk group it does not buy YES of (sorted).

    Empty when ``opp`` is not a neg-risk basket: at least two BUY legs, each of the YES token of
    a listed market whose ``negRiskMarketID`` is ``opp.market``.
    """
    if len(opp.legs) < 2:
        return []
    for leg in opp.legs:
        market = markets.get(leg.condition_id)
        if (
            market is None
            or leg.side is not Side.BUY
            or not market.neg_risk
            or market.neg_risk_market_id != opp.market
            or leg.token_id != market.yes.token_id
        ):
            return []
    bought = {leg.condition_id for leg in opp.legs}
    return sorted(
        m.condition_id
        for m in markets.values()
        if m.neg_risk and m.neg_risk_market_id == opp.market and m.condition_id not in bought
    )


def book_fresh(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Every leg has a book no older than ``max_book_age_seconds``."""
    oldest = ZERO
    for leg in opp.legs:
        book = ctx.books.get(leg.token_id)
        if book is None:
            return fail("book_fresh", f"no book for token {leg.token_id}", token=leg.token_id)
        age = _seconds(now - book.timestamp)
        oldest = max(oldest, age)
        if age > limits.max_book_age_seconds:
            return fail(
                "book_fresh",
                f"book for token {leg.token_id} is {age}s old, more than "
                f"{limits.max_book_age_seconds}s",
                token=leg.token_id,
                book_age_seconds=age,
                max_book_age_seconds=limits.max_book_age_seconds,
            )
    return pass_("book_fresh", oldest_book_seconds=oldest)


def _seconds(delta: timedelta) -> Decimal:
    """A timedelta in exact decimal seconds (no float)."""
    whole = Decimal(delta.days * 86_400 + delta.seconds)
    if not delta.microseconds:
        return whole
    return whole + Decimal(delta.microseconds).scaleb(-6)


def _is_marketable(leg: Leg, book: OrderBook) -> bool:
    if leg.order_type.is_marketable_only:
        return True
    if leg.side is Side.BUY:
        return bool(book.asks) and leg.limit_price >= book.asks[0].price
    return bool(book.bids) and leg.limit_price <= book.bids[0].price


def _leg_problem(
    leg: Leg, book: OrderBook, min_size: Decimal, limits: RiskLimits
) -> tuple[str, dict[str, object]] | None:
    tick = book.tick_size
    price = leg.limit_price
    facts: dict[str, object] = {"token": leg.token_id, "limit_price": price, "tick": tick}
    if leg.size <= ZERO:
        return f"size {leg.size} is not positive", facts
    if not is_on_tick(price, tick):
        return f"limit {price} is not on tick {tick}", facts
    if not tick <= price <= ONE - tick:
        return f"limit {price} is outside [{tick}, {ONE - tick}]", facts
    if leg.size < min_size:
        return f"size {leg.size} is below the minimum order size {min_size}", {
            **facts,
            "size": leg.size,
            "min_order_size": min_size,
        }
    # The venue applies its $1 floor to what a marketable order executes along the book (as the
    # paper executor and the emulator do), which is below size x limit when the walk averages
    # under the limit. Walked here on the gate's own book, not taken from the strategy.
    if _is_marketable(leg, book):
        spend = marketable_spend(book, leg.side, leg.size, price)
        if spend < limits.min_marketable_notional:
            return (
                f"marketable {leg.side} {leg.size} @ {price} executes {spend} pUSD along the "
                f"book (size x limit {leg.size * price}), below the venue's "
                f"${limits.min_marketable_notional} minimum",
                {**facts, "size": leg.size, "notional": spend},
            )
    problem = precision_problem(leg.side, leg.size, price, tick, leg.order_type)
    if problem:
        return problem, {**facts, "size": leg.size}
    return None


def venue_rules(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Each leg is an order the venue accepts, and no SELL exceeds the shares held."""
    if not opp.legs:
        return fail("venue_rules", "the opportunity has no legs")
    selling: dict[str, Decimal] = {}
    for leg in opp.legs:
        book = ctx.books[leg.token_id]
        market = ctx.markets[leg.condition_id]
        min_size = max(market.min_order_size, book.min_order_size)
        problem = _leg_problem(leg, book, min_size, limits)
        if problem is not None:
            reason, facts = problem
            return fail("venue_rules", f"token {leg.token_id}: {reason}", **facts)
        if leg.side is Side.SELL:
            selling[leg.token_id] = selling.get(leg.token_id, ZERO) + leg.size
    for token_id, size in selling.items():
        held = state.positions[token_id].size if token_id in state.positions else ZERO
        already = ctx.consumed.sold.get(token_id, ZERO)
        if size > held - already:
            return fail(
                "venue_rules",
                f"token {token_id}: selling {size} but only {held - already} held "
                f"({held} held, {already} already sold this run)",
                token=token_id,
                sell_size=size,
                held=held,
                sold_this_run=already,
            )
    return pass_("venue_rules", legs=len(opp.legs))
