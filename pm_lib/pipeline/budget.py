"""One wallet's budget shared by overlapping runs: claim before placing, release once stored.

The risk stage decides on a snapshot; another run may trade between that snapshot and this
run's orders. So before an approved opportunity is placed, ``claim`` (one transaction) leases
its markets, takes the wallet's budget lock, re-reads the committed portfolio and every
outstanding reservation, re-checks the budget rules (``pm_lib.risk.recheck_budget``) and stores
the opportunity's reservation; ``release_claim`` ends it once its orders are stored. The decide
stage counts other runs' outstanding reservations too (``reserved``), so it rarely approves what
the claim will refuse. Store protocol: ``pm_lib.store.reservations``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace

from sqlalchemy.orm import Session

from pm_lib.models import ZERO, Catalogue, Opportunity, OrderBook, OrderResult
from pm_lib.pipeline.context import RunContext
from pm_lib.portfolio import Portfolio, read_portfolio
from pm_lib.risk import RiskContext, RiskLimits, RunConsumption, recheck_budget
from pm_lib.store.account import stored_balance
from pm_lib.store.engine import session_scope
from pm_lib.store.leases import MarketLeased, acquire_markets
from pm_lib.store.reservations import (
    BudgetExhausted,
    buys_stored_since,
    lock_budget,
    outstanding,
    release,
    reserve,
)
from pm_lib.store.trades import fills_for_intent

__all__ = ["claim", "committed_portfolio", "release_claim", "reserved"]

logger = logging.getLogger(__name__)


def reserved(session: Session, ctx: RunContext, *, others_only: bool) -> RunConsumption:
    """What outstanding reservations of the run's wallet hold (other runs' only, or all)."""
    total = RunConsumption()
    for row in outstanding(session, ctx.mode, ctx.now()):
        if others_only and row.run_id == ctx.run_id:
            continue
        total = total.add(
            by_market=row.by_market,
            by_group=row.by_group,
            total=row.exposure,
            fees=row.fees,
            open_orders=row.open_orders,
        )
    return total


def committed_portfolio(
    session: Session, ctx: RunContext, books: Mapping[str, OrderBook], catalogue: Catalogue
) -> Portfolio:
    """The account as committed now (``pm_lib.portfolio``, valued at ``books``); live cash is
    the last balance the venue reported less the BUY fills stored since (another run's,
    typically: that balance does not show them yet)."""
    portfolio = read_portfolio(
        session,
        ctx.mode,
        ctx.now(),
        ctx.settings,
        books=books,
        markets=catalogue.market_by_condition(),
        events=catalogue.events,
    )
    if ctx.mode != "live" or portfolio.cash is None:
        return portfolio
    observed = stored_balance(session, ctx.mode)
    spent = buys_stored_since(session, ctx.mode, observed[1]) if observed else ZERO
    return replace(portfolio, cash=portfolio.cash - spent) if spent else portfolio


def claim(
    ctx: RunContext,
    opportunity: Opportunity,
    catalogue: Catalogue,
    books: Mapping[str, OrderBook],
) -> str | None:
    """Lease the opportunity's markets and reserve its budget, or why not (nothing taken)."""
    limits = RiskLimits.from_settings(ctx.settings)
    try:
        with session_scope(ctx.engine) as session:
            now = ctx.now()
            acquire_markets(
                session,
                mode=ctx.mode,
                markets=(leg.condition_id for leg in opportunity.legs),
                run_id=ctx.run_id,
                opportunity_id=opportunity.id,
                snapshot_at=ctx.started_at,
                now=now,
            )
            lock_budget(session, ctx.mode, now)
            state = committed_portfolio(session, ctx, books, catalogue).state()
            markets = catalogue.market_by_condition()
            context = RiskContext(
                markets=markets, books=books, reserved=reserved(session, ctx, others_only=False)
            )
            decision = recheck_budget(opportunity, state, limits, now, context)
            if not decision.approved:
                raise BudgetExhausted(opportunity.id, decision.rule, decision.reason)
            held = RunConsumption.claimed(opportunity, markets)
            reserve(
                session,
                mode=ctx.mode,
                run_id=ctx.run_id,
                opportunity_id=opportunity.id,
                exposure=held.total,
                fees=opportunity.fees,
                open_orders=held.open_orders,
                by_market=held.by_market,
                by_group=held.by_group,
                now=now,
            )
    except (MarketLeased, BudgetExhausted) as e:
        logger.warning("run %s skips opportunity %s: %s", ctx.run_id, opportunity.id, e)
        return str(e)
    return None


def release_claim(
    session: Session, ctx: RunContext, opportunity: Opportunity, results: Iterable[OrderResult]
) -> bool:
    """End the opportunity's reservation once the committed state holds what its orders became
    (the outcome is recorded, e.g. ``MATCHED x3``); whether it ended.

    Filled orders count through their stored fills (positions), resting or unresolved ones as
    open orders, refused ones not at all. A fill the venue reported but whose trades could not
    be read yet is in neither: the reservation then stays until reconcile has stored them and
    it expires.
    """
    results = list(results)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    for result in results:
        stored = sum((f.size for f in fills_for_intent(session, result.intent_key)), ZERO)
        if result.filled_size > stored:
            logger.warning(
                "run %s keeps the budget of opportunity %s: %s filled %s, %s stored so far",
                ctx.run_id,
                opportunity.id,
                result.intent_key,
                result.filled_size,
                stored,
            )
            return False
    outcome = ", ".join(f"{status} x{n}" for status, n in sorted(counts.items())) or "no orders"
    release(
        session,
        mode=ctx.mode,
        run_id=ctx.run_id,
        opportunity_id=opportunity.id,
        outcome=outcome,
        at=ctx.now(),
    )
    return True
