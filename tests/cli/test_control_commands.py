"""`pm-agent close` and `pm-agent alerts setup` refuse bad usage with exit 2 before any Prefect
or venue call (the flows themselves: tests/flows/test_control.py, tests/e2e/test_alerts.py)."""

from __future__ import annotations

from typer.testing import CliRunner

from pm_lib.cli import app


def test_close_needs_a_token_or_all_but_not_both() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["close"]).exit_code == 2
    both = runner.invoke(app, ["close", "123", "--all"])
    assert both.exit_code == 2 and "TOKEN or --all" in both.output


def test_alerts_setup_needs_one_destination() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["alerts", "setup"]).exit_code == 2
    both = runner.invoke(app, ["alerts", "setup", "--webhook", "http://x", "--block", "a/b"])
    assert both.exit_code == 2
