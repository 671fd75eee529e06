"""``pm-agent record DIR`` and ``pm-agent backtest DIR``: record the venue, replay a recording
(docs/RECORDING.md, docs/BACKTEST.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]

console = Console()


def record(
    directory: Annotated[Path, typer.Argument(help="Recording directory (created).")],
    duration: Annotated[float, typer.Option(help="Seconds to record.", min=0)] = 60.0,
    interval: Annotated[float, typer.Option(help="Seconds between /books snapshots.")] = 1.0,
    rotate: Annotated[
        int, typer.Option(help="Messages per file before rotating.", min=1)
    ] = 100_000,
    gzip_files: Annotated[bool, typer.Option("--gzip", help="Write .jsonl.gz files.")] = False,
) -> None:
    """Record the venue (PM_CLOB_URL, PM_GAMMA_URL): markets.json, then /books snapshots."""
    import asyncio

    from pm_lib.errors import ConfigurationError, PmAgentError
    from pm_lib.replay.recorder import record as record_venue
    from pm_lib.settings import Settings

    try:
        summary = asyncio.run(
            record_venue(
                Settings(),
                directory,
                duration_s=duration,
                interval_s=interval,
                rotate_messages=rotate,
                gzip_files=gzip_files,
            )
        )
    except ConfigurationError as e:
        typer.echo(f"refused: {e}", err=False)
        raise typer.Exit(2) from None
    except PmAgentError as e:
        typer.echo(f"failed: {e}", err=False)
        raise typer.Exit(1) from None
    console.print(
        f"recorded {summary.markets} markets ({summary.tokens} tokens): {summary.snapshots} "
        f"snapshots, {summary.messages} messages in {len(summary.files)} files under {directory}"
    )


def backtest(
    directory: Annotated[Path, typer.Argument(help="Recording directory.")],
    strategy: Annotated[
        list[str] | None, typer.Option(help="Strategy to run (repeatable); default settings.")
    ] = None,
    latency_ms: Annotated[
        str, typer.Option("--latency-ms", help="Decision-to-venue latency, ms; a list sweeps.")
    ] = "0",
    db: Annotated[
        str | None, typer.Option(help="Database URL to keep the replay in (default: throwaway).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    svg: Annotated[Path | None, typer.Option(help="Write the equity curve SVG here.")] = None,
) -> None:
    """Replay a recording through the scan's stages (paper) and report fills, fees and P&L."""
    import asyncio

    from pm_lib.errors import ConfigurationError, PmAgentError
    from pm_lib.replay.backtest import parse_latencies, run_backtest, sweep_json
    from pm_lib.replay.report import equity_svg
    from pm_lib.settings import Settings

    try:
        latencies = parse_latencies(latency_ms)
        results = asyncio.run(
            run_backtest(directory, Settings(), latencies, strategies=strategy, database_url=db)
        )
    except ConfigurationError as e:
        typer.echo(f"refused: {e}", err=False)
        raise typer.Exit(2) from None
    except PmAgentError as e:
        typer.echo(f"failed: {e}", err=False)
        raise typer.Exit(1) from None
    if svg is not None:
        svg.write_text(equity_svg(results[-1]))
    if as_json:
        typer.echo(json.dumps(sweep_json(results), indent=2))
        return
    print_results(results)


def print_results(results: list) -> None:  # type: ignore[type-arg]
    from pm_lib.replay.backtest import sweep_rows

    shown = {
        "latency_ms": "latency ms",
        "opportunities": "opps",
        "filled": "filled",
        "missed": "missed",
        "rejected": "rejected",
        "edge_kept_pct": "edge kept %",
        "fees": "fees",
        "realized_pnl": "realised",
        "unrealized_pnl": "unrealised",
        "equity_end": "equity end",
    }
    table = Table(*shown.values(), title="Backtest (pUSD)")
    for row in sweep_rows(results):
        table.add_row(*(row[k] for k in shown))
    console.print(table)
    for result in results:
        missed = ", ".join(f"{k}: {v}" for k, v in result.missed_by_reason().items()) or "none"
        console.print(
            f"latency {result.latency_ms} ms: {result.messages} messages, "
            f"{len(result.fills)} fills, {len(result.settlements)} settlements; "
            f"not filled: {missed}"
        )


def import_recording(
    source: Annotated[str, typer.Argument(help="resolvedkit | polymarket-backtest")],
    files: Annotated[
        list[Path],
        typer.Argument(help="resolvedkit: BOOKS MARKETS; polymarket-backtest: CSV"),
    ],
    directory: Annotated[Path, typer.Option("--out", help="Recording directory to write.")],
    no_fees: Annotated[
        bool, typer.Option("--no-fees", help="Write the markets fee-free (default: crypto fees).")
    ] = False,
) -> None:
    """Turn a public recorded data set into a recording (docs/RECORDING.md, credits there)."""
    from pm_lib.errors import ConfigurationError
    from pm_lib.replay.importers import (
        CRYPTO_FEES,
        import_polymarket_backtest,
        import_resolvedkit,
    )

    rate = None if no_fees else CRYPTO_FEES[0]
    try:
        if source == "resolvedkit" and len(files) == 2:
            written = import_resolvedkit(files[0], files[1], directory, fee_rate=rate)
        elif source == "polymarket-backtest" and len(files) == 1:
            written = import_polymarket_backtest(files[0], directory, fee_rate=rate)
        else:
            raise ConfigurationError(
                f"import {source} {' '.join(map(str, files))}: expected 'resolvedkit BOOKS "
                "MARKETS' or 'polymarket-backtest CSV'"
            )
    except ConfigurationError as e:
        typer.echo(f"refused: {e}")
        raise typer.Exit(2) from None
    console.print(f"wrote {written} book messages under {directory}")


def register(app: typer.Typer) -> None:
    app.command("record")(record)
    app.command("backtest")(backtest)
    app.command("import-recording")(import_recording)
