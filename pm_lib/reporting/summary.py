"""Markdown a person reads in the Prefect UI: the run summary and the daily P&L report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from pm_lib.reporting.tables import money

__all__ = ["DailyPnl", "RunSummary", "daily_report_markdown", "pnl_bar_chart", "summary_markdown"]

_BAR_WIDTH = 30


class RunSummary(BaseModel):
    """The figures one scan_and_trade run reports."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    mode: str
    markets: int
    books: int
    books_missing: int = 0
    skipped: int = 0
    opportunities: int
    approved: int
    orders: int
    filled_orders: int = 0
    catalogue_refresh: str = "none"  # none / incremental / full (pm_lib.pipeline.market_data)
    catalogue_requests: int = 0
    stage_seconds: dict[str, Decimal] = Field(default_factory=dict)
    pnl_today: Decimal = Decimal(0)
    exposure: Decimal = Decimal(0)
    open_orders: int = 0
    halted: bool = False
    halted_reason: str = ""
    requests: int = 0
    rate_limited: int = 0

    @property
    def catalogue_refreshed(self) -> bool:
        """Whether the run fetched anything from Gamma (an incremental or a full refresh)."""
        return self.catalogue_refresh != "none"


class DailyPnl(BaseModel):
    """One UTC day of the ledger."""

    model_config = ConfigDict(frozen=True)

    day: date
    realised: Decimal
    fees: Decimal
    unrealised: Decimal = Decimal(0)
    fills: int = 0

    @property
    def net(self) -> Decimal:
        return self.realised - self.fees + self.unrealised


def _catalogue_line(s: RunSummary) -> str:
    if not s.catalogue_refreshed:
        return "from cache"
    return f"refreshed from Gamma ({s.catalogue_refresh}, {s.catalogue_requests} requests)"


def summary_markdown(s: RunSummary) -> str:
    """The run summary: what was scanned, decided and traded, how long each stage took."""
    state = f"HALTED ({s.halted_reason})" if s.halted else "trading enabled"
    lines = [
        f"# pm-agent scan `{s.run_id}` ({s.mode})",
        "",
        "| what | value |",
        "|---|---|",
        f"| markets scanned | {s.markets} |",
        f"| books fetched | {s.books} (missing {s.books_missing}, bad data skipped {s.skipped}) |",
        f"| catalogue | {_catalogue_line(s)} |",
        f"| opportunities | {s.opportunities} |",
        f"| approved by risk | {s.approved} |",
        f"| orders placed | {s.orders} (filled {s.filled_orders}) |",
        f"| P&L today (pUSD) | {money(s.pnl_today, 2)} |",
        f"| exposure (pUSD) | {money(s.exposure, 2)} |",
        f"| open orders | {s.open_orders} |",
        f"| kill switch | {state} |",
        f"| HTTP requests | {s.requests} (429s: {s.rate_limited}) |",
    ]
    if s.stage_seconds:
        total = sum(s.stage_seconds.values(), Decimal(0))
        lines += ["", "| stage | seconds | share |", "|---|---|---|"]
        for stage, secs in s.stage_seconds.items():
            share = (secs / total * 100) if total else Decimal(0)
            lines.append(f"| {stage} | {money(secs, 3)} | {money(share, 1)}% |")
        lines.append(f"| **total** | **{money(total, 3)}** | |")
    return "\n".join(lines)


def pnl_bar_chart(days: Sequence[DailyPnl]) -> str:
    """A text bar chart of net P&L per day: green-right for gains, red-left for losses."""
    if not days:
        return "_no fills yet_"
    peak = max((abs(d.net) for d in days), default=Decimal(0)) or Decimal(1)
    out = []
    for d in days:
        width = int((abs(d.net) / peak * _BAR_WIDTH).to_integral_value())
        bar = ("🟩" if d.net >= 0 else "🟥") * max(width // 3, 1 if d.net else 0)
        out.append(f"{d.day.isoformat()} {money(d.net, 2):>10} {bar}")
    return "```\n" + "\n".join(out) + "\n```"


def daily_report_markdown(days: Sequence[DailyPnl], *, mode: str, positions: int) -> str:
    """The daily report: a P&L table per UTC day, the cumulative figure and a chart."""
    lines = [f"# pm-agent daily report ({mode})", ""]
    lines += [
        "| day (UTC) | fills | realised | fees | unrealised | net | cumulative |",
        "|---|---|---|---|---|---|---|",
    ]
    cumulative = Decimal(0)
    for d in days:
        cumulative += d.net
        lines.append(
            f"| {d.day.isoformat()} | {d.fills} | {money(d.realised, 2)} | {money(d.fees, 2)}"
            f" | {money(d.unrealised, 2)} | {money(d.net, 2)} | {money(cumulative, 2)} |"
        )
    lines += ["", f"Open positions: {positions}", "", "## Net P&L by day", pnl_bar_chart(days)]
    return "\n".join(lines)
