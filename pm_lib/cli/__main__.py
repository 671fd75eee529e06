"""``python -m pm_lib.cli``: the ``pm-agent`` command."""

from pm_lib.cli import app

app(prog_name="pm-agent")
