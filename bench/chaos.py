"""Fault campaign: randomised live scan/reconcile cycles against the emulator, invariants checked.

Run (not collected by pytest; a short campaign runs in tests/reliability/test_chaos.py):

    uv run python bench/chaos.py --cycles 200 --seed 1
    uv run python bench/chaos.py --cycles 50 --seed 2 --database-url \
        postgresql+psycopg://postgres@127.0.0.1:5432/test

One emulator (generated universe, static books, the documented rate limits) serves every
cycle. Cycles are grouped in sessions of ``--session-cycles``; a session is one wallet (a
fixed throw-away key) and one fresh database (a SQLite file, or a throwaway PostgreSQL schema)
with randomised risk limits, some low enough that the daily-loss breaker trips. A cycle:

1. plants a neg-risk arbitrage on a random complete event (7 cycles in 8);
2. reads today's loss from the DB as a restarted run would (the breaker state);
3. draws 1-3 faults (``_chaos_faults``) and injects them;
4. runs one armed live scan (``_chaos_run``): in this process, or in a worker process that is
   SIGKILLed at a random point;
5. removes the faults and moves the venue clock 5 s (12 s more on heartbeat cycles) so trades
   settle and silent heartbeats expire;
6. reconciles, in a fresh process after a kill;
7. checks the invariants (``_chaos_invariants``) against the venue's own records.

``--races N`` then runs N races (``_chaos_workers.race``): two scan workers on one database
decide on the same freshly planted basket and are released into their execute stages at the
same moment; more than one of them trading it is a ``double_trade`` violation.

Prints one line per cycle with ``-v``, the figures, and last ``cycles=N faults=F violations=V``.
``--json FILE`` writes the figures (faults and violations by kind) for docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _chaos_faults import FAULT_KINDS, FaultPlan, VenueControl, draw_plan
from _chaos_invariants import Violation
from _chaos_session import Session, open_session
from _chaos_workers import killed_scan, race, reconcile_elsewhere

from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue


class Campaign:
    """The cycles of one run of this script and their tallies."""

    def __init__(self, running: RunningVenue, args: argparse.Namespace, workdir: Path) -> None:
        self.running = running
        self.args = args
        self.workdir = workdir
        self.rng = random.Random(args.seed)
        self.control = VenueControl(running.clob_url)
        self.offset = 0.0
        self.faults: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()
        self.violations: Counter[str] = Counter()
        self.examples: list[str] = []
        self.figures: Counter[str] = Counter()

    def advance(self, seconds: float) -> None:
        """Move the venue clock and the campaign clock together."""
        self.running.venue.state.clock.advance(seconds)
        self.offset += seconds

    def plant(self) -> None:
        """Plant an arbitrage on a random complete neg-risk event (7 cycles in 8)."""
        if self.rng.random() >= 0.875:
            return
        events = complete_negrisk_events(self.running.venue)
        plant_negrisk_arbitrage(
            self.running.venue,
            event=self.rng.choice(events),
            total_ask=self.rng.choice([Decimal("0.80"), Decimal("0.88"), Decimal("0.94")]),
            size=Decimal(self.rng.choice([40, 80, 150])),
        )
        self.figures["arbitrages_planted"] += 1

    def cycle(self, session: Session, number: int) -> None:
        """One cycle (module docstring)."""
        self.plant()
        tripped = session.breaker_tripped(self.offset)
        self.figures["breaker_tripped_cycles"] += tripped
        before = session.intent_keys()
        ghosts = session.ghost_trades()
        plan = draw_plan(self.rng)
        self.faults.update(plan.kinds)
        resting = None
        if "missed_heartbeats" in plan.kinds:
            resting = session.place_resting_order(self.offset)
        installed = self.control.inject(plan)
        if "worker_killed" in plan.kinds:
            outcome = killed_scan(session, plan, self.offset)
            self.fired["worker_killed"] += bool(outcome.get("killed"))
        else:
            outcome = session.scan_here(plan, self.offset)
            self.fired["db_locked"] += bool(outcome.pop("lock_held", 0.0))
        fired = self.control.fired(installed)
        fired.pop("missed_heartbeats", None)  # counted below by its effect, not its 503s
        self.fired.update(fired)
        self.fired["rate_limit_storm"] += self.control.throttled()
        self.control.clear()
        self.advance(5 + (12 if resting is not None else 0))
        if resting is not None:
            self.fired["missed_heartbeats"] += session.cancelled_by_venue(resting)
        if "worker_killed" in plan.kinds:
            reconciled = reconcile_elsewhere(session, self.offset)
        else:
            reconciled = session.reconcile_here(self.offset)
        self.fired["ghost_fills"] += session.ghost_trades() - ghosts
        found = session.check(new_keys=session.intent_keys() - before, breaker_tripped=tripped)
        self.figures["scan_errors"] += "error" in outcome
        self.figures["orders"] += int(outcome.get("orders", 0))
        self.figures["leases_skipped"] += int(outcome.get("skipped", 0))
        self.figures["reconcile_discrepancies"] += len(reconciled.get("discrepancies", []))
        self.violations.update(v.kind for v in found)
        self.examples += [f"cycle {number}: {v.kind}: {v.detail}" for v in found][:5]
        if self.args.verbose:
            print(
                f"cycle {number:4d} session {session.number} faults {plan.kinds or '-'} "
                f"scan {outcome} reconcile {reconciled.get('discrepancies', reconciled)} "
                f"violations {[v.kind for v in found]}",
                flush=True,
            )

    def sabotage(self) -> list[str]:
        """Prove the checks can fail: a clean traded cycle, then the DB broken on purpose.

        Returns the violation kinds found after one fill row was deleted and one intent's
        venue order id overwritten (expected: position_mismatch and unknown_order).
        """
        session = open_session(
            253,
            self.running,
            self.control,
            self.rng,
            self.workdir,
            self.args.database_url,
            limits={"max_daily_loss": Decimal(1000)},
        )
        try:
            plant_negrisk_arbitrage(self.running.venue, total_ask=Decimal("0.85"), size=Decimal(80))
            traded = session.scan_here(FaultPlan(kinds=[]), self.offset)
            self.advance(5)
            session.reconcile_here(self.offset)
            clean = session.check(new_keys=set(), breaker_tripped=False)
            if clean or not session.break_records():
                return [f"not clean before sabotage: {[v.kind for v in clean]} {traded}"]
            return sorted({v.kind for v in session.check(new_keys=set(), breaker_tripped=False)})
        finally:
            session.close()

    def races(self, count: int) -> None:
        """Two scan workers at once on one database, ``count`` times (each in its own session)."""
        for number in range(count):
            session = open_session(
                1000 + number,
                self.running,
                self.control,
                self.rng,
                self.workdir,
                self.args.database_url,
                limits={"max_daily_loss": Decimal(1000), "max_total_exposure": Decimal(5000)},
                key="0x" + f"{0xA1CE0000 + number:064x}",
            )
            try:
                outcome = race(session, self.running, self.rng, self.offset)
                self.advance(5)
                session.reconcile_here(self.offset)
                found = session.check(new_keys=set(), breaker_tripped=False)
            finally:
                session.close()
            self.figures["races"] += 1
            self.figures["races_both_approved"] += outcome.approved == 2
            self.figures["concurrent_runs"] += 2
            if outcome.traded > 1:
                found.append(Violation("double_trade", f"race {number}: {outcome}"))
            self.violations.update(v.kind for v in found)
            self.examples += [f"race {number}: {v.kind}: {v.detail}" for v in found][:5]
            if self.args.verbose:
                print(f"race {number}: {outcome} violations {[v.kind for v in found]}", flush=True)

    def run(self) -> None:
        """Every cycle, opening a new session every ``--session-cycles``."""
        session: Session | None = None
        for number in range(self.args.cycles):
            if number % self.args.session_cycles == 0:
                if session is not None:
                    session.close()
                session = open_session(
                    number // self.args.session_cycles,
                    self.running,
                    self.control,
                    self.rng,
                    self.workdir,
                    self.args.database_url,
                )
                self.figures["sessions"] += 1
            assert session is not None
            self.cycle(session, number)
        if session is not None:
            session.close()

    def report(self) -> dict[str, Any]:
        """The figures as one JSON-ready object."""
        return {
            "cycles": self.args.cycles,
            "seed": self.args.seed,
            "database": "postgresql" if self.args.database_url else "sqlite",
            "faults": {k: self.faults[k] for k in FAULT_KINDS},
            "fired": {k: self.fired[k] for k in FAULT_KINDS},
            "faults_total": sum(self.faults.values()),
            "violations": dict(self.violations),
            "violations_total": sum(self.violations.values()),
            "figures": dict(self.figures),
            "examples": self.examples[:20],
        }


def main() -> None:
    """Run the campaign of the module docstring and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--markets", type=int, default=150)
    parser.add_argument("--session-cycles", type=int, default=12)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument(
        "--races", type=int, default=0, help="then race two scan workers on one DB this often"
    )
    parser.add_argument(
        "--sabotage", action="store_true", help="end by checking that a broken DB is detected"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.cycles > 250 * args.session_cycles:
        parser.error("at most 250 sessions: each needs its own wallet (a fixed test key)")
    # The SDK logs every refused request at ERROR (the L1 create-then-derive dance, the
    # injected faults): expected here, so shown only with -v.
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL)
    config = SimConfig(
        seed=args.seed,
        markets=args.markets,
        book_epoch_seconds=0,  # static books: the campaign's clock jumps must not move prices
        negrisk_dip_rate=0.0,
        negrisk_near_miss_rate=0.0,
        auth_window_seconds=10 * 24 * 3600,  # the venue clock runs ahead of the SDK's wall time
    )
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="pm-chaos-") as tmp,
        running_venue(SimVenue(config)) as running,
    ):
        campaign = Campaign(running, args, Path(tmp))
        campaign.run()
        campaign.races(args.races)
        report = campaign.report()
        if args.sabotage:
            report["sabotage_detected"] = campaign.sabotage()
    report["seconds"] = round(time.monotonic() - started, 1)
    for line in report["examples"]:
        print(line)
    if args.sabotage:
        print(f"sabotage detected: {' '.join(report['sabotage_detected'])}")
    print(json.dumps({k: v for k, v in report.items() if k != "examples"}))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"cycles={report['cycles']} faults={report['faults_total']} "
        f"violations={report['violations_total']}"
    )


if __name__ == "__main__":
    main()
