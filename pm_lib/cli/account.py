"""``pm-agent orders | positions | pnl | halt | resume``: the stored account and kill switch."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from pm_lib.pipeline.reports import daily_report_of, stored_portfolio
from pm_lib.portfolio import Portfolio
from pm_lib.reporting.summary import daily_report_markdown
from pm_lib.reporting.tables import plain_decimal
from pm_lib.settings import Settings
from pm_lib.store.control import halt as store_halt
from pm_lib.store.control import is_halted
from pm_lib.store.control import resume as store_resume
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.orders import intents_by_status, open_intents
from pm_lib.store.rows import Mode

__all__ = ["register"]

console = Console()

ModeOption = Annotated[str, typer.Option(help="Which book of record: paper or live.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (numbers as strings).")]


def _engine() -> Engine:
    engine = make_engine(Settings().resolved_database_url)
    upgrade(engine)
    return engine


def _emit(rows: list[dict[str, Any]], title: str, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print(f"{title}: none")
        return
    table = Table(*rows[0].keys(), title=title)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


def orders(
    mode: ModeOption = "paper",
    open_only: Annotated[bool, typer.Option("--open", help="Only orders still resting.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The stored orders (intents) and what became of them."""
    from pm_lib.models import OrderStatus

    with session_scope(_engine()) as session:
        rows = (
            open_intents(session, mode)  # type: ignore[arg-type]
            if open_only
            else intents_by_status(session, list(OrderStatus), mode)  # type: ignore[arg-type]
        )
    out = [
        {
            "intent_key": r.intent_key,
            "venue_order_id": r.venue_order_id or "",
            "token_id": r.token_id,
            "side": str(r.side),
            "size": plain_decimal(r.size),
            "price": plain_decimal(r.price),
            "order_type": str(r.order_type),
            "status": str(r.status),
            "filled_size": plain_decimal(r.filled_size),
            "avg_price": plain_decimal(r.avg_price),
            "fee": plain_decimal(r.fee),
            "created_at": r.created_at.isoformat(timespec="seconds"),
        }
        for r in rows
    ]
    _emit(out, f"{mode} orders", as_json)


def _portfolio(mode: str) -> Portfolio:
    """The stored account now (positions at their last trusted marks; reads only)."""
    if mode not in ("paper", "live"):
        raise typer.BadParameter(f"--mode must be paper or live, not {mode!r}")
    chosen: Mode = "live" if mode == "live" else "paper"
    return stored_portfolio(_engine(), chosen, datetime.now(UTC), Settings())


def positions(mode: ModeOption = "paper", as_json: JsonOption = False) -> None:
    """Positions from the stored fills (average cost, realised P&L, fees) valued by the
    portfolio's marking rule (executable bids after fees, as of the last scan's marks)."""
    portfolio = _portfolio(mode)
    valued = {v.token_id: v for v in portfolio.valuation.positions}
    out = []
    for p in portfolio.ledger.positions.values():
        if p.size == 0 and p.realised_pnl == 0:
            continue
        v = valued.get(p.token_id)
        out.append(
            {
                "token_id": p.token_id,
                "condition_id": p.condition_id,
                "size": plain_decimal(p.size),
                "avg_price": plain_decimal(p.avg_price),
                "realised_pnl": plain_decimal(p.realised_pnl),
                "fees_paid": plain_decimal(p.fees_paid),
                "value": plain_decimal(v.value) if v else "0",
                "unrealised_pnl": plain_decimal(v.unrealised) if v else "0",
                "marked_from": _marked_from(v.source, v.marked_at) if v else "",
            }
        )
    cash = "unknown" if portfolio.cash is None else plain_decimal(portfolio.cash)
    equity = "unknown" if portfolio.equity is None else plain_decimal(portfolio.equity)
    _emit(out, f"{mode} positions (cash {cash} pUSD, equity {equity} pUSD)", as_json)


def _marked_from(source: str, at: datetime | None) -> str:
    return source if at is None else f"{source} {at.isoformat(timespec='seconds')}"


def pnl(mode: ModeOption = "paper", as_json: JsonOption = False) -> None:
    """P&L per UTC day: realised and fees from the fills, today's row with the open positions'
    unrealised P&L at their last trusted marks (the figure the risk gate uses)."""
    report = daily_report_of(_portfolio(mode))
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "day": d.day.isoformat(),
                        "fills": d.fills,
                        "realised": plain_decimal(d.realised),
                        "fees": plain_decimal(d.fees),
                        "unrealised": plain_decimal(d.unrealised),
                        "net": plain_decimal(d.net),
                    }
                    for d in report.days
                ],
                indent=2,
            )
        )
        return
    console.print(daily_report_markdown(report))


def halt(
    reason: Annotated[str, typer.Option(help="Why (stored with the flag).")] = "manual halt",
    cancel_orders: Annotated[
        bool, typer.Option("--cancel-orders", help="Also cancel resting orders now.")
    ] = False,
) -> None:
    """Kill switch on: the risk gate rejects every new order until `pm-agent resume`."""
    settings = Settings()
    engine = _engine()
    with session_scope(engine) as session:
        store_halt(session, reason, "cli")
    _mirror_to_prefect(True, reason)
    console.print(f"[bold red]HALTED[/]: {reason}")
    if cancel_orders:
        from pm_lib.execution.factory import make_executor

        executor = make_executor(settings, live_armed=settings.mode == "live", engine=engine)
        try:
            cancelled = executor.cancel_all()
        finally:
            executor.close()
        console.print(f"cancelled {len(cancelled)} resting {executor.mode} order(s)")


def resume(
    reason: Annotated[str, typer.Option(help="Why (stored with the flag).")] = "manual resume",
) -> None:
    """Kill switch off: the next run may trade again."""
    with session_scope(_engine()) as session:
        store_resume(session, reason, "cli")
        halted, _ = is_halted(session)
    _mirror_to_prefect(False, reason)
    console.print("trading enabled" if not halted else "still halted?")


def _mirror_to_prefect(halted: bool, reason: str) -> None:
    """Show the flag in the Prefect UI switch (Variable ``pm_agent_halted``) when a Prefect API
    is configured (PREFECT_API_URL). The DB flag is the one the checks read; a Variable left
    stale by a failed write can only halt again (``pm_lib.store.control.apply_switch``)."""
    import os

    if not os.environ.get("PREFECT_API_URL"):
        return
    from flows.alerts import HALTED, RESUMED, emit
    from flows.runtime import write_switch

    try:
        write_switch(halted, reason)
        emit(HALTED if halted else RESUMED, Settings().mode, {"reason": reason, "by": "cli"})
    except Exception as e:  # the DB flag is set; say what the UI will show
        console.print(
            f"[yellow]note[/]: could not update the Prefect Variable pm_agent_halted: {e}"
        )
        if not halted:
            console.print(
                "[yellow]note[/]: set it to false in the Prefect UI, or the next run halts again"
            )


def register(app: typer.Typer) -> None:
    """Add the account and kill-switch commands to the ``pm-agent`` app."""
    for command in (orders, positions, pnl, halt, resume):
        app.command()(command)
