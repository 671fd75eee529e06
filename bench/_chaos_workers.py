"""Chaos cycles that need other processes: a SIGKILLed scan, a reconcile elsewhere, a race,
a scan halted mid-execute, two runs of different strategies at once, a scan whose credentials
hold a control character.

Workers are ``bench/_chaos_run.py`` processes (see its docstring for the protocol).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
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
from pm_lib.store import halt, intents_by_status, make_engine, session_scope
from pm_lib.store.signals import decisions_for_run, opportunities_for_run

__all__ = [
    "RaceOutcome",
    "concurrent_scans",
    "halted_scan",
    "killed_scan",
    "race",
    "reconcile_elsewhere",
    "refused_scan",
]

WORKER = Path(__file__).resolve().parent / "_chaos_run.py"


def _worker(
    role: str,
    session: Session,
    offset: float,
    fields: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
    stderr: Any = subprocess.DEVNULL,
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), role, json.dumps(fields or session.fields), str(offset)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _done(out: str) -> dict[str, Any]:
    done = [line for line in out.splitlines() if line.startswith("done ")]
    return dict(json.loads(done[-1][5:])) if done else {"error": "worker gave no answer"}


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
    return _done(out)


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


def halted_scan(
    session: Session, running: RunningVenue, delay: float, offset: float
) -> dict[str, Any]:
    """A scan in a worker; ``delay`` s after it entered execute the operator's halt is committed
    from another connection. ``halted_at``: the venue clock just after the commit (None: the
    run never reached execute); ``created``: venue creation time of each order of the wallet."""
    before = {o["id"] for o in session.control.orders(session.address)}
    worker = _worker("scan", session, offset)
    assert worker.stdout is not None
    halted_at: float | None = None
    out = ""
    for line in worker.stdout:
        out += line
        if line.startswith("executing"):
            time.sleep(delay)
            operator = make_engine(session.settings.resolved_database_url)
            try:
                with session_scope(operator) as db:
                    halt(db, "chaos: operator halt mid-scan", "chaos")
            finally:
                operator.dispose()
            halted_at = running.venue.exchange.now()
    worker.wait(timeout=300)
    orders = running.venue.exchange.orders
    created = {
        o["id"]: orders[o["id"]].created_at
        for o in session.control.orders(session.address)
        if o["id"] not in before and o["id"] in orders
    }
    return _done(out) | {"halted_at": halted_at, "created": created}


def concurrent_scans(
    session: Session, running: RunningVenue, rng: random.Random, offset: float
) -> dict[str, Any]:
    """Two baskets planted on two events; two held scan workers with different strategy sets
    decide, then are released into execute together. Their answers, as ``runs``."""
    events = rng.sample(complete_negrisk_events(running.venue), 2)
    for event in events:
        plant_negrisk_arbitrage(
            running.venue,
            event=event,
            total_ask=Decimal("0.86"),
            size=Decimal(rng.choice([60, 150])),
        )
    strategies = [["negrisk_arbitrage"], ["complement_arbitrage", "negrisk_arbitrage"]]
    workers = [
        _worker("held-scan", session, offset, session.fields | {"strategies": s})
        for s in strategies
    ]
    held = [_await_line(w, "executing") is not None for w in workers]
    for worker in workers:
        assert worker.stdin is not None
        if worker.poll() is None:
            worker.stdin.write("go\n")
            worker.stdin.flush()
    runs = [_done(w.communicate(timeout=300)[0]) for w in workers]
    return {
        "runs": runs,
        "both_executed": all(held),
        "orders": sum(int(r.get("orders", 0)) for r in runs),
    }


def refused_scan(
    session: Session, credential: tuple[str, str], offset: float, folder: Path
) -> dict[str, Any]:
    """A scan in a worker whose ``credential`` (name, value) holds a control character, every
    log record to ``folder``/worker.log and its stdout and stderr to files there too."""
    folder.mkdir(parents=True, exist_ok=True)
    name, value = credential
    before = len(session.control.orders(session.address))
    with (folder / "worker.stderr").open("w") as stderr:
        worker = _worker(
            "scan",
            session,
            offset,
            env={name: value, "CHAOS_LOG_FILE": str(folder / "worker.log")},
            stderr=stderr,
        )
        out, _ = worker.communicate(timeout=300)
    (folder / "worker.stdout").write_text(out)
    answer = _done(out)
    answer["venue_orders"] = len(session.control.orders(session.address)) - before
    return answer


class EngineRestart(threading.Thread):
    """After ``delay`` s, a matching-engine restart of ``restart`` s then ``post_only`` s."""

    def __init__(self, control: Any, delay: float, restart: float, post_only: float) -> None:
        super().__init__(name="chaos-engine-restart", daemon=True)
        self._control, self._delay = control, delay
        self._body = {"restart_seconds": restart, "post_only_seconds": post_only}

    def run(self) -> None:
        time.sleep(self._delay)
        self._control.call("POST", "/engine-restart", self._body)
