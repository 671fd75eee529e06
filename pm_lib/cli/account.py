"""``pm-agent status | orders | positions | pnl | halt | resume``: the stored account and the
kill switch. Read only except halt/resume; markets are named by ``pm_lib.reporting.labels``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pm_lib.cli.options import JsonOption, ModeChoice, ModeOption, resolve_mode
from pm_lib.cli.render import compact_table

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from pm_lib.portfolio import Portfolio
    from pm_lib.reporting.labels import MarketLabels
    from pm_lib.settings import Settings
    from pm_lib.store.rows import Mode

__all__ = ["register"]

console = Console()


def _engine(settings: Settings | None = None) -> Engine:
    from pm_lib.store.engine import make_engine, upgrade

    if settings is None:
        from pm_lib.settings import Settings

        settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return engine


def _account(mode: ModeChoice | None) -> tuple[Settings, Mode, Engine]:
    """The settings (built once: validating them is the first thing a command does, so a bad
    configuration is one line and exit 2 before the store is touched), the chosen book and
    the store."""
    from pm_lib.settings import Settings

    settings = Settings()
    chosen = resolve_mode(mode, settings)
    return settings, chosen, _engine(settings)


def _market_cell(label: Any) -> str:
    """A label as one wrapped cell: question - outcome, then the event title when it differs."""
    from rich.markup import escape

    text = escape(label.text)
    if label.event_title and label.event_title != label.question:
        text += f"\n[dim]{escape(label.event_title)}[/]"
    return text


def _labels_for(engine: Engine, condition_ids: list[str]) -> MarketLabels:
    from pm_lib.reporting.labels import read_labels
    from pm_lib.store.engine import session_scope

    with session_scope(engine, read_only=True) as session:
        return read_labels(session, condition_ids=condition_ids)


def orders(
    mode: ModeOption = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only orders still resting.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The stored orders (intents) and what became of them, with their markets."""
    from pm_lib.models import OrderStatus
    from pm_lib.reporting.tables import plain_decimal
    from pm_lib.store.engine import session_scope
    from pm_lib.store.orders import intents_by_status, open_intents

    _, chosen, engine = _account(mode)
    with session_scope(engine) as session:
        rows = (
            open_intents(session, chosen)
            if open_only
            else intents_by_status(session, list(OrderStatus), chosen)
        )
    labels = _labels_for(engine, [r.condition_id for r in rows])
    out = []
    for r in rows:
        label = labels.token(r.token_id, r.condition_id)
        out.append(
            {
                "intent_key": r.intent_key,
                "venue_order_id": r.venue_order_id or "",
                "token_id": r.token_id,
                "condition_id": r.condition_id,
                **label.as_json(),
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
        )
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    if not out:
        console.print(f"{chosen} orders: none")
        return
    table = compact_table(
        f"{chosen} orders", "created (UTC)", "market", "order", "status", "filled", "fee"
    )
    for r, o in zip(rows, out, strict=True):
        filled = o["filled_size"] + (f" @ {o['avg_price']}" if o["avg_price"] else "")
        table.add_row(
            r.created_at.strftime("%m-%d %H:%M:%S"),
            _market_cell(labels.token(r.token_id, r.condition_id)),
            f"{o['side']} {o['size']} @ {o['price']} {o['order_type']}",
            o["status"].lower(),
            filled,
            o["fee"],
        )
    console.print(table)


def _portfolio(mode: ModeChoice | None) -> tuple[Portfolio, Engine]:
    """The stored account now (positions at their last trusted marks; reads only)."""
    settings, chosen, engine = _account(mode)
    from pm_lib.pipeline.reports import stored_portfolio

    return stored_portfolio(engine, chosen, datetime.now(UTC), settings), engine


def _position_table(title: str, positions: list[dict[str, Any]], labels: MarketLabels) -> Table:
    table = compact_table(title, "market", "size", "avg", "mark", "value", "unrealised")
    for p in positions:
        table.add_row(
            _market_cell(labels.token(p["token_id"], p["condition_id"])),
            p["size"],
            p["avg_price"],
            p["mark"],
            p["value"],
            p["unrealized_pnl"],
        )
    return table


def status(mode: ModeOption = None, as_json: JsonOption = False) -> None:
    """Where the account stands: mode, kill switch, cash, equity, P&L today and in total,
    open positions at their marks, resting orders and the last run."""
    settings, chosen, engine = _account(mode)
    from pm_lib.pipeline.reports import read_account_status

    out, labels = read_account_status(engine, chosen, datetime.now(UTC), settings)
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    _print_status(out, labels)


def _print_status(out: dict[str, Any], labels: MarketLabels) -> None:
    halted = (
        f"[bold red]HALTED[/] ({out['halted_reason']})" if out["halted"] else "[green]trading[/]"
    )
    console.print(f"[bold]{out['mode']}[/] account as of {out['as_of']}: {halted}")
    if out["daily_loss_tripped_at"]:
        console.print(f"[red]daily loss limit tripped at {out['daily_loss_tripped_at']}[/]")
    console.print(
        f"cash {out['cash'] or 'unknown'} pUSD ({out['cash_source']}) + positions "
        f"{out['positions_value']} = equity [bold]{out['equity'] or 'unknown'}[/] pUSD"
    )
    today, total = out["today"], out["total"]
    pnl = compact_table(None, "P&L (pUSD)", "realised", "fees", "unrealised", "net")
    pnl.add_row(
        f"today {today['day']}",
        today["realized_pnl"],
        today["fees"],
        today["unrealized_pnl"],
        today["net_pnl"],
    )
    pnl.add_row(
        "total", total["realized_pnl"], total["fees"], total["unrealized_pnl"], total["net_pnl"]
    )
    console.print(pnl)
    if out["positions"]:
        console.print(_position_table("open positions", out["positions"], labels))
    else:
        console.print("open positions: none")
    orders_open = out["open_orders"]
    console.print(f"resting orders: {len(orders_open)}" if orders_open else "resting orders: none")
    for o in orders_open:
        console.print(
            f"  {o['side']} {o['size']} @ {o['price']} {o['status'].lower()}: "
            f"{labels.token(o['token_id']).text}"
        )
    run = out["last_run"]
    if run is None:
        console.print("last run: none yet (`pm-agent scan`)")
    else:
        line = (
            f"last run: {run['flow_name']} {run['run_id'][:12]} {run['status'].lower()} at "
            f"{run['started_at']} ({run['mode']}): {run['opportunities']} opportunities, "
            f"{run['approved']} approved, {run['orders']} orders"
        )
        console.print(line + (f"; error: {run['error']}" if run["error"] else ""))


def positions(mode: ModeOption = None, as_json: JsonOption = False) -> None:
    """Positions from the stored fills (average cost, realised P&L, fees) valued by the
    portfolio's marking rule (executable bids after fees, as of the last scan's marks)."""
    from pm_lib.reporting.labels import read_labels
    from pm_lib.reporting.tables import plain_decimal
    from pm_lib.store.engine import session_scope

    portfolio, engine = _portfolio(mode)
    valued = {v.token_id: v for v in portfolio.valuation.positions}
    held = [
        p for p in portfolio.ledger.positions.values() if not (p.size == 0 and p.realised_pnl == 0)
    ]
    with session_scope(engine, read_only=True) as session:
        labels = read_labels(session, condition_ids=[p.condition_id for p in held])
    out = []
    for p in held:
        v = valued.get(p.token_id)
        out.append(
            {
                "token_id": p.token_id,
                "condition_id": p.condition_id,
                **labels.token(p.token_id, p.condition_id).as_json(),
                "size": plain_decimal(p.size),
                "avg_price": plain_decimal(p.avg_price),
                "realised_pnl": plain_decimal(p.realised_pnl),
                "fees_paid": plain_decimal(p.fees_paid),
                "mark": plain_decimal(v.value / v.size) if v and v.size else "0",
                "value": plain_decimal(v.value) if v else "0",
                "unrealised_pnl": plain_decimal(v.unrealised) if v else "0",
                "marked_from": _marked_from(v.source, v.marked_at) if v else "",
            }
        )
    cash = "unknown" if portfolio.cash is None else plain_decimal(portfolio.cash)
    equity = "unknown" if portfolio.equity is None else plain_decimal(portfolio.equity)
    title = f"{portfolio.mode} positions (cash {cash} pUSD, equity {equity} pUSD)"
    if as_json:
        typer.echo(json.dumps(out, indent=2))
    elif not out:
        console.print(f"{title}: none")
    else:
        table = compact_table(
            title, "market", "size", "avg", "mark", "value", "unrealised", "realised", "fees"
        )
        for row in out:
            table.add_row(
                _market_cell(labels.token(row["token_id"], row["condition_id"])),
                row["size"],
                row["avg_price"],
                row["mark"],
                row["value"],
                row["unrealised_pnl"],
                row["realised_pnl"],
                row["fees_paid"],
            )
        console.print(table)


def _marked_from(source: str, at: datetime | None) -> str:
    return source if at is None else f"{source} {at.isoformat(timespec='seconds')}"


def pnl(mode: ModeOption = None, as_json: JsonOption = False) -> None:
    """P&L per UTC day: realised and fees from the fills, today's row with the open positions'
    unrealised P&L at their last trusted marks (the figure the risk gate uses)."""
    from pm_lib.pipeline.reports import daily_report_of, position_labels
    from pm_lib.reporting.summary import daily_report_markdown
    from pm_lib.reporting.tables import plain_decimal

    portfolio, engine = _portfolio(mode)
    report = daily_report_of(portfolio, None if as_json else position_labels(engine, portfolio))
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
    from pm_lib.settings import Settings
    from pm_lib.store.control import halt as store_halt
    from pm_lib.store.engine import session_scope

    settings = Settings()
    engine = _engine(settings)
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
    from pm_lib.store.control import is_halted
    from pm_lib.store.control import resume as store_resume
    from pm_lib.store.engine import session_scope

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
    from pm_lib.settings import Settings

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
    for command in (status, orders, positions, pnl, halt, resume):
        app.command()(command)
