"""The ``pm-agent`` command line (typer + rich).

Each concern registers its commands from its own module below; this module only assembles them.
The command modules import only typer and rich at the top: the store, Prefect, the SDK and the
emulator are imported inside the commands that use them, so ``--help`` and the read-only
commands start fast (docs/OPERATIONS.md, "Command-line start-up"). Errors become one line
(``pm_lib.cli.errors``).

A ``pm-agent`` process starts with the cyclic garbage collector paused
(``pm_lib.pipeline.scan_memory.cyclic_gc_paused``, the one owner of such pauses): importing
typer, pydantic, SQLAlchemy and the store's tables builds ~10^5 long-lived objects and no
garbage cycles, and the ~220 collections those imports trigger cost ~0.06 s of CPU in a
read-only command. The pause covers importing this module and, when the app is called (the
console script), the command line until the root callback knows the command: it ends there
unless the command is one of ``READ_ONLY_COMMANDS`` (short, bounded reads, then the process
exits), so scans, loops, servers and recorders run with the collector as it was. Where the
pause of a called app ends, what exists by then is frozen first (``gc.freeze``: modules,
classes, the settings) so that the collector, back on, never walks it again: otherwise its
first young-generation pass walks everything allocated during the pause (~35 ms), and so does
the full pass of interpreter exit. ``CliRunner`` tests invoke the command, not ``app()``, and so
run with the collector on and nothing frozen.
"""

from __future__ import annotations

import gc
from contextlib import ExitStack
from typing import Annotated, Any

from pm_lib.pipeline.scan_memory import cyclic_gc_paused

with cyclic_gc_paused():
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

__all__ = ["READ_ONLY_COMMANDS", "app"]

# Commands that only read the store and print: they import neither Prefect nor the SDK (a test
# checks it), and keep the start-up pause of the collector to the end (module doc).
READ_ONLY_COMMANDS = frozenset({"status", "orders", "positions", "pnl", "leg-risks"})

# The start-up pause of a called app, ended by the root callback (or when the call returns).
_startup = ExitStack()


class _Cli(typer.Typer):
    """The ``pm-agent`` app; calling it runs one command in this process (module doc)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with _startup:
            _startup.enter_context(cyclic_gc_paused())
            _startup.callback(gc.freeze)  # runs first when the pause ends (module doc)
            return super().__call__(*args, **kwargs)


app = _Cli(
    name="pm-agent",
    help="Scheduled, Prefect-orchestrated trading workflows for Polymarket (paper by default).",
    no_args_is_help=True,
    add_completion=False,
    cls=GuardedGroup,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when a command fails.")
    ] = False,
) -> None:
    """pm-agent: scan Polymarket, decide under risk limits, trade paper or (armed) live."""
    if ctx.invoked_subcommand not in READ_ONLY_COMMANDS:
        _startup.close()  # the collector as it was before the call (module doc)


app.add_typer(venue_app)
app.add_typer(db_app)
register_runs(app)
register_account(app)
register_control(app)
register_doctor(app)
register_leg_risk(app)
register_replay(app)
register_settle(app)
