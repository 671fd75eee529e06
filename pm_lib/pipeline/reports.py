"""What the account reports, from ``pm_lib.portfolio``: the daily report (P&L per UTC day,
unrealised on today's row, the open positions valued by the one marking rule, cash and equity)
and the account status (``pm-agent status`` and the ``account-status`` artifact)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from pm_lib.models import Catalogue
from pm_lib.portfolio import Portfolio, read_portfolio
from pm_lib.reporting.labels import MarketLabels, read_labels
from pm_lib.reporting.status import account_status
from pm_lib.reporting.summary import DailyReport
from pm_lib.settings import Settings
from pm_lib.store.catalogue import load_catalogue
from pm_lib.store.engine import session_scope
from pm_lib.store.orders import open_intents
from pm_lib.store.rows import Mode
from pm_lib.store.runs import recent_runs

__all__ = [
    "build_daily_report",
    "daily_report_of",
    "position_labels",
    "read_account_status",
    "stored_portfolio",
]


def _portfolio(
    session: Session, mode: Mode, now: datetime, settings: Settings, catalogue: Catalogue | None
) -> Portfolio:
    return read_portfolio(
        session,
        mode,
        now,
        settings,
        markets=catalogue.market_by_condition() if catalogue is not None else None,
        events=catalogue.events if catalogue is not None else (),
    )


def stored_portfolio(engine: Engine, mode: Mode, now: datetime, settings: Settings) -> Portfolio:
    """The account as the store knows it at ``now``: no books, so every position is valued at
    its last trusted mark (the one a scan took), sets found in the stored catalogue. Reads only."""
    with session_scope(engine, read_only=True) as session:
        return _portfolio(session, mode, now, settings, load_catalogue(session))


def position_labels(engine: Engine, portfolio: Portfolio) -> MarketLabels:
    """The labels of the markets ``portfolio`` holds, from the stored catalogue."""
    conditions = [v.condition_id for v in portfolio.valuation.positions]
    with session_scope(engine, read_only=True) as session:
        return read_labels(session, condition_ids=conditions)


def read_account_status(
    engine: Engine,
    mode: Mode,
    now: datetime,
    settings: Settings,
    catalogue: Catalogue | None = None,
) -> tuple[dict[str, Any], MarketLabels]:
    """``pm-agent status`` of ``mode`` at ``now`` (``pm_lib.reporting.status``) and the labels of
    its markets. Positions at their last trusted marks; ``catalogue``: the scan's, in memory (a
    flow's artifact), else the stored one is loaded (the CLI). Reads only."""
    with session_scope(engine, read_only=True) as session:
        if catalogue is None:
            catalogue = load_catalogue(session)
        portfolio = _portfolio(session, mode, now, settings, catalogue)
        resting = open_intents(session, mode)
        runs = recent_runs(session, limit=1)
        conditions = [v.condition_id for v in portfolio.valuation.positions]
        labels = read_labels(session, condition_ids=conditions + [o.condition_id for o in resting])
    status = account_status(
        portfolio, labels, open_orders=resting, last_run=runs[0] if runs else None
    )
    return status, labels


def daily_report_of(portfolio: Portfolio, labels: MarketLabels | None = None) -> DailyReport:
    """The daily report of one portfolio, its positions named by ``labels``."""
    names = {}
    if labels is not None:
        names = {
            v.token_id: labels.token(v.token_id, v.condition_id).text
            for v in portfolio.valuation.positions
        }
    return DailyReport(
        mode=portfolio.mode,
        as_of=portfolio.as_of,
        days=portfolio.days,
        positions=portfolio.valuation.positions,
        cash=portfolio.cash,
        cash_source=portfolio.cash_source,
        daily_loss_tripped_at=portfolio.breaker.tripped_at if portfolio.breaker else None,
        market_names=names,
    )


def build_daily_report(
    engine: Engine, mode: Mode, now: datetime, settings: Settings
) -> DailyReport:
    """The report of ``mode`` at ``now`` from what ``engine`` stores, markets named."""
    portfolio = stored_portfolio(engine, mode, now, settings)
    return daily_report_of(portfolio, position_labels(engine, portfolio))
