"""The account at a glance (``pm-agent status``; the Prefect status artifact can reuse it).

``account_status`` turns one ``pm_lib.portfolio.Portfolio`` (read only) into a JSON-ready dict:
mode, the kill switch and why, cash, equity, realised and unrealised P&L today and in total, the
open positions with their marks and market labels, the resting orders and the last run. Numbers
are decimal strings (``plain_decimal``), never floats. ``equity == cash + positions_value``
exactly: both come from the portfolio's one marking rule (``pm_lib.portfolio.marks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pm_lib.reporting.labels import MarketLabels
from pm_lib.reporting.tables import plain_decimal

if TYPE_CHECKING:
    from pm_lib.portfolio import Portfolio
    from pm_lib.store.rows import OrderIntentRow, RunRow

__all__ = ["account_status", "status_markdown"]

ZERO = Decimal(0)


def _money(value: Decimal | None) -> str | None:
    return None if value is None else plain_decimal(value)


def account_status(
    portfolio: Portfolio,
    labels: MarketLabels,
    *,
    open_orders: Sequence[OrderIntentRow] = (),
    last_run: RunRow | None = None,
) -> dict[str, Any]:
    """The status of ``portfolio`` (module doc); ``labels`` name its markets."""
    today = portfolio.today
    ledger_positions = portfolio.ledger.positions
    positions = []
    for v in portfolio.valuation.positions:
        held = ledger_positions.get(v.token_id)
        label = labels.token(v.token_id, v.condition_id)
        positions.append(
            {
                "token_id": v.token_id,
                "condition_id": v.condition_id,
                **label.as_json(),
                "size": plain_decimal(v.size),
                "avg_price": plain_decimal(held.avg_price if held else ZERO),
                "mark": plain_decimal(v.value / v.size) if v.size else "0",
                "value": plain_decimal(v.value),
                "cost": plain_decimal(v.cost),
                "unrealized_pnl": plain_decimal(v.unrealised),
                "marked_from": v.source,
                "marked_at": v.marked_at.isoformat(timespec="seconds") if v.marked_at else None,
            }
        )
    positions.sort(key=lambda p: (p["event_title"], p["question"], p["outcome"]))
    realised = sum((p.realised_pnl for p in ledger_positions.values()), ZERO)
    fees = sum((p.fees_paid for p in ledger_positions.values()), ZERO)
    unrealised = portfolio.valuation.unrealised
    breaker = portfolio.breaker
    return {
        "mode": portfolio.mode,
        "as_of": portfolio.as_of.isoformat(timespec="seconds"),
        "halted": portfolio.halted,
        "halted_reason": portfolio.halted_reason if portfolio.halted else "",
        "daily_loss_tripped_at": (
            breaker.tripped_at.isoformat(timespec="seconds") if breaker else None
        ),
        "cash": _money(portfolio.cash),
        "cash_source": portfolio.cash_source,
        "positions_value": plain_decimal(portfolio.valuation.value),
        "equity": _money(portfolio.equity),
        "unrealized_pnl": plain_decimal(unrealised),
        "realized_pnl": plain_decimal(realised),
        "fees": plain_decimal(fees),
        "today": {
            "day": today.day.isoformat(),
            "realized_pnl": plain_decimal(today.realised),
            "fees": plain_decimal(today.fees),
            "unrealized_pnl": plain_decimal(today.unrealised),
            "net_pnl": plain_decimal(today.net),
            "fills": today.fills,
        },
        "total": {
            "realized_pnl": plain_decimal(realised),
            "fees": plain_decimal(fees),
            "unrealized_pnl": plain_decimal(unrealised),
            "net_pnl": plain_decimal(realised - fees + unrealised),
        },
        "positions": positions,
        "open_orders": [
            {
                "intent_key": o.intent_key,
                "token_id": o.token_id,
                **labels.token(o.token_id, o.condition_id).as_json(),
                "side": str(o.side),
                "size": plain_decimal(o.size),
                "price": plain_decimal(o.price),
                "filled_size": plain_decimal(o.filled_size),
                "status": str(o.status),
            }
            for o in open_orders
        ],
        "last_run": None
        if last_run is None
        else {
            "run_id": last_run.id,
            "flow_name": last_run.flow_name,
            "mode": last_run.mode,
            "status": str(last_run.status),
            "started_at": last_run.started_at.isoformat(timespec="seconds"),
            "finished_at": (
                last_run.finished_at.isoformat(timespec="seconds") if last_run.finished_at else None
            ),
            "opportunities": last_run.opportunities,
            "approved": last_run.approved,
            "orders": last_run.orders,
            "error": last_run.error,
        },
    }


def _cents(amount: str | None) -> str:
    """A pUSD amount of the status (a decimal string) as a person reads it: 2 decimals."""
    return "unknown" if amount is None else plain_decimal(Decimal(amount), 2)


def _price(price: str) -> str:
    """A price or mark per share: 4 decimals (the tick is at least 0.001)."""
    return plain_decimal(Decimal(price), 4)


def _when(iso: str) -> str:
    """``2026-12-05T17:08:02+00:00`` as ``2026-12-05 17:08 UTC`` (the status is in UTC)."""
    return f"{iso[:10]} {iso[11:16]} UTC"


def status_markdown(status: dict[str, Any]) -> str:
    """``account_status`` as the markdown of the run's ``account-status`` artifact: where the
    account stands, the open positions with their marks (linked to their market pages).
    Amounts are shown to the cent and prices to 4 decimals (the exact figures: ``--json``)."""
    switch = f"**HALTED**: {status['halted_reason']}" if status["halted"] else "trading"
    if status["daily_loss_tripped_at"]:
        switch += f"; daily-loss breaker tripped at {_when(status['daily_loss_tripped_at'])}"
    today, total = status["today"], status["total"]
    lines = [
        f"# Account ({status['mode']}), {_when(status['as_of'])}",
        "",
        f"Kill switch: {switch}",
        "",
        "| cash | positions | equity | P&L today | realised today | fees today | unrealised "
        "| P&L total |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {_cents(status['cash'])} | {_cents(status['positions_value'])} | "
        f"{_cents(status['equity'])} | {_cents(today['net_pnl'])} | "
        f"{_cents(today['realized_pnl'])} | {_cents(today['fees'])} | "
        f"{_cents(today['unrealized_pnl'])} | {_cents(total['net_pnl'])} |",
        "",
        "P&L today = realised today - fees today + unrealised (value now - cost of the open "
        "positions).",
        "",
        f"Cash: {status['cash_source']}. Positions are marked at what they could be sold for "
        "now (executable bids after fees; complete sets at 1 a set; resolved markets at payout).",
        "",
    ]
    if status["positions"]:
        lines += [
            "| market | held @ avg price | mark | value | unrealised |",
            "|---|---:|---:|---:|---:|",
        ]
        for p in status["positions"]:
            name = f"{p['question']} - {p['outcome']}" if p["outcome"] else p["question"]
            name = name.replace("|", "/")
            market = f"[{name}]({p['url']})" if p["url"] else name
            lines.append(
                f"| {market} | {_cents(p['size'])} @ {_price(p['avg_price'])} | "
                f"{_price(p['mark'])} | {_cents(p['value'])} | {_cents(p['unrealized_pnl'])} |"
            )
    else:
        lines.append("No open positions.")
    lines += ["", f"Resting orders: {len(status['open_orders'])}."]
    return "\n".join(lines) + "\n"
