"""One portfolio: every reader of the account (the risk gate, the run summary, the daily report,
the CLI and the artifacts) gets positions, cash and P&L from here.

ledger    fills replayed: positions at average cost, realised P&L, fees, cash moved, per UTC day
marks     the one marking rule: executable bids after fees, last trusted mark when the book is
          gone, complete sets at 1 pUSD when merging beats selling
pnl       P&L per UTC day (unrealised on today's row)
exposure  cost basis by market and neg-risk group (the gate's exposure limits)
account   read_portfolio (reads only) and record_valuation (marks, daily-loss breaker)
"""

from pm_lib.portfolio.account import Portfolio, read_portfolio, record_valuation
from pm_lib.portfolio.exposure import (
    cost_basis,
    group_cost_basis,
    market_cost_basis,
    total_cost_basis,
)
from pm_lib.portfolio.ledger import DayFlows, LedgerReplay, cash_flow, counts, replay
from pm_lib.portfolio.marks import PositionValue, Valuation, complete_sets, value_positions
from pm_lib.portfolio.pnl import DayPnl, pnl_by_day

__all__ = [
    "DayFlows",
    "DayPnl",
    "LedgerReplay",
    "Portfolio",
    "PositionValue",
    "Valuation",
    "cash_flow",
    "complete_sets",
    "cost_basis",
    "counts",
    "group_cost_basis",
    "market_cost_basis",
    "pnl_by_day",
    "read_portfolio",
    "record_valuation",
    "replay",
    "total_cost_basis",
    "value_positions",
]
