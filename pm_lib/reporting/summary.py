"""Markdown a person reads in the Prefect UI: the run summary and the daily P&L report.

Every P&L figure here comes from ``pm_lib.portfolio`` (one marking rule: executable bids after
fees, last trusted mark when a book is gone, complete sets at 1 pUSD when merging beats selling),
so the summary, the report and the risk gate agree.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from pm_lib.portfolio import DayPnl, PositionValue
from pm_lib.reporting.chart import chart_markdown
from pm_lib.reporting.tables import plain_decimal

__all__ = [
    "DailyReport",
    "RunSummary",
    "daily_report_markdown",
    "summary_markdown",
]


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
    unrealised_pnl: Decimal = Decimal(0)
    cash: Decimal = Decimal(0)
    exposure: Decimal = Decimal(0)
    daily_loss_tripped: bool = False
    open_orders: int = 0
    halted: bool = False
    halted_reason: str = ""
    requests: int = 0
    rate_limited: int = 0

    @property
    def catalogue_refreshed(self) -> bool:
        """Whether the run fetched anything from Gamma (an incremental or a full refresh)."""
        return self.catalogue_refresh != "none"


class DailyReport(BaseModel):
    """What the daily report shows: P&L per UTC day (unrealised on today's row), the open
    positions with their values, cash and equity (``pm_lib.pipeline.reports`` builds it)."""

    model_config = ConfigDict(frozen=True)

    mode: str
    as_of: datetime
    days: tuple[DayPnl, ...]
    positions: tuple[PositionValue, ...] = ()
    cash: Decimal | None = None
    cash_source: str = ""
    daily_loss_tripped_at: datetime | None = None
    # token id -> "question - outcome" (``pm_lib.reporting.labels``); a token without a name
    # is shown by its id
    market_names: dict[str, str] = Field(default_factory=dict)

    @property
    def value(self) -> Decimal:
        return sum((p.value for p in self.positions), Decimal(0))

    @property
    def equity(self) -> Decimal | None:
        return None if self.cash is None else self.cash + self.value


def _catalogue_line(s: RunSummary) -> str:
    if not s.catalogue_refreshed:
        return "from cache"
    return f"refreshed from Gamma ({s.catalogue_refresh}, {s.catalogue_requests} requests)"


def _cents(value: Decimal) -> str:
    return plain_decimal(value, 2)


def _breaker_line(s: RunSummary) -> str:
    return "TRIPPED: no new buying until the UTC day ends" if s.daily_loss_tripped else "armed"


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
        f"| P&L today (pUSD) | {plain_decimal(s.pnl_today, 2)} (unrealised "
        f"{plain_decimal(s.unrealised_pnl, 2)}; positions at executable bids after fees) |",
        f"| daily-loss breaker | {_breaker_line(s)} |",
        f"| cash (pUSD) | {plain_decimal(s.cash, 2)} |",
        f"| exposure (pUSD) | {plain_decimal(s.exposure, 2)} |",
        f"| open orders | {s.open_orders} |",
        f"| kill switch | {state} |",
        f"| HTTP requests | {s.requests} (429s: {s.rate_limited}) |",
    ]
    if s.stage_seconds:
        total = sum(s.stage_seconds.values(), Decimal(0))
        lines += ["", "| stage | seconds | share |", "|---|---|---|"]
        for stage, secs in s.stage_seconds.items():
            share = (secs / total * 100) if total else Decimal(0)
            lines.append(f"| {stage} | {plain_decimal(secs, 3)} | {plain_decimal(share, 1)}% |")
        lines.append(f"| **total** | **{plain_decimal(total, 3)}** | |")
    return "\n".join(lines)


def daily_report_markdown(report: DailyReport, *, chart: bool = False) -> str:
    """The daily report: a P&L table per UTC day, the cumulative figure, (``chart``: for the
    Prefect UI, not a terminal) the P&L chart as an embedded SVG image, then cash, equity and
    the open positions, named by their markets and valued by the portfolio's marking rule."""
    days = report.days
    lines = [f"# pm-agent daily report ({report.mode})", ""]
    lines += [
        "| day (UTC) | fills | realised | fees | unrealised | net | cumulative |",
        "|---|---|---|---|---|---|---|",
    ]
    cumulative = Decimal(0)
    for d in days:
        cumulative += d.net
        lines.append(
            f"| {d.day.isoformat()} | {d.fills} | {_cents(d.realised)} | {_cents(d.fees)}"
            f" | {_cents(d.unrealised)} | {_cents(d.net)} | {_cents(cumulative)} |"
        )
    if chart:  # above the positions, whose list can be long
        lines += ["", "## Net P&L by day", chart_markdown(days)]
    lines += ["", *_positions_markdown(report)]
    return "\n".join(lines)


def _positions_markdown(report: DailyReport) -> list[str]:
    """Open positions, their cost and value now (and where the value came from), cash, equity."""
    cash = "unknown" if report.cash is None else plain_decimal(report.cash, 2)
    equity = "unknown" if report.equity is None else plain_decimal(report.equity, 2)
    lines = [
        f"Open positions: {len(report.positions)}, worth {plain_decimal(report.value, 2)} pUSD "
        "(sold into the bids after fees; last trusted mark where the book is gone; complete "
        "sets at 1 pUSD when merging beats selling)",
        f"Cash: {cash} pUSD ({report.cash_source}); equity: {equity} pUSD",
    ]
    if report.daily_loss_tripped_at is not None:
        lines.append(
            f"Daily-loss breaker: tripped at {report.daily_loss_tripped_at.isoformat()}, "
            "no new buying until the UTC day ends"
        )
    if report.positions:
        lines += [
            "",
            "| market | size | cost | value | unrealised | marked from |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for p in sorted(report.positions, key=lambda p: _market_name(report, p.token_id)):
            source = p.source if p.marked_at is None else f"{p.source} {p.marked_at:%H:%M:%S}"
            if p.merged:
                source += f", {plain_decimal(p.merged, 2)} in complete sets"
            lines.append(
                f"| {_market_name(report, p.token_id)} | {plain_decimal(p.size, 2)} | "
                f"{plain_decimal(p.cost, 2)}"
                f" | {plain_decimal(p.value, 2)} | {plain_decimal(p.unrealised, 2)} | {source} |"
            )
    return lines


def _market_name(report: DailyReport, token_id: str) -> str:
    """The position's market as a person reads it (a markdown table cell)."""
    name = report.market_names.get(token_id) or f"token {token_id[-10:]}"
    return name.replace("|", "/")
