"""``pm-agent venue ...``: run the local Polymarket V2 emulator (docs/EMULATOR.md)."""

from __future__ import annotations

import gc
import time
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["venue_app"]

venue_app = typer.Typer(
    name="venue",
    help="The local Polymarket V2 emulator (Gamma + CLOB on one port).",
    no_args_is_help=True,
)


@venue_app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8080,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    markets: Annotated[int, typer.Option(help="Markets to generate.", min=0)] = 200,
    seed: Annotated[int, typer.Option(help="Seed of the universe and of every draw.")] = 7,
    universe: Annotated[
        Path | None,
        typer.Option(help="JSON list of recorded Gamma market objects to serve instead."),
    ] = None,
    no_autofund: Annotated[
        bool, typer.Option("--no-autofund", help="Do not credit new wallets with pUSD.")
    ] = False,
    ghost_fill_rate: Annotated[
        float, typer.Option(help="Share of trades that end FAILED (reverted).", min=0, max=1)
    ] = 0.0,
    no_rate_limits: Annotated[
        bool, typer.Option("--no-rate-limits", help="Do not enforce the documented limits.")
    ] = False,
    epoch_seconds: Annotated[
        float, typer.Option(help="Venue-clock seconds between book moves (0: static books).")
    ] = 30.0,
    dip_rate: Annotated[
        float,
        typer.Option(
            help="Share of (neg-risk group, epoch) whose asks dip into a real basket arbitrage.",
            min=0,
            max=1,
        ),
    ] = 0.02,
    near_miss_rate: Annotated[
        float,
        typer.Option(
            help="Share of (group, epoch) with a dip that fees or depth erase (a near miss).",
            min=0,
            max=1,
        ),
    ] = 0.05,
    dip_window: Annotated[
        float,
        typer.Option(help="Venue-clock seconds a dip lasts after the epoch's move.", min=0),
    ] = 10.0,
) -> None:
    """Serve the emulator until interrupted; prints the URLs to point pm-agent at.

    For a rehearsal that shows trading, raise the dip rate (e.g. ``--dip-rate 0.3
    --dip-window 30``): see the README, "Rehearsing on the local emulator"."""
    if dip_rate + near_miss_rate > 1:
        raise typer.BadParameter("--dip-rate plus --near-miss-rate must not exceed 1")
    import uvicorn

    from pm_lib.sim.app import create_app
    from pm_lib.sim.venue import SimConfig, SimVenue

    config = SimConfig(
        seed=seed,
        markets=markets,
        universe_file=str(universe) if universe else None,
        autofund=not no_autofund,
        ghost_fill_rate=ghost_fill_rate,
        enforce_rate_limits=not no_rate_limits,
        book_epoch_seconds=epoch_seconds,
        negrisk_dip_rate=dip_rate,
        negrisk_near_miss_rate=near_miss_rate,
        dip_window_seconds=dip_window,
    )
    started = time.perf_counter()
    venue = SimVenue(config)
    built = time.perf_counter() - started
    typer.echo(
        f"pm-agent venue: {len(venue.state.markets)} markets, "
        f"{len(venue.state.events)} events (seed {seed}) built in {built:.1f}s"
    )
    typer.echo(f"PM_CLOB_URL=http://{host}:{port}")
    typer.echo(f"PM_GAMMA_URL=http://{host}:{port}/gamma")
    typer.echo(
        f"books move every {epoch_seconds:g} s; neg-risk dips in {dip_rate:.0%} of group-epochs "
        f"(near misses {near_miss_rate:.0%}), each open {dip_window:g} s"
    )
    # The universe lives as long as the server (millions of objects at 50,000 markets): moved
    # out of the cyclic collector's sight, so its full passes stop walking it on every burst of
    # book serving (docs/EMULATOR.md). Reference counting still frees what is dropped.
    gc.freeze()
    uvicorn.run(create_app(venue), host=host, port=port, log_level="warning", access_log=False)
