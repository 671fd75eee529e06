"""``pm-agent orders | positions | pnl | halt | resume``: the stored account and kill switch."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from pm_lib.execution.ledger import replay
from pm_lib.pipeline.reports import daily_pnl
from pm_lib.reporting.summary import daily_report_markdown
from pm_lib.reporting.tables import money
from pm_lib.settings import Settings
from pm_lib.store.control import halt as store_halt
from pm_lib.store.control import is_halted
from pm_lib.store.control import resume as store_resume
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.orders import intents_by_status, open_intents
from pm_lib.store.trades import fills

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
            "size": money(r.size),
            "price": money(r.price),
            "order_type": str(r.order_type),
            "status": str(r.status),
            "filled_size": money(r.filled_size),
            "avg_price": money(r.avg_price),
            "fee": money(r.fee),
            "created_at": r.created_at.isoformat(timespec="seconds"),
        }
        for r in rows
    ]
    _emit(out, f"{mode} orders", as_json)


def positions(mode: ModeOption = "paper", as_json: JsonOption = False) -> None:
    """Positions derived from the stored fills (average cost, realised P&L, fees)."""
    with session_scope(_engine()) as session:
        ledger = replay(fills(session, mode))  # type: ignore[arg-type]
    out = [
        {
            "token_id": p.token_id,
            "condition_id": p.condition_id,
            "size": money(p.size),
            "avg_price": money(p.avg_price),
            "realised_pnl": money(p.realised_pnl),
            "fees_paid": money(p.fees_paid),
        }
        for p in ledger.positions.values()
        if p.size != 0 or p.realised_pnl != 0
    ]
    _emit(out, f"{mode} positions (cash flow {money(ledger.cash_delta)} pUSD)", as_json)


def pnl(mode: ModeOption = "paper", as_json: JsonOption = False) -> None:
    """P&L per UTC day (realised and fees) from the stored fills."""
    with session_scope(_engine()) as session:
        all_fills = fills(session, mode)  # type: ignore[arg-type]
    days = daily_pnl(all_fills)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "day": d.day.isoformat(),
                        "fills": d.fills,
                        "realised": money(d.realised),
                        "fees": money(d.fees),
                        "net": money(d.net),
                    }
                    for d in days
                ],
                indent=2,
            )
        )
        return
    positions_open = sum(1 for p in replay(all_fills).positions.values() if p.size != 0)
    console.print(daily_report_markdown(days, mode=mode, positions=positions_open))


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
    """Best effort: mirror the flag in the Prefect Variable ``pm_agent_halted`` for the UI.

    Only when a Prefect API is configured (PREFECT_API_URL); the DB flag is what the gate reads.
    """
    import os

    if not os.environ.get("PREFECT_API_URL"):
        return
    from prefect.variables import Variable

    try:
        Variable.set(
            "pm_agent_halted", json.dumps({"halted": halted, "reason": reason}), overwrite=True
        )
    except Exception as e:  # the DB flag is authoritative; the Variable is a mirror
        console.print(f"[yellow]note[/]: could not mirror the flag to Prefect: {e}")


def register(app: typer.Typer) -> None:
    """Add the account and kill-switch commands to the ``pm-agent`` app."""
    for command in (orders, positions, pnl, halt, resume):
        app.command()(command)
