"""The daily report's figures, from ``pm_lib.portfolio``: P&L per UTC day (unrealised on today's
row), the open positions valued by the one marking rule, cash and equity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from pm_lib.portfolio import Portfolio, read_portfolio
from pm_lib.reporting.summary import DailyReport
from pm_lib.settings import Settings
from pm_lib.store.catalogue import load_catalogue
from pm_lib.store.engine import session_scope
from pm_lib.store.rows import Mode

__all__ = ["build_daily_report", "daily_report_of", "stored_portfolio"]


def stored_portfolio(engine: Engine, mode: Mode, now: datetime, settings: Settings) -> Portfolio:
    """The account as the store knows it at ``now``: no books, so every position is valued at
    its last trusted mark (the one a scan took), sets found in the stored catalogue. Reads only."""
    with session_scope(engine, read_only=True) as session:
        catalogue = load_catalogue(session)
        return read_portfolio(
            session,
            mode,
            now,
            settings,
            markets=catalogue.market_by_condition() if catalogue is not None else None,
            events=catalogue.events if catalogue is not None else (),
        )


def daily_report_of(portfolio: Portfolio) -> DailyReport:
    """The daily report of one portfolio."""
    return DailyReport(
        mode=portfolio.mode,
        as_of=portfolio.as_of,
        days=portfolio.days,
        positions=portfolio.valuation.positions,
        cash=portfolio.cash,
        cash_source=portfolio.cash_source,
        daily_loss_tripped_at=portfolio.breaker.tripped_at if portfolio.breaker else None,
    )


def build_daily_report(
    engine: Engine, mode: Mode, now: datetime, settings: Settings
) -> DailyReport:
    """The report of ``mode`` at ``now`` from what ``engine`` stores."""
    return daily_report_of(stored_portfolio(engine, mode, now, settings))
