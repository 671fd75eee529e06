"""``pm-agent scan | scan-loop | reconcile | report | demo``: the real Prefect flows, run now."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from pm_lib.cli.demo_dir import NotADemoDirectory, prepare_demo_dir
from pm_lib.cli.direct import prefect_configured, scan_without_prefect
from pm_lib.cli.render import compact_table

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
    """Run an async flow (or scan) with a spinner. Errors become one line and an exit code in
    ``pm_lib.cli.errors`` (configuration 2, venue 1)."""
    import asyncio  # here, not at the top: --help and the read-only commands never need it

    with console.status(what):
        return asyncio.run(call())


def _check_run(live: bool, strategies: list[str] | None) -> None:
    """Settings and arming checked before any flow starts: a bad variable or a refused live
    run is one line and exit 2, not a failed flow run's traceback."""
    from pm_lib.settings import Settings

    Settings()  # a bad variable fails here, before the store and the venue client are imported
    from pm_lib.execution.factory import run_credentials
    from pm_lib.pipeline.opening import run_settings

    run_credentials(run_settings(strategies), live_armed=live)


def _label_report(report: dict[str, Any]) -> Any:
    """The stored catalogue's labels for the report's markets; each leg and order gets its
    ``question``/``outcome``/``event_title``/``url`` (for ``--json`` too)."""
    from pm_lib.reporting.labels import read_labels
    from pm_lib.settings import Settings
    from pm_lib.store.engine import make_engine, session_scope

    legs = [leg for o in report["opportunities"] for leg in o["legs"]]
    conditions = {leg["token_id"]: leg.get("condition_id", "") for leg in legs}
    engine = make_engine(Settings().resolved_database_url)
    try:
        with session_scope(engine, read_only=True) as session:
            labels = read_labels(
                session,
                condition_ids=[c for c in conditions.values() if c],
                group_ids=[o["market"] for o in report["opportunities"]],
            )
    finally:
        engine.dispose()
    for item in [*legs, *report["orders"]]:
        token = item.get("token_id", "")
        item.update(labels.token(token, conditions.get(token)).as_json())
    for o in report["opportunities"]:
        o["market_label"] = labels.market(o["market"]).as_json()
    return labels


def _leg_summary(o: dict[str, Any]) -> str:
    legs = o["legs"]
    if len(legs) == 1:
        leg = legs[0]
        return f"{leg['side']} {leg['size']} {escape(leg['outcome'])} <= {leg['limit_price']}"
    sides = {leg["side"] for leg in legs}
    cost = sum((Decimal(leg["size"]) * Decimal(leg["limit_price"]) for leg in legs), Decimal(0))
    return f"{len(legs)} legs, {'/'.join(sorted(sides))}, limits total {cost.normalize():f}"


def _print_scan(report: dict[str, Any]) -> None:
    labels = _label_report(report)
    console.print(
        f"[bold]run {report['run_id']}[/] ({report['mode']}): {report['markets']} markets, "
        f"{report['books']} books, {len(report['opportunities'])} opportunities, "
        f"{sum(1 for d in report['decisions'] if d['approved'])} approved, "
        f"{len(report['orders'])} orders"
    )
    if report["opportunities"]:
        table = compact_table("Found", "market", "strategy", "edge", "legs", "decision")
        decided = {d["opportunity_id"]: d for d in report["decisions"]}
        for o in report["opportunities"]:
            d = decided.get(o["id"], {})
            verdict = "approved" if d.get("approved") else f"rejected: {d.get('rule', '?')}"
            label = labels.market(o["market"])
            cell = escape(label.text)
            if label.event_title and label.event_title != label.question:
                cell += f"\n[dim]{escape(label.event_title)}[/]"
            table.add_row(cell, o["strategy"], o["edge"], _leg_summary(o), verdict)
        console.print(table)
    if report["orders"]:
        table = compact_table("Orders", "market", "order", "status", "filled", "fee")
        for r in report["orders"]:
            market = escape(f"{r['question']} - {r['outcome']}" if r["outcome"] else r["question"])
            filled = r["filled_size"] + (f" @ {r['avg_price']}" if r["avg_price"] else "")
            table.add_row(
                market,
                f"{r['side']} {r['size']} @ {r['price']}",
                r["status"].lower(),
                filled,
                r["fee"],
            )
        console.print(table)


AsFlow = Annotated[
    bool | None,
    typer.Option(
        "--flow/--no-flow",
        help="Run as the Prefect flow (default: only when PREFECT_API_URL is set; without it "
        "a temporary Prefect API is started, ~20 s).",
        show_default=False,
    ),
]


def scan(
    live: ArmLive = False,
    as_json: JsonOut = False,
    strategy: Strategies = None,
    as_flow: AsFlow = None,
) -> None:
    """Run one scan now (paper unless --live and PM_MODE=live): the scan-and-trade flow when
    PREFECT_API_URL is set, else its stages in this process (no temporary Prefect server)."""
    _check_run(live, strategy or None)
    if as_flow if as_flow is not None else prefect_configured():
        _prefect_ready()
        from flows.scan_and_trade import scan_and_trade

        report = _run_flow(
            "scanning ...", lambda: scan_and_trade(live=live, strategies=strategy or None)
        )
    else:
        report = _run_flow(
            "scanning ...",
            lambda: scan_without_prefect(live=live, strategies=strategy or None),
        )
    if as_json:
        _label_report(report)
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
    _check_run(live, strategy or None)
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
    table = compact_table("Scans", "run", "s", "markets", "books", "opps", "approved", "orders")
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
        f"{(data_dir / 'pm_agent.db').resolve()} uv run pm-agent status`"
    )


def register(app: typer.Typer) -> None:
    """Add the run commands to the ``pm-agent`` app."""
    app.command()(scan)
    app.command("scan-loop")(scan_loop)
    app.command()(reconcile)
    app.command()(report)
    app.command()(demo)
