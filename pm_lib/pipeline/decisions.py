"""Decision stages: portfolio state, signals and risk decisions, each persisted with its inputs.

So "why did it (not) trade?" always has an answer in the DB: every opportunity and every
decision, approved or not, is stored with the run id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from pm_lib.models import (
    Catalogue,
    Opportunity,
    OrderBook,
    PortfolioState,
    RiskDecision,
    SkippedItem,
)
from pm_lib.pipeline.budget import committed_portfolio, reserved
from pm_lib.pipeline.context import RunContext
from pm_lib.portfolio import record_valuation
from pm_lib.risk import RiskContext, RiskLimits, apply_risk
from pm_lib.store.account import record_balance
from pm_lib.store.engine import session_scope
from pm_lib.store.signals import record_decisions, record_opportunities, record_refusals
from pm_lib.strategy.fair_values import parse_fair_values
from pm_lib.strategy.negrisk import REFUSED_BASKET
from pm_lib.strategy.registry import build_strategies, find_opportunities

__all__ = ["Signals", "find_signals", "portfolio_state", "risk_decisions"]


@dataclass(frozen=True)
class Signals:
    """What the strategies found and (after ``risk_decisions``) what the risk gate said of
    each."""

    opportunities: tuple[Opportunity, ...] = ()
    skipped: tuple[SkippedItem, ...] = ()
    decisions: tuple[RiskDecision, ...] = ()

    @property
    def approved(self) -> tuple[Opportunity, ...]:
        ok = {d.opportunity_id for d in self.decisions if d.approved}
        return tuple(o for o in self.opportunities if o.id in ok)


def portfolio_state(
    ctx: RunContext, books: Mapping[str, OrderBook], catalogue: Catalogue
) -> PortfolioState:
    """The account now (``pm_lib.portfolio``): positions valued at this run's books (the last
    trusted mark where a book is missing), open orders, today's P&L, kill switch, breaker.

    The fresh marks are stored, and the daily-loss breaker trips (for the rest of the UTC day)
    once today's loss reaches ``max_daily_loss``. Live: the venue's pUSD balance is read first
    and stored as the account's latest observation (``account_balance``), so the cash rule, and
    every budget claim after it, sees this run's balance.
    """
    balance: Decimal | None = None
    if ctx.mode == "live":
        executor = ctx.executor()
        try:
            balance = executor.balance()
        finally:
            executor.close()
    with session_scope(ctx.engine) as session:
        if balance is not None:
            # The scan's own observation of the venue, stored for the budget claims of this and
            # other runs (``pm_lib.pipeline.budget``); the read itself wrote nothing.
            record_balance(session, ctx.mode, balance, ctx.now())
        portfolio = committed_portfolio(session, ctx, books, catalogue)
        portfolio = record_valuation(session, portfolio, ctx.settings.max_daily_loss, ctx.run_id)
    return portfolio.state()


def find_signals(
    ctx: RunContext,
    catalogue: Catalogue,
    books: Mapping[str, OrderBook],
    portfolio: PortfolioState,
    fair_values: Mapping[str, str] | None = None,
) -> Signals:
    """Run the configured strategies (pure) and store every opportunity they propose, and every
    basket refused because its outcome set could not be trusted (``basket_refusal``)."""
    values: dict[str, Decimal] | None = (
        parse_fair_values(fair_values) if fair_values is not None else None
    )
    strategies = build_strategies(ctx.settings, values)
    found = find_opportunities(catalogue, books, portfolio, strategies, ctx.now())
    refused = [item for item in found.skipped if item.kind == REFUSED_BASKET]
    with session_scope(ctx.engine) as session:
        record_opportunities(session, ctx.run_id, ctx.flow_run_id, found.opportunities)
        record_refusals(session, ctx.mode, ctx.run_id, refused, ctx.now())
    return Signals(opportunities=found.opportunities, skipped=found.skipped)


def risk_decisions(
    ctx: RunContext,
    catalogue: Catalogue,
    books: Mapping[str, OrderBook],
    portfolio: PortfolioState,
    signals: Signals,
) -> Signals:
    """A risk decision for every opportunity, best edge first, all stored; other runs'
    outstanding budget reservations count as used."""
    limits = RiskLimits.from_settings(ctx.settings)
    with session_scope(ctx.engine, read_only=True) as session:
        others = reserved(session, ctx, others_only=True)
    context = RiskContext.from_catalogue(catalogue, books, others)
    decisions = apply_risk(signals.opportunities, portfolio, limits, ctx.now(), context)
    with session_scope(ctx.engine) as session:
        record_decisions(session, ctx.run_id, ctx.flow_run_id, decisions)
    return replace(signals, decisions=tuple(decisions))
