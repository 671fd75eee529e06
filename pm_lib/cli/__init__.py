"""The ``pm-agent`` command line (typer + rich).

Each concern registers its commands from its own module below; this module only assembles them.
"""

from __future__ import annotations

import typer

from pm_lib.cli.account import register as register_account
from pm_lib.cli.db import db_app
from pm_lib.cli.doctor import register as register_doctor
from pm_lib.cli.replay import register as register_replay
from pm_lib.cli.runs import register as register_runs
from pm_lib.cli.venue import venue_app

__all__ = ["app"]

app = typer.Typer(
    name="pm-agent",
    help="Scheduled, Prefect-orchestrated trading workflows for Polymarket (paper by default).",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _main() -> None:
    """pm-agent: scan Polymarket, decide under risk limits, trade paper or (armed) live."""


app.add_typer(venue_app)
app.add_typer(db_app)
register_runs(app)
register_account(app)
register_doctor(app)
register_replay(app)
