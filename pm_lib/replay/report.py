"""What a backtest reports: opportunities (seen, approved, filled, missed and why), fills, fees,
P&L (settlement included) and the equity curve; as JSON (decimal strings), a table and an SVG.

Figures come from the one portfolio (``pm_lib.portfolio.read_portfolio``) at the end of the
replay: ``realized_pnl`` is the ledger's realised P&L (settlement included) net of every fee,
``unrealized_pnl`` the open positions' marks against cost, ``equity_end`` the cash plus the
marked value of what is held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pm_lib.models import ZERO, Fill, Opportunity
from pm_lib.portfolio.account import Portfolio

__all__ = ["BacktestResult", "FillRecord", "OpportunityRecord", "decimal_text", "equity_svg"]


def decimal_text(value: Decimal) -> str:
    """An exact decimal string without trailing zeros or exponent ("50", "0.099")."""
    return format(value.normalize(), "f") if value else "0"


@dataclass(frozen=True)
class OpportunityRecord:
    ts_ms: int
    id: str
    strategy: str
    market: str
    edge: Decimal
    outcome: str  # filled | missed | rejected
    reason: str  # "" (filled), latency, depth, "risk: <rule>", "execute: <why>"
    detail: str = ""  # the risk gate's or venue's words

    @classmethod
    def of(
        cls, opp: Opportunity, ts_ms: int, outcome: str, reason: str, detail: str = ""
    ) -> OpportunityRecord:
        return cls(ts_ms, opp.id, opp.strategy, opp.market, opp.edge, outcome, reason, detail)

    def to_json(self) -> dict[str, str | int]:
        return {
            "ts_ms": self.ts_ms,
            "id": self.id,
            "strategy": self.strategy,
            "market": self.market,
            "edge": decimal_text(self.edge),
            "outcome": self.outcome,
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class FillRecord:
    ts_ms: int
    token_id: str
    side: str
    size: Decimal
    price: Decimal
    fee: Decimal

    @classmethod
    def of(cls, fill: Fill, ts_ms: int) -> FillRecord:
        return cls(ts_ms, fill.token_id, fill.side.value, fill.size, fill.price, fill.fee)

    def to_json(self) -> dict[str, str | int]:
        return {
            "token_id": self.token_id,
            "side": self.side,
            "size": decimal_text(self.size),
            "price": decimal_text(self.price),
            "fee": decimal_text(self.fee),
            "ts_ms": self.ts_ms,
        }


@dataclass
class BacktestResult:
    latency_ms: int
    strategies: tuple[str, ...]
    equity_start: Decimal
    messages: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    opportunities: list[OpportunityRecord] = field(default_factory=list)
    fills: list[FillRecord] = field(default_factory=list)
    settlements: list[FillRecord] = field(default_factory=list)
    equity_curve: list[tuple[int, Decimal]] = field(default_factory=list)
    fees: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    unrealized_pnl: Decimal = ZERO
    equity_end: Decimal = ZERO
    open_positions: int = 0

    def close(self, account: Portfolio) -> None:
        positions = account.ledger.positions.values()
        self.fees = sum((p.fees_paid for p in positions), ZERO)
        self.realized_pnl = sum((p.realised_pnl for p in positions), ZERO) - self.fees
        self.unrealized_pnl = account.valuation.unrealised
        self.equity_end = account.equity if account.equity is not None else ZERO
        self.open_positions = len(account.positions)
        self.equity_curve.insert(0, (self.first_ms or 0, self.equity_start))
        if self.equity_curve[-1][1] != self.equity_end or len(self.equity_curve) == 1:
            self.equity_curve.append((self.last_ms or 0, self.equity_end))

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.opportunities if o.outcome == outcome)

    def missed_by_reason(self) -> dict[str, int]:
        reasons: dict[str, int] = {}
        for o in self.opportunities:
            if o.outcome != "filled":
                reasons[o.reason] = reasons.get(o.reason, 0) + 1
        return dict(sorted(reasons.items()))

    @property
    def edge_filled(self) -> Decimal:
        return sum((o.edge for o in self.opportunities if o.outcome == "filled"), ZERO)

    @property
    def edge_seen(self) -> Decimal:
        return sum((o.edge for o in self.opportunities), ZERO)

    def to_json(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "strategies": list(self.strategies),
            "messages": self.messages,
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "opportunities": [o.to_json() for o in self.opportunities],
            "approved": self.count("filled") + self.count("missed"),
            "filled": self.count("filled"),
            "missed": self.count("missed"),
            "rejected": self.count("rejected"),
            "missed_by_reason": self.missed_by_reason(),
            "edge_seen": decimal_text(self.edge_seen),
            "edge_filled": decimal_text(self.edge_filled),
            "fills": [f.to_json() for f in self.fills],
            "settlements": [f.to_json() for f in self.settlements],
            "fees": decimal_text(self.fees),
            "realized_pnl": decimal_text(self.realized_pnl),
            "unrealized_pnl": decimal_text(self.unrealized_pnl),
            "equity_start": decimal_text(self.equity_start),
            "equity_end": decimal_text(self.equity_end),
            "open_positions": self.open_positions,
            "equity_curve": [[t, decimal_text(v)] for t, v in self.equity_curve],
        }


def equity_svg(result: BacktestResult, width: int = 640, height: int = 240) -> str:
    """The equity curve as a small SVG line chart (step line, start to end of the replay)."""
    points = result.equity_curve or [(0, result.equity_start)]
    t0 = points[0][0]
    t1 = max(points[-1][0], t0 + 1)
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = high - low or Decimal(1)
    pad = 30

    def xy(t: int, v: Decimal) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * (t - t0) / (t1 - t0)
        y = height - pad - float((v - low) / span) * (height - 2 * pad)
        return x, y

    path: list[str] = []
    previous: tuple[float, float] | None = None
    for t, v in points:
        x, y = xy(t, v)
        if previous is not None:
            path.append(f"L{x:.1f},{previous[1]:.1f}")
        path.append(("M" if previous is None else "L") + f"{x:.1f},{y:.1f}")
        previous = (x, y)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<rect width="{width}" height="{height}" fill="white"/>'
        f'<text x="{pad}" y="18" font-size="12" font-family="sans-serif">equity (pUSD), '
        f"latency {result.latency_ms} ms: {result.equity_start} to {result.equity_end}</text>"
        f'<text x="2" y="{pad + 4}" font-size="10" font-family="sans-serif">{high}</text>'
        f'<text x="2" y="{height - pad}" font-size="10" font-family="sans-serif">{low}</text>'
        f'<path d="{" ".join(path)}" fill="none" stroke="#1f77b4" stroke-width="2"/>'
        "</svg>"
    )
