"""The ``pm-agent`` command line (typer + rich).

Each concern registers its commands from its own module below; this module only assembles them.
The command modules import only typer and rich at the top: the store, Prefect, the SDK and the
emulator are imported inside the commands that use them, so ``--help`` and the read-only
commands start fast (docs/OPERATIONS.md, "Command-line start-up"). Errors become one line
(``pm_lib.cli.errors``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from pm_lib.cli.account import register as register_account
from pm_lib.cli.control import register as register_control
from pm_lib.cli.db import db_app
from pm_lib.cli.doctor import register as register_doctor
from pm_lib.cli.errors import GuardedGroup
from pm_lib.cli.leg_risk import register as register_leg_risk
from pm_lib.cli.replay import register as register_replay
from pm_lib.cli.runs import register as register_runs
from pm_lib.cli.settle import register as register_settle
from pm_lib.cli.venue import venue_app

__all__ = ["app"]

app = typer.Typer(
    name="pm-agent",
    help="Scheduled, Prefect-orchestrated trading workflows for Polymarket (paper by default).",
    no_args_is_help=True,
    add_completion=False,
    cls=GuardedGroup,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when a command fails.")
    ] = False,
) -> None:
    """pm-agent: scan Polymarket, decide under risk limits, trade paper or (armed) live."""


app.add_typer(venue_app)
app.add_typer(db_app)
register_runs(app)
register_account(app)
register_control(app)
register_doctor(app)
register_leg_risk(app)
register_replay(app)
register_settle(app)
