"""``pm-agent settle [--live] [--json]``: collect what resolved and merge complete sets.

Paper: every position in a resolved market is redeemed at its payout (journalled, applied once;
``pm_lib.settlement``). Live (armed like live trading: ``PM_MODE=live`` and ``--live``, with the
wallet's credentials): complete YES+NO sets are merged into pUSD and resolved positions redeemed
on chain through the SDK, each action journalled like an order; the wallet's on-chain balances
are then reconciled with the ledger. Exit 1 when an action failed or the wallet differs from the
ledger.
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
        bool,
        typer.Option(
            "--live", help="The live wallet: merge and redeem on chain (needs PM_MODE=live)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Redeem resolved positions at their payout and merge complete sets (paper or live)."""
    import asyncio
    from datetime import UTC, datetime

    from pm_lib.errors import ConfigurationError
    from pm_lib.execution.factory import run_credentials
    from pm_lib.reporting.labels import read_labels
    from pm_lib.reporting.tables import plain_decimal
    from pm_lib.settings import Settings
    from pm_lib.settlement import report_json
    from pm_lib.settlement import settle as run_settle
    from pm_lib.store.engine import make_engine, session_scope, upgrade

    settings = Settings()
    try:
        credentials = run_credentials(settings, live_armed=live)
    except ConfigurationError as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(1) from None
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    mode: Literal["paper", "live"] = "live" if live else "paper"
    report = asyncio.run(
        run_settle(engine, settings, mode, datetime.now(UTC), credentials=credentials)
    )
    body = report_json(report)
    if as_json:
        typer.echo(json.dumps(body, indent=2))
    else:
        conditions = {r["condition_id"] for r in body["resolved"]}
        conditions |= {a["condition_id"] for k in ("applied", "open", "failed") for a in body[k]}
        with session_scope(engine) as session:
            labels = read_labels(session, condition_ids=conditions)
        for r in body["resolved"]:
            name = labels.market(r["condition_id"]).text
            console.print(f"resolved {name}: {r['winning_outcome'] or 'no winner'}")
        for s in body["settled"]:
            console.print(
                f"settled {s['size']} x {s['token_id']} at {s['payout']}: proceeds "
                f"{s['proceeds']}, realised {s['realised']} pUSD"
            )
        for key, verb in (("applied", "done"), ("open", "OPEN"), ("failed", "FAILED")):
            for a in body[key]:
                name = labels.market(a["condition_id"]).text
                console.print(
                    f"{a['kind']} {name} {verb}: proceeds {a['proceeds']}, realised "
                    f"{a['realised']} pUSD ({a['tx_hash'] or a['relayer_tx_id'] or 'no tx'}"
                    f"{', ' + a['detail'] if a['detail'] and key != 'applied' else ''})"
                )
        for d in body["reconcile"]["differences"]:
            console.print(
                f"[red]difference {d['token_id']}: ledger {d['ledger']}, chain {d['chain']}[/]"
            )
        for line in body["skipped"] + body["notes"]:
            console.print(f"[yellow]{line}[/]")
        done = len(report.settled) + len(report.applied)
        if not done and not report.open and not report.failed:
            console.print(f"{mode}: nothing to settle")
        else:
            console.print(
                f"{mode}: {done} settled, proceeds {plain_decimal(report.proceeds)} pUSD, "
                f"realised {plain_decimal(report.realised)} pUSD"
                + (f", {len(report.open)} open" if report.open else "")
                + (f", {len(report.failed)} failed" if report.failed else "")
            )
        if body["reconcile"]["pusd"] is not None:
            console.print(f"wallet pUSD on chain: {body['reconcile']['pusd']}")
    if report.failed or report.differences:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``settle`` to the ``pm-agent`` app."""
    app.command()(settle)
