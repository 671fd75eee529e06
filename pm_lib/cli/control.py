"""``pm-agent close`` and ``pm-agent alerts setup``: force-exit and Prefect alerts."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pm_lib.cli.runs import _prefect_ready, _run_flow

__all__ = ["alerts_app", "register"]

console = Console()
alerts_app = typer.Typer(name="alerts", help="Prefect automations that notify you.")


def close(
    token_id: Annotated[str | None, typer.Argument(help="The token to sell out of.")] = None,
    all_positions: Annotated[bool, typer.Option("--all", help="Close every position.")] = False,
    live: Annotated[bool, typer.Option("--live", help="Close in the live account.")] = False,
    max_loss: Annotated[
        str | None,
        typer.Option(help="pUSD the exit may lose against the average cost (PM_UNWIND_MAX_LOSS)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Sell a position (or --all) now, through the run's executor on the unwind path."""
    if bool(token_id) == all_positions:
        console.print("[bold red]refused[/]: give a TOKEN or --all (not both)")
        raise typer.Exit(2)
    _prefect_ready()
    from flows.control import close as close_flow

    out = _run_flow(
        "closing ...",
        lambda: close_flow(
            token_id=token_id, all_positions=all_positions, live=live, max_loss=max_loss
        ),
    )
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    rows = out["positions"]
    if not rows:
        console.print(f"no open {out['mode']} position")
        return
    table = Table(*rows[0].keys(), title=f"{out['mode']} close")
    for row in rows:
        table.add_row(*row.values())
    console.print(table)


@alerts_app.command("setup")
def alerts_setup(
    webhook: Annotated[
        str | None, typer.Option(help="POST alerts as JSON to this URL (a webhook block).")
    ] = None,
    block: Annotated[
        str | None,
        typer.Option(help="Use an existing notification block instead, e.g. slack-webhook/ops."),
    ] = None,
) -> None:
    """Create the shipped automations (failed run, halt, breaker, leg risk, fills) on the
    Prefect server PREFECT_API_URL points at."""
    if bool(webhook) == bool(block):
        console.print("[bold red]refused[/]: give --webhook URL or --block TYPE/NAME")
        raise typer.Exit(2)
    _prefect_ready()
    import asyncio

    from flows.alerts import setup_alerts

    names = asyncio.run(setup_alerts(webhook=webhook, block=block))
    for name in names:
        console.print(f"automation: {name}")


def register(app: typer.Typer) -> None:
    """Add ``close`` and ``alerts`` to the ``pm-agent`` app."""
    app.command()(close)
    app.add_typer(alerts_app)
