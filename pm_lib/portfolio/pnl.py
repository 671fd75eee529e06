"""P&L per UTC day: realised and fees from the ledger, unrealised from the marks.

A day's net is ``realised - fees + unrealised``. The unrealised P&L (value now - cost of every
open position, ``pm_lib.portfolio.marks``) is measured now, so it sits on today's row only; past
days show what their fills realised and paid. Summed over every row, net P&L is the change in
equity (cash + value of the positions) since the first fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pm_lib.models import ZERO
from pm_lib.portfolio.ledger import LedgerReplay

__all__ = ["DayPnl", "pnl_by_day"]


@dataclass(frozen=True, slots=True)
class DayPnl:
    """One UTC day's P&L (pUSD); ``loss`` is the net's negative, 0 when in profit."""

    day: date
    realised: Decimal = ZERO
    fees: Decimal = ZERO
    unrealised: Decimal = ZERO
    fills: int = 0

    @property
    def net(self) -> Decimal:
        return self.realised - self.fees + self.unrealised

    @property
    def loss(self) -> Decimal:
        return max(ZERO, -self.net)


def pnl_by_day(ledger: LedgerReplay, today: date, unrealised: Decimal) -> tuple[DayPnl, ...]:
    """Every day with fills and ``today`` (present even without fills), oldest first; today's
    row carries the open positions' ``unrealised`` P&L."""
    rows = [
        DayPnl(day=d, realised=f.realised, fees=f.fees, fills=f.fills)
        for d, f in sorted(ledger.days.items())
        if d != today
    ]
    flows = ledger.day(today)
    rows.append(
        DayPnl(
            day=today,
            realised=flows.realised,
            fees=flows.fees,
            unrealised=unrealised,
            fills=flows.fills,
        )
    )
    return tuple(sorted(rows, key=lambda r: r.day))
