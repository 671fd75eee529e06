"""The risk gate: every rule in a fixed order, the first failure decides.

Rules, in order (each is one setting, see ``RiskLimits``):

    kill_switch, market_tradable, book_fresh, venue_rules, max_order_notional,
    max_position_per_market, max_position_per_group, max_total_exposure, max_open_orders,
    max_daily_loss, min_edge, slippage_guard

A multi-leg opportunity is decided as a whole: one failing leg rejects every leg. Bad input
(a missing book, a stale book, a price one tick over a limit) is a rejection with a reason; if a
rule still meets data it cannot compute with, the gate fails closed with rule ``invalid_input``
instead of raising.

Other runs on the same wallet: the limit rules add their outstanding budget reservations
(``RiskContext.reserved``). Before an approved opportunity is placed, the execute stage
re-checks ``BUDGET_RULES`` (``recheck_budget``) against the committed state and every
outstanding reservation, inside the wallet's budget lock (``pm_lib.store.reservations``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pm_lib.models import Opportunity, PortfolioState, RiskDecision
from pm_lib.risk.check import Rule
from pm_lib.risk.context import RiskContext
from pm_lib.risk.limits import RiskLimits
from pm_lib.risk.rules_limits import (
    max_daily_loss,
    max_open_orders,
    max_order_notional,
    max_position_per_group,
    max_position_per_market,
    max_total_exposure,
    min_edge,
    slippage_guard,
    sufficient_cash,
)
from pm_lib.risk.rules_venue import book_fresh, kill_switch, market_tradable, venue_rules

__all__ = ["APPROVED", "BUDGET_RULES", "RULES", "apply_risk", "decide", "recheck_budget"]

APPROVED = "approved"

RULES: tuple[Rule, ...] = (
    kill_switch,
    market_tradable,
    book_fresh,
    venue_rules,
    max_order_notional,
    max_position_per_market,
    max_position_per_group,
    max_total_exposure,
    sufficient_cash,
    max_open_orders,
    max_daily_loss,
    min_edge,
    slippage_guard,
)
"""In order; the first rule that fails decides. ``sufficient_cash`` follows the exposure
limits so a limit breach is reported as such before a shortage of cash."""

BUDGET_RULES: tuple[Rule, ...] = (
    kill_switch,
    max_position_per_market,
    max_position_per_group,
    max_total_exposure,
    sufficient_cash,
    max_open_orders,
    max_daily_loss,
)
"""The rules that depend on what the wallet holds, re-checked under the budget lock: their
inputs (positions, open orders, cash, today's loss, reservations) change when another run
trades; the others (books, venue rules, edge) do not."""


def decide(
    opportunity: Opportunity,
    state: PortfolioState,
    limits: RiskLimits,
    now: datetime,
    context: RiskContext,
    rules: tuple[Rule, ...] = RULES,
) -> RiskDecision:
    """Approve or reject one opportunity; ``context`` carries this run's earlier approvals."""
    inputs: dict[str, str] = {}
    for rule in rules:
        try:
            check = rule(opportunity, state, limits, now, context)
        except (ArithmeticError, LookupError, TypeError, ValueError) as e:
            return RiskDecision(
                opportunity_id=opportunity.id,
                approved=False,
                rule="invalid_input",
                reason=f"rule {rule.__name__} could not evaluate the input: {e!r}",
                inputs=inputs,
                decided_at=now,
            )
        inputs.update({f"{check.rule}.{k}": v for k, v in check.inputs.items()})
        if not check.passed:
            return RiskDecision(
                opportunity_id=opportunity.id,
                approved=False,
                rule=check.rule,
                reason=check.reason or check.rule,
                inputs=inputs,
                decided_at=now,
            )
    return RiskDecision(
        opportunity_id=opportunity.id,
        approved=True,
        rule=APPROVED,
        reason=(
            f"all {len(rules)} rules passed: net edge {opportunity.edge} pUSD on "
            f"{len(opportunity.legs)} leg(s), cost {opportunity.cost} + fees {opportunity.fees}"
        ),
        inputs=inputs,
        decided_at=now,
    )


def recheck_budget(
    opportunity: Opportunity,
    state: PortfolioState,
    limits: RiskLimits,
    now: datetime,
    context: RiskContext,
) -> RiskDecision:
    """``BUDGET_RULES`` against a fresh ``state`` and every outstanding reservation
    (``context.reserved``); call it inside the wallet's budget lock."""
    return decide(opportunity, state, limits, now, context, BUDGET_RULES)


def apply_risk(
    opportunities: Iterable[Opportunity],
    state: PortfolioState,
    limits: RiskLimits,
    now: datetime,
    context: RiskContext,
) -> list[RiskDecision]:
    """Decide every opportunity, best edge first (ties by id), each seeing what the approvals
    before it consume. Decisions come back in that evaluation order."""
    decisions: list[RiskDecision] = []
    for opportunity in sorted(opportunities, key=lambda o: (-o.edge, o.id)):
        decision = decide(opportunity, state, limits, now, context)
        if decision.approved:
            context = context.after_approval(opportunity)
        decisions.append(decision)
    return decisions
