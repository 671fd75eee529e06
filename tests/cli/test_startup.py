"""What a read-only command imports: never Prefect, the SDK or the emulator; and how the
process's cyclic collector is handled (off while a read-only command starts, on for the rest).
Module-import checks in a fresh interpreter, not timings (figures: docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pm_lib.cli import READ_ONLY_COMMANDS
from pm_lib.store.engine import make_engine, upgrade

# Run one command as the console script does (``app()``), then report what it imported and
# whether the collector ended up on, in one JSON line on stderr.
PROBE = """
import atexit, gc, json, sys
def report():
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"prefect", "py_clob_client_v2",
        "alembic", "httpx", "web3", "eth_account", "uvicorn", "fastapi"})
    store = sorted(m for m in sys.modules if m.startswith("pm_lib.store."))
    sims = sorted(m for m in sys.modules if m.startswith(("pm_lib.sim", "pm_lib.venue",
        "pm_lib.execution", "flows")))
    sys.stderr.write(json.dumps({"heavy": heavy, "store": store, "other": sims,
        "postgresql": "sqlalchemy.dialects.postgresql" in sys.modules,
        "gc": gc.isenabled()}) + "\\n")
atexit.register(report)
from pm_lib.cli import app
sys.argv[0] = "pm-agent"
app()
"""

COMMANDS = [["--help"], ["status"], ["status", "--json"], ["orders"], ["positions"], ["pnl"]]
COMMANDS += [["leg-risks"]]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("startup")
    url = f"sqlite:///{tmp / 'pm_agent.db'}"
    upgrade(make_engine(url))  # a store at the newest migration: Alembic is not needed
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PM_", "PREFECT_"))}
    return {**keep, "PM_DATABASE_URL": url, "PM_DATA_DIR": str(tmp)}


def _probe(env: dict[str, str], args: list[str], cwd: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_read_only_commands_import_neither_prefect_nor_the_sdk(
    env: dict[str, str], args: list[str], tmp_path: Path
) -> None:
    seen = _probe(env, args, tmp_path)
    assert seen["heavy"] == [], seen
    assert seen["other"] == [], seen
    assert seen["postgresql"] is False, "a SQLite store should not load the PostgreSQL dialects"
    if args == ["--help"]:
        assert seen["store"] == [], "--help imports typer and rich only"


def test_the_read_only_set_is_the_commands_checked_here() -> None:
    assert {a[0] for a in COMMANDS if not a[0].startswith("-")} == READ_ONLY_COMMANDS


def test_the_status_command_loads_only_the_repositories_it_reads(
    env: dict[str, str], tmp_path: Path
) -> None:
    seen = _probe(env, ["status", "--json"], tmp_path)
    store = set(seen["store"])  # type: ignore[arg-type]
    assert not store & {"pm_lib.store.leg_risk", "pm_lib.store.signals", "pm_lib.store.leases"}


GC_PROBE = """
import gc, sys
import pm_lib.cli
from pm_lib.cli import app
seen = []
@app.command("probe-gc")
def probe_gc() -> None:
    seen.append(gc.isenabled())
if sys.argv[1] == "read-only":
    pm_lib.cli.READ_ONLY_COMMANDS = frozenset({"probe-gc"})
sys.argv[1:] = ["probe-gc"]
try:
    app()
except SystemExit:
    pass
print(seen, gc.isenabled(), gc.get_freeze_count() > 0)
"""


@pytest.mark.parametrize(("kind", "during"), [("read-only", False), ("other", True)])
def test_the_collector_is_off_only_while_a_read_only_command_runs(
    env: dict[str, str], kind: str, during: bool
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE, kind], env=env, capture_output=True, text=True, timeout=60
    )
    # on again when the call returns, with what the start-up built frozen (module doc)
    assert done.stdout.split() == [f"[{during}]", "True", "True"], done.stderr


def test_importing_the_cli_leaves_the_collector_as_it_was() -> None:
    for before in ("gc.disable()", "gc.enable()"):
        code = (
            f"import gc; {before}; import pm_lib.cli; print(gc.isenabled(), gc.get_freeze_count())"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        enabled = "True" if before == "gc.enable()" else "False"
        assert done.stdout.split() == [enabled, "0"], (before, done.stderr)
