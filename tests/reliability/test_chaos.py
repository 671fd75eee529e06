"""A short fault campaign (``bench/chaos.py``): live scan/reconcile cycles under injected faults.

The campaign itself checks the invariants after every cycle (``bench/_chaos_invariants.py``):
no intent produced two venue orders, every venue order is known to the DB after reconcile,
DB positions and pUSD equal the wallet's, no risk limit was exceeded, and the daily-loss
breaker held for runs that started after it tripped. ``--sabotage`` then breaks a clean
database on purpose, so the test also proves those checks can fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^cycles=(\d+) faults=(\d+) violations=(\d+)$")


def campaign(*args: str) -> list[str]:
    """Run bench/chaos.py and return its output lines (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def short_campaign() -> list[str]:
    """Eight cycles; on PostgreSQL (a schema per session) when PM_TEST_DATABASE_URL is set."""
    database = os.environ.get("PM_TEST_DATABASE_URL")
    on_postgres = ("--database-url", database) if database else ()
    return campaign("--cycles", "8", "--seed", "7", "--markets", "120", "--sabotage", *on_postgres)


def test_short_campaign_injects_faults_and_breaks_no_invariant(short_campaign: list[str]) -> None:
    summary = SUMMARY.match(short_campaign[-1])
    assert summary is not None, short_campaign[-5:]
    cycles, faults, violations = (int(g) for g in summary.groups())
    assert (cycles, violations) == (8, 0), short_campaign
    assert faults >= 8


def test_the_invariants_catch_a_database_broken_on_purpose(short_campaign: list[str]) -> None:
    [line] = [x for x in short_campaign if x.startswith("sabotage detected:")]
    assert set(line.split(":", 1)[1].split()) == {"duplicate_order", "position_mismatch"}
