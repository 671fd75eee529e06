"""A short fault campaign (``bench/chaos.py``): live scan/reconcile cycles under injected faults.

The campaign itself checks the invariants after every cycle (``bench/_chaos_invariants.py``):
no intent produced two venue orders, every venue order is known to the DB after reconcile,
its DB state and filled size equal the venue's trades that did not fail, DB positions and pUSD
equal the wallet's, no exposure, cash or open-order limit was exceeded, the daily-loss breaker
held, nothing but unwinds reached the venue after a halt, no basket was left lopsided
unhandled, every neg-risk basket was the whole outcome set, and no secret was written
anywhere. The first campaign draws from every fault kind; the second only from those of
issues 15 and 16, so each short run meets them. ``--sabotage`` then breaks a clean database
(or what a check is told) on purpose, so the test also proves every check can fail.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from _chaos_sabotage import SABOTAGE_KINDS  # noqa: E402

NEW_KINDS = (
    "malformed_reads,incomplete_event,concurrent_runs,halt_mid_scan,bad_credentials,"
    "partial_fill,taker_delay,ghost_leg,lookup_misses,engine_restart,worker_killed"
)
SUMMARY = re.compile(r"^cycles=(\d+) faults=(\d+) violations=(\d+)$")
SETTLE_SUMMARY = re.compile(
    r"^settle_rounds=(\d+) settle_runs=(\d+) settle_faults=(\d+) settle_violations=(\d+)$"
)


def campaign(*args: str) -> list[str]:
    """Run bench/chaos.py and return its output lines (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "chaos.py"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


@pytest.fixture(scope="module")
def short_campaign() -> list[str]:
    """Eight cycles; on PostgreSQL (a schema per session) when PM_TEST_DATABASE_URL is set."""
    database = os.environ.get("PM_TEST_DATABASE_URL")
    on_postgres = ("--database-url", database) if database else ()
    return campaign("--cycles", "8", "--seed", "7", "--markets", "120", "--sabotage", *on_postgres)


@pytest.fixture(scope="module")
def new_attacks() -> list[str]:
    """Ten cycles drawing only the attacks of issues 15 and 16 (and kills mid-basket)."""
    database = os.environ.get("PM_TEST_DATABASE_URL")
    on_postgres = ("--database-url", database) if database else ()
    return campaign(
        "--cycles", "10", "--seed", "11", "--markets", "120", "--kinds", NEW_KINDS, *on_postgres
    )


def test_short_campaign_injects_faults_and_breaks_no_invariant(short_campaign: list[str]) -> None:
    summary = SUMMARY.match(short_campaign[-1])
    assert summary is not None, short_campaign[-5:]
    cycles, faults, violations = (int(g) for g in summary.groups())
    assert (cycles, violations) == (8, 0), short_campaign
    assert faults >= 8


def test_the_attacks_of_issues_15_and_16_break_no_invariant(new_attacks: list[str]) -> None:
    summary = SUMMARY.match(new_attacks[-1])
    assert summary is not None, new_attacks[-5:]
    cycles, faults, violations = (int(g) for g in summary.groups())
    assert (cycles, violations) == (10, 0), new_attacks
    assert faults >= 10


def test_every_invariant_catches_its_sabotage(short_campaign: list[str]) -> None:
    [line] = [x for x in short_campaign if x.startswith("sabotage detected:")]
    assert set(line.split(":", 1)[1].split()) == set(SABOTAGE_KINDS)
    assert not [x for x in short_campaign if x.startswith("sabotage missed:")]


@pytest.fixture(scope="module")
def settlement_rounds() -> list[str]:
    """Eight settlement rounds under lost RPC/relayer answers, reverts, pending transactions,
    lost lookups and submissions that never arrived; then a sabotaged round."""
    return campaign("--cycles", "0", "--settle", "8", "--seed", "5", "--sabotage")


def test_settlement_under_faults_never_settles_twice(settlement_rounds: list[str]) -> None:
    [line] = [x for x in settlement_rounds if x.startswith("settle_rounds=")]
    summary = SETTLE_SUMMARY.match(line)
    assert summary is not None, settlement_rounds[-5:]
    rounds, runs, faults, violations = (int(g) for g in summary.groups())
    assert (rounds, violations) == (8, 0), settlement_rounds
    assert runs >= 16 and faults >= 4
    assert SUMMARY.match(settlement_rounds[-1]) is not None
    assert settlement_rounds[-1].endswith("violations=0")


def test_a_double_settlement_in_the_ledger_is_caught(settlement_rounds: list[str]) -> None:
    [line] = [x for x in settlement_rounds if x.startswith("settle sabotage caught:")]
    assert "chain_ledger_mismatch" in line, settlement_rounds
