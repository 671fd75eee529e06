"""The risk gate: opportunities in, one ``RiskDecision`` each out. Pure: no I/O.

limits       RiskLimits (from settings, overridable per run)
context      RiskContext (markets, books, this run's approvals) and exposure measures
rules_venue  kill switch, tradable market, fresh book, venue order rules
rules_limits notional, positions, exposure, open orders, daily loss, min edge, slippage
gate         decide / apply_risk (fixed rule order, first failure decides)
"""

from pm_lib.risk.check import Check, Rule
from pm_lib.risk.context import RiskContext, RunConsumption, buy_exposure, leg_notional
from pm_lib.risk.gate import APPROVED, BUDGET_RULES, RULES, apply_risk, decide, recheck_budget
from pm_lib.risk.limits import RiskLimits

__all__ = [
    "APPROVED",
    "BUDGET_RULES",
    "RULES",
    "Check",
    "RiskContext",
    "RiskLimits",
    "Rule",
    "RunConsumption",
    "apply_risk",
    "buy_exposure",
    "decide",
    "leg_notional",
    "recheck_budget",
]
