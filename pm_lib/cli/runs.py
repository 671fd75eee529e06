"""``pm-agent scan | scan-loop | reconcile | report | demo``: the real Prefect flows, run now."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from pm_lib.cli.demo_dir import NotADemoDirectory, prepare_demo_dir

__all__ = ["register"]

console = Console()
T = TypeVar("T")

# Options the scan commands (and reconcile, for --json) share.
ArmLive = Annotated[bool, typer.Option("--live", help="Arm live trading for this run.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
Strategies = Annotated[
    list[str] | None, typer.Option(help="Strategy to run (repeatable); default settings.")
]


def _prefect_ready(data_dir: Path | None = None) -> None:
    from flows.environment import apply_prefect_defaults

    apply_prefect_defaults(data_dir)


def _run_flow(what: str, call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async flow with a spinner; configuration errors exit 2, venue errors exit 1."""
    from pm_lib.errors import ConfigurationError, PmAgentError

    try:
        with console.status(what):
            return asyncio.run(call())
    except ConfigurationError as e:
        console.print(f"[bold red]refused[/]: {e}")
        raise typer.Exit(2) from None
    except PmAgentError as e:
        console.print(f"[bold red]failed[/]: {e}")
        raise typer.Exit(1) from None


def _print_scan(report: dict[str, Any]) -> None:
    console.print(
        f"[bold]run {report['run_id']}[/] ({report['mode']}): {report['markets']} markets, "
        f"{report['books']} books, {len(report['opportunities'])} opportunities, "
        f"{sum(1 for d in report['decisions'] if d['approved'])} approved, "
        f"{len(report['orders'])} orders"
    )
    if report["opportunities"]:
        table = Table("strategy", "market", "edge (pUSD)", "legs", "decision", title="Found")
        decided = {d["opportunity_id"]: d for d in report["decisions"]}
        for o in report["opportunities"]:
            d = decided.get(o["id"], {})
            verdict = "approved" if d.get("approved") else f"rejected: {d.get('rule', '?')}"
            table.add_row(o["strategy"], o["market"][:14], o["edge"], str(len(o["legs"])), verdict)
        console.print(table)
    if report["orders"]:
        table = Table("order", "side", "size", "price", "status", "filled", "fee", title="Orders")
        for r in report["orders"]:
            table.add_row(
                r["id"][:18],
                r["side"],
                r["size"],
                r["price"],
                r["status"],
                r["filled_size"],
                r["fee"],
            )
        console.print(table)


def scan(
    live: ArmLive = False,
    as_json: JsonOut = False,
    strategy: Strategies = None,
) -> None:
    """Run one scan_and_trade flow now (paper unless --live and PM_MODE=live)."""
    _prefect_ready()
    from flows.scan_and_trade import scan_and_trade

    report = _run_flow(
        "scanning ...", lambda: scan_and_trade(live=live, strategies=strategy or None)
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_scan(report)


def scan_loop(
    duration: Annotated[
        float, typer.Option(help="Seconds to keep scanning (no scan starts after).", min=0.001)
    ] = 60.0,
    interval: Annotated[
        float, typer.Option(help="Start a scan at most every N seconds (0: back to back).", min=0)
    ] = 5.0,
    max_scans: Annotated[int | None, typer.Option(help="Stop after N scans.", min=1)] = None,
    live: ArmLive = False,
    as_json: JsonOut = False,
    strategy: Strategies = None,
) -> None:
    """Run one scan_loop flow now: scans for --duration seconds, each its own run."""
    _prefect_ready()
    from flows.scan_loop import scan_loop as scan_loop_flow

    out = _run_flow(
        f"scanning for {duration:g} s ...",
        lambda: scan_loop_flow(
            live=live,
            strategies=strategy or None,
            duration_seconds=duration,
            interval_seconds=interval,
            max_scans=max_scans,
        ),
    )
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    table = Table("run", "s", "markets", "books", "opps", "approved", "orders", title="Scans")
    for r in out["runs"]:
        table.add_row(
            r["run_id"][:12],
            r["seconds"],
            str(r["markets"]),
            str(r["books"]),
            str(r["opportunities"]),
            str(r["approved"]),
            str(r["orders"]),
        )
    console.print(table)
    console.print(
        f"{out['scans']} scans in {out['seconds']} s: {out['opportunities']} opportunities, "
        f"{out['approved']} approved, {out['orders']} orders"
    )


def reconcile(
    live: Annotated[bool, typer.Option("--live", help="Reconcile the live account.")] = False,
    as_json: JsonOut = False,
) -> None:
    """Run the reconcile flow now: DB vs venue, unknown orders resolved, missed fills adopted."""
    _prefect_ready()
    from flows.reconcile import reconcile as reconcile_flow

    report = _run_flow("reconciling ...", lambda: reconcile_flow(live=live))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            console.print(f"{key}: {value}")


def report() -> None:
    """Run the daily report flow now and print its markdown."""
    _prefect_ready()
    from flows.daily_report import daily_report

    console.print(_run_flow("building the report ...", daily_report))


def demo(
    cycles: Annotated[int, typer.Option(help="scan_and_trade runs to make.", min=1)] = 3,
    markets: Annotated[int, typer.Option(help="Markets in the emulated universe.", min=10)] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the emulated universe.")] = 7,
    data_dir: Annotated[Path, typer.Option(help="Where the demo DB and Prefect home go.")] = Path(
        "data/demo"
    ),
) -> None:
    """Offline demo: the emulator in-process, the real flow in paper mode, a local Prefect API."""
    try:
        prepare_demo_dir(data_dir)
    except NotADemoDirectory as e:
        console.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
    _prefect_ready(data_dir)
    from pm_lib.sim.server import running_venue
    from pm_lib.sim.venue import SimConfig, SimVenue

    config = SimConfig(seed=seed, markets=markets, negrisk_dip_rate=0.25, dip_window_seconds=30)
    console.print(f"[bold]pm-agent demo[/]: emulated venue with {markets} markets (seed {seed})")
    with running_venue(SimVenue(config)) as running:
        os.environ.update(
            {
                "PM_MODE": "paper",
                "PM_CLOB_URL": running.clob_url,
                "PM_GAMMA_URL": running.gamma_url,
                "PM_DATA_DIR": str(data_dir),
                "PM_DATABASE_URL": f"sqlite:///{(data_dir / 'pm_agent.db').resolve()}",
            }
        )
        console.print(f"venue at {running.clob_url} (Gamma at {running.gamma_url})")
        console.print("starting a local Prefect API (the first start takes ~20 s) ...")
        from flows.scan_and_trade import scan_and_trade

        for cycle in range(1, cycles + 1):
            console.rule(f"cycle {cycle}/{cycles}")
            result = _run_flow(f"cycle {cycle}: scanning ...", scan_and_trade)
            _print_scan(result)
            running.venue.state.clock.advance(config.book_epoch_seconds)
    console.rule("done")
    console.print(f"database: {(data_dir / 'pm_agent.db').resolve()}")
    console.print(
        "look closer: `PM_DATABASE_URL=sqlite:///"
        f"{(data_dir / 'pm_agent.db').resolve()} uv run pm-agent positions`"
    )


def register(app: typer.Typer) -> None:
    """Add the run commands to the ``pm-agent`` app."""
    app.command()(scan)
    app.command("scan-loop")(scan_loop)
    app.command()(reconcile)
    app.command()(report)
    app.command()(demo)
