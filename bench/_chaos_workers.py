"""Chaos cycles that need other processes: a SIGKILLed scan, a reconcile elsewhere, a race.

Workers are ``bench/_chaos_run.py`` processes (see its docstring for the protocol).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from _chaos_faults import FaultPlan
from _chaos_session import Session

from pm_lib.models import OrderStatus
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue
from pm_lib.store import intents_by_status, session_scope
from pm_lib.store.signals import decisions_for_run, opportunities_for_run

__all__ = ["RaceOutcome", "killed_scan", "race", "reconcile_elsewhere"]

WORKER = Path(__file__).resolve().parent / "_chaos_run.py"


def _worker(role: str, session: Session, offset: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), role, json.dumps(session.fields), str(offset)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _await_line(worker: subprocess.Popen[str], wanted: str) -> str | None:
    assert worker.stdout is not None
    for line in worker.stdout:
        if line.startswith(wanted):
            return line
    return None


def killed_scan(session: Session, plan: FaultPlan, offset: float) -> dict[str, Any]:
    """A scan in a worker process, SIGKILLed after its imports or inside the execute stage."""
    worker = _worker("scan", session, offset)
    _await_line(worker, "ready")
    if plan.kill_after_execute and _await_line(worker, "executing") is None:
        worker.wait()
        return {"killed": False}
    time.sleep(plan.kill_delay)
    landed = worker.poll() is None
    worker.kill()
    worker.wait()
    time.sleep(0.3)  # a request the worker finished sending is still being served
    return {"killed": landed}


def reconcile_elsewhere(session: Session, offset: float) -> dict[str, Any]:
    """Reconcile in a fresh process (after a kill)."""
    worker = _worker("reconcile", session, offset)
    out, _ = worker.communicate(timeout=300)
    done = [line for line in out.splitlines() if line.startswith("done ")]
    return dict(json.loads(done[-1][5:])) if done else {"error": "reconcile worker failed"}


@dataclass(frozen=True)
class RaceOutcome:
    """Two scans released into execute together: who approved and who traded the basket."""

    approved: int  # runs that approved the planted basket (2: the race was real)
    traded: int  # runs with orders in its markets (more than 1: traded twice)


def race(session: Session, running: RunningVenue, rng: random.Random, offset: float) -> RaceOutcome:
    """Plant a basket deep enough for two, let two held scans decide, release both at once."""
    event = rng.choice(complete_negrisk_events(running.venue))
    plant_negrisk_arbitrage(
        running.venue, event=event, total_ask=Decimal("0.85"), size=Decimal(400)
    )
    workers = [_worker("held-scan", session, offset) for _ in range(2)]
    ready = [_await_line(w, "executing") is not None for w in workers]
    for worker in workers:
        assert worker.stdin is not None
        if worker.poll() is None:
            worker.stdin.write("go\n")
            worker.stdin.flush()
    runs = []
    for worker, held in zip(workers, ready, strict=True):
        out, _ = worker.communicate(timeout=300)
        done = [line for line in out.splitlines() if line.startswith("done ")]
        if held and done:
            runs.append(str(json.loads(done[-1][5:])["run_id"]))
    markets = set(event.condition_ids)
    with session_scope(session.engine, read_only=True) as db:
        approved = 0
        for run_id in runs:
            ok = {d.opportunity_id for d in decisions_for_run(db, run_id) if d.approved}
            approved += any(
                o.id in ok and {g.condition_id for g in o.legs} == markets
                for o in opportunities_for_run(db, run_id)
            )
        traders = {
            r.run_id
            for r in intents_by_status(db, list(OrderStatus), "live")
            if r.run_id in runs and r.condition_id in markets
        }
    return RaceOutcome(approved=approved, traded=len(traders))
