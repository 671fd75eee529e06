"""The command line fails like a tool: one line naming what to fix, exit 2 for configuration and
usage, no traceback unless --debug (issue 18 item 6). Real processes, real environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app

CLI = str(Path(sys.executable).parent / "pm-agent")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PM_", "PREFECT_", "POLYMARKET_"))
    }
    return env | {"PM_DATA_DIR": str(tmp_path)} | extra


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_bad_variable_fails_in_process_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["scan"], env=_env(tmp_path, PM_MAX_ORDER_NOTIONAL="abc"))

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "PM_MAX_ORDER_NOTIONAL='abc'" in lines[0], lines


@pytest.mark.slow
def test_a_bad_variable_is_three_lines_at_most_naming_it_and_exits_2(tmp_path: Path) -> None:
    done = _run(_env(tmp_path, PM_MAX_ORDER_NOTIONAL="abc"), "scan")

    assert done.returncode == 2
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert 1 <= len(lines) <= 3, lines
    assert all("Traceback" not in line for line in lines)
    assert "PM_MAX_ORDER_NOTIONAL" in lines[0]


@pytest.mark.slow
def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = _run(_env(tmp_path, PM_MAX_ORDER_NOTIONAL="abc"), "--debug", "status")

    assert done.returncode != 0
    assert "Traceback" in done.stderr and "max_order_notional" in done.stderr


@pytest.mark.slow
def test_a_refused_live_run_is_one_line_before_any_flow(tmp_path: Path) -> None:
    # a configured Prefect API that is not there: the refusal comes before any flow is started
    env = _env(tmp_path, PM_MODE="paper", PREFECT_API_URL="http://127.0.0.1:9/api")
    done = _run(env, "scan", "--live")

    assert done.returncode == 2
    out = (done.stdout + done.stderr).strip().splitlines()
    assert len(out) == 1 and out[0].startswith("refused:") and "PM_MODE" in out[0]


@pytest.mark.slow
def test_a_venue_that_is_down_is_one_line_with_a_hint(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        PM_CLOB_URL="http://127.0.0.1:9",
        PM_GAMMA_URL="http://127.0.0.1:9/gamma",
        PM_HTTP_MAX_RETRIES="0",
    )
    done = _run(env, "scan")

    assert done.returncode == 1
    out = (done.stdout + done.stderr).strip().splitlines()
    assert len(out) == 1, out
    assert "PM_GAMMA_URL" in out[0] and "pm-agent venue serve" in out[0]


@pytest.mark.slow
@pytest.mark.parametrize("args", [["orders", "--mode", "foo"], ["status", "--mode", "foo"]])
def test_a_bad_mode_is_a_usage_error(tmp_path: Path, args: list[str]) -> None:
    done = _run(_env(tmp_path), *args)

    assert done.returncode == 2
    assert "foo" in done.stderr and "Traceback" not in done.stderr
