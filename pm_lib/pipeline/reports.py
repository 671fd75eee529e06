"""The daily report's figures: P&L per UTC day and open positions, from the stored fills."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import Engine

from pm_lib.execution.ledger import replay
from pm_lib.models import Fill
from pm_lib.reporting.summary import DailyPnl
from pm_lib.store.engine import session_scope
from pm_lib.store.trades import fills

__all__ = ["DailyReport", "build_daily_report", "daily_pnl"]


class DailyReport(BaseModel):
    """What the daily report shows."""

    model_config = ConfigDict(frozen=True)

    mode: str
    days: tuple[DailyPnl, ...]
    positions: int


def daily_pnl(all_fills: list[Fill]) -> list[DailyPnl]:
    """Realised P&L (average cost) and fees per UTC day, replaying every fill in order."""
    by_day: dict[date, int] = defaultdict(int)
    for f in all_fills:
        by_day[f.matched_at.astimezone(UTC).date()] += 1
    out = []
    for day in sorted(by_day):
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        window = replay(all_fills, window=(start, start + timedelta(days=1)))
        out.append(
            DailyPnl(
                day=day,
                realised=window.realised_in_window,
                fees=window.fees_in_window,
                fills=by_day[day],
            )
        )
    return out


def build_daily_report(engine: Engine, mode: str) -> DailyReport:
    """The report of ``mode`` from the fills stored in ``engine``."""
    with session_scope(engine) as session:
        all_fills = fills(session, mode)  # type: ignore[arg-type]
    open_positions = sum(1 for p in replay(all_fills).positions.values() if p.size != 0)
    return DailyReport(mode=mode, days=tuple(daily_pnl(all_fills)), positions=open_positions)
