"""Rules about size and money: order notional, positions, exposure, open orders, daily loss,
minimum edge and the slippage guard.

Exposure rules count this run's earlier approvals (``RiskContext.consumed``) and other runs'
outstanding budget reservations on the same wallet (``RiskContext.reserved``), and apply only
when the opportunity adds exposure in that dimension, so a SELL that reduces a position is never
blocked by a limit the book already exceeds. The cash rule counts reservations' notional and
fees, the open-order rule their resting legs. The daily-loss rule blocks risk-increasing
opportunities (any BUY leg) once today's loss, plus the fees other runs' reservations will pay,
reaches ``max_daily_loss``, or once the breaker has tripped today; it reads today's P&L from the
portfolio (``pm_lib.portfolio``: one marking rule for the gate, the run summary and the report).

Slippage guard: walk each leg's current book for the leg's size. A BUY slips by
``max(0, cost - limit x size)``, a SELL by ``max(0, limit x size - proceeds)``; the opportunity
is rejected when the total slip exceeds ``slippage_edge_fraction`` of its edge (per share:
slip per share > fraction x edge per share), or when a book cannot fill a leg at all.
"""

from __future__ import annotations

from datetime import datetime

from pm_lib.book_math import walk_buy, walk_sell
from pm_lib.models import ZERO, Opportunity, PortfolioState, Side
from pm_lib.portfolio.exposure import cost_basis, group_cost_basis, market_cost_basis
from pm_lib.risk.check import Check, fail, pass_, per_share
from pm_lib.risk.context import RiskContext, buy_exposure, leg_notional, resting_legs
from pm_lib.risk.limits import RiskLimits

__all__ = [
    "max_daily_loss",
    "max_open_orders",
    "max_order_notional",
    "max_position_per_group",
    "max_position_per_market",
    "max_total_exposure",
    "min_edge",
    "slippage_guard",
    "sufficient_cash",
]


def _others(value: object, sign: str = "+", label: str = "reserved by other runs") -> str:
    """The reason's term for other runs' reservations; empty when they hold nothing."""
    return "" if not value else f" {sign} {label} {value}"


def max_order_notional(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """No single order's ``size x limit_price`` exceeds ``max_order_notional``."""
    largest = ZERO
    for leg in opp.legs:
        notional = leg_notional(leg)
        largest = max(largest, notional)
        if notional > limits.max_order_notional:
            return fail(
                "max_order_notional",
                f"order for token {leg.token_id}: {leg.size} x {leg.limit_price} = {notional} "
                f"pUSD exceeds the {limits.max_order_notional} limit",
                token=leg.token_id,
                notional=notional,
                limit=limits.max_order_notional,
            )
    return pass_("max_order_notional", largest_order=largest, limit=limits.max_order_notional)


def max_position_per_market(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Cost basis held + reserved by other runs + approved this run + this opportunity, per
    market, within the limit."""
    by_market, _, _ = buy_exposure(opp, ctx.markets)
    for condition_id, added in by_market.items():
        held = market_cost_basis(state, condition_id)
        others = ctx.reserved.by_market.get(condition_id, ZERO)
        earlier = ctx.consumed.by_market.get(condition_id, ZERO)
        after = held + others + earlier + added
        if after > limits.max_position_per_market:
            return fail(
                "max_position_per_market",
                f"market {condition_id}: held {held}{_others(others)} + approved this run "
                f"{earlier} + this {added} = {after} pUSD exceeds the "
                f"{limits.max_position_per_market} limit",
                market=condition_id,
                held=held,
                reserved_by_other_runs=others,
                approved_this_run=earlier,
                added=added,
                limit=limits.max_position_per_market,
            )
    return pass_("max_position_per_market", markets=len(by_market))


def max_position_per_group(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """The same for each neg-risk group the opportunity buys into."""
    _, by_group, _ = buy_exposure(opp, ctx.markets)
    for group, added in by_group.items():
        held = group_cost_basis(state, group, ctx.markets)
        others = ctx.reserved.by_group.get(group, ZERO)
        earlier = ctx.consumed.by_group.get(group, ZERO)
        after = held + others + earlier + added
        if after > limits.max_position_per_group:
            return fail(
                "max_position_per_group",
                f"neg-risk group {group}: held {held}{_others(others)} + approved this run "
                f"{earlier} + this {added} = {after} pUSD exceeds the "
                f"{limits.max_position_per_group} limit",
                group=group,
                held=held,
                reserved_by_other_runs=others,
                approved_this_run=earlier,
                added=added,
                limit=limits.max_position_per_group,
            )
    return pass_("max_position_per_group", groups=len(by_group))


def max_total_exposure(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Positions at cost + open order notional + other runs' reservations + this run's
    approvals + this, within the cap."""
    _, _, added = buy_exposure(opp, ctx.markets)
    held = sum((cost_basis(p) for p in state.positions.values()), ZERO)
    others = ctx.reserved.total
    after = held + state.open_order_notional + others + ctx.consumed.total + added
    facts = {
        "positions": held,
        "open_order_notional": state.open_order_notional,
        "reserved_by_other_runs": others,
        "approved_this_run": ctx.consumed.total,
        "added": added,
        "limit": limits.max_total_exposure,
    }
    if added > ZERO and after > limits.max_total_exposure:
        return fail(
            "max_total_exposure",
            f"positions {held} + open orders {state.open_order_notional}{_others(others)} + "
            f"approved this run {ctx.consumed.total} + this {added} = {after} pUSD exceeds the "
            f"{limits.max_total_exposure} limit",
            **facts,
        )
    return pass_("max_total_exposure", **facts)


def sufficient_cash(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """The BUY legs (at their limits) and the fees fit the cash not already committed.

    Committed: resting BUY orders (the venue reserves their collateral), other runs'
    reservations (notional and fees) and this run's earlier approvals. Without this rule a
    basket whose later legs cannot be paid would be sent, fill its first legs, and leave a
    lopsided position to unwind at a loss.
    """
    _, _, added = buy_exposure(opp, ctx.markets)
    if added <= ZERO:
        return pass_("sufficient_cash", added=added)
    needed = added + opp.fees
    others = ctx.reserved.total + ctx.reserved.fees
    free = state.cash - state.open_order_notional - others - ctx.consumed.total
    facts = {
        "cash": state.cash,
        "open_order_notional": state.open_order_notional,
        "reserved_by_other_runs": others,
        "approved_this_run": ctx.consumed.total,
        "needed": needed,
    }
    if needed > free:
        return fail(
            "sufficient_cash",
            f"needs {needed} pUSD (legs {added} + fees {opp.fees}) but only {free} is free: cash "
            f"{state.cash} - open orders {state.open_order_notional}"
            f"{_others(others, '-')} - approved this run {ctx.consumed.total}",
            **facts,
        )
    return pass_("sufficient_cash", **facts)


def max_open_orders(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Resting (GTC/GTD) orders open + reserved by other runs + approved this run + this
    one's, within the limit."""
    added = resting_legs(opp)
    others = ctx.reserved.open_orders
    after = state.open_orders + others + ctx.consumed.open_orders + added
    if added and after > limits.max_open_orders:
        return fail(
            "max_open_orders",
            f"{state.open_orders} open{_others(others)} + {ctx.consumed.open_orders} approved "
            f"this run + {added} resting here = {after} orders exceeds the "
            f"{limits.max_open_orders} limit",
            open_orders=state.open_orders,
            reserved_by_other_runs=others,
            approved_this_run=ctx.consumed.open_orders,
            added=added,
            limit=limits.max_open_orders,
        )
    return pass_("max_open_orders", open_after=after, limit=limits.max_open_orders)


def max_daily_loss(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """No new risk (any BUY leg) once today's loss, plus the fees other runs' reservations
    will pay, reaches ``max_daily_loss``, or once the breaker tripped today (it holds until the
    UTC day ends)."""
    others = ctx.reserved.fees
    loss = state.loss_today + others
    facts = {
        "realised_pnl_today": state.realised_pnl_today,
        "fees_today": state.fees_today,
        "unrealised_pnl": state.unrealised_pnl,
        "unmarked_positions": state.unmarked_positions,
        "loss": state.loss_today,
        "reserved_fees_of_other_runs": others,
        "limit": limits.max_daily_loss,
        "tripped_at": state.daily_loss_tripped_at or "",
    }
    adds_risk = any(leg.side is Side.BUY for leg in opp.legs)
    if adds_risk and state.daily_loss_tripped_at is not None:
        return fail(
            "max_daily_loss",
            f"the daily-loss breaker tripped at {state.daily_loss_tripped_at.isoformat()} and "
            f"holds until the UTC day ends (today's loss now {state.loss_today} pUSD, limit "
            f"{limits.max_daily_loss}); no new buying today",
            **facts,
        )
    if adds_risk and loss >= limits.max_daily_loss:
        return fail(
            "max_daily_loss",
            f"today's loss {state.loss_today} pUSD (realised {state.realised_pnl_today} - fees "
            f"{state.fees_today} + unrealised {state.unrealised_pnl})"
            f"{_others(others, label='fees reserved by other runs')} has reached the "
            f"{limits.max_daily_loss} limit; no new buying today",
            **facts,
        )
    return pass_("max_daily_loss", **facts)


def min_edge(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Net edge at least ``min_edge`` a share and ``min_edge_usd`` in total."""
    shares = max((leg.size for leg in opp.legs), default=ZERO)
    edge_per_share = opp.edge / shares if shares > ZERO else ZERO
    facts = {
        "edge": opp.edge,
        "edge_per_share": edge_per_share,
        "min_edge": limits.min_edge,
        "min_edge_usd": limits.min_edge_usd,
    }
    if edge_per_share < limits.min_edge:
        return fail(
            "min_edge",
            f"net edge {per_share(edge_per_share)} a share is below min_edge {limits.min_edge}",
            **facts,
        )
    if opp.edge < limits.min_edge_usd:
        return fail(
            "min_edge",
            f"net edge {opp.edge} pUSD is below min_edge_usd {limits.min_edge_usd}",
            **facts,
        )
    return pass_("min_edge", **facts)


def slippage_guard(
    opp: Opportunity, state: PortfolioState, limits: RiskLimits, now: datetime, ctx: RiskContext
) -> Check:
    """Reject when the book's VWAP for the size is worse than the limits by more than the
    allowed fraction of the edge (module docstring)."""
    slip = ZERO
    worst: tuple[str, object, object] | None = None
    for leg in opp.legs:
        book = ctx.books[leg.token_id]
        if leg.side is Side.BUY:
            walk = walk_buy(book.asks, leg.size)
            leg_slip = walk.cost - leg.limit_price * leg.size
        else:
            walk = walk_sell(book.bids, leg.size)
            leg_slip = leg.limit_price * leg.size - walk.cost
        if not walk.complete:
            return fail(
                "slippage_guard",
                f"token {leg.token_id}: the book holds only {walk.filled} of {leg.size} shares",
                token=leg.token_id,
                available=walk.filled,
                size=leg.size,
            )
        if leg_slip > ZERO:
            slip += leg_slip
            if worst is None:
                worst = (leg.token_id, walk.vwap, leg.limit_price)
    shares = max((leg.size for leg in opp.legs), default=ZERO)
    allowed = limits.slippage_edge_fraction * max(opp.edge, ZERO)
    facts = {
        "slippage": slip,
        "allowed_slippage": allowed,
        "edge": opp.edge,
        "slippage_edge_fraction": limits.slippage_edge_fraction,
    }
    if slip > allowed and shares > ZERO:
        token, vwap, limit = worst or ("", None, None)
        return fail(
            "slippage_guard",
            f"VWAP {vwap} for token {token} is worse than its limit {limit}: slippage "
            f"{per_share(slip / shares)} a share ({slip} pUSD) exceeds "
            f"{limits.slippage_edge_fraction} x edge {per_share(opp.edge / shares)} a share = "
            f"{per_share(allowed / shares)} ({allowed} pUSD)",
            **facts,
        )
    return pass_("slippage_guard", **facts)
