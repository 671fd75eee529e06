"""``pm-agent settle [--live] [--json]``: redeem the positions of resolved markets.

Paper: every position in a resolved market is redeemed at its payout (journalled, applied once;
``pm_lib.settlement``). Live: what would be redeemed is shown, then refused in one line (exit 1):
pm-agent does not redeem on chain yet.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer
from rich.console import Console

from pm_lib.cli.options import JsonOption

__all__ = ["register"]

console = Console()


def settle(
    live: Annotated[
        bool, typer.Option("--live", help="The live account: report what would be redeemed.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Redeem positions of resolved markets at their payout (paper; live only reports)."""
    import asyncio
    from datetime import UTC, datetime

    from pm_lib.reporting.tables import plain_decimal
    from pm_lib.settings import Settings
    from pm_lib.settlement import report_json
    from pm_lib.settlement import settle as run_settle
    from pm_lib.store.engine import make_engine, upgrade

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    mode: Literal["paper", "live"] = "live" if live else "paper"
    report = asyncio.run(run_settle(engine, settings, mode, datetime.now(UTC)))
    body = report_json(report)
    if as_json:
        typer.echo(json.dumps(body, indent=2))
    else:
        for r in body["resolved"]:
            console.print(f"resolved {r['condition_id']}: {r['winning_outcome'] or 'no winner'}")
        rows = body["settled"] or body["unsettled"]
        verb = "settled" if body["settled"] else "would redeem"
        for s in rows:
            console.print(
                f"{verb} {s['size']} x {s['token_id']} at {s['payout']}: proceeds "
                f"{s['proceeds']}, realised {s['realised']} pUSD"
            )
        for line in body["skipped"] + body["notes"]:
            console.print(f"[yellow]{line}[/]")
        if not rows:
            console.print(f"{mode}: nothing to settle")
        elif report.settled:
            console.print(
                f"{mode}: {len(report.settled)} settled, proceeds "
                f"{plain_decimal(report.proceeds)} pUSD, realised "
                f"{plain_decimal(report.realised)} pUSD"
            )
    if report.refused:
        typer.echo(f"refused: {report.refused}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``settle`` to the ``pm-agent`` app."""
    app.command()(settle)
