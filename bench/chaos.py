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

``--settle N`` then runs N settlement rounds (``_chaos_settle``): a wallet of a random signature
type buys a binary pair or a neg-risk basket live, the basket's event resolves, and ``settle``
merges or redeems on chain through the real SDK while the RPC or relayer answer is lost, a
submission never arrives, a transaction reverts or hangs pending; the wallet must be paid
exactly once and the ledger, the journal and the chain must agree.

Prints one line per cycle with ``-v``, the figures, ``settle_rounds=N ...`` when asked, and last
``cycles=N faults=F violations=V`` (violations of every phase).
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
from _chaos_invariants import Violation, check_halt, check_refusal, check_secrets, intents
from _chaos_sabotage import sabotage_steps
from _chaos_session import Session, open_session
from _chaos_settle import SETTLE_FAULTS, SETTLE_VIOLATIONS, settle_round
from _chaos_workers import (
    EngineRestart,
    concurrent_scans,
    halted_scan,
    killed_scan,
    race,
    refused_scan,
)

from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimEvent
from pm_lib.sim.venue import SimConfig, SimVenue

STORED_CATALOGUE = {"catalogue_max_age_seconds": 900, "catalogue_full_refresh_seconds": 3600}
"""The defaults a session returns to after a cycle that read the catalogue afresh."""


class Campaign:
    """The cycles of one run of this script and their tallies."""

    def __init__(self, running: RunningVenue, args: argparse.Namespace, workdir: Path) -> None:
        self.running = running
        self.args = args
        self.workdir = workdir
        self.rng = random.Random(args.seed)
        self.control = VenueControl(running.clob_url)
        self.pool = tuple(args.kinds.split(",")) if args.kinds else FAULT_KINDS
        self.offset = 0.0
        self.faults: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()
        self.violations: Counter[str] = Counter()
        self.examples: list[str] = []
        self.figures: Counter[str] = Counter()
        self.settle_faults: Counter[str] = Counter()

    def advance(self, seconds: float) -> None:
        """Move the venue clock and the campaign clock together."""
        self.running.venue.state.clock.advance(seconds)
        self.offset += seconds

    def plant(self) -> SimEvent | None:
        """Plant an arbitrage on a random complete neg-risk event (7 cycles in 8)."""
        if self.rng.random() >= 0.875:
            return None
        events = complete_negrisk_events(self.running.venue)
        event = plant_negrisk_arbitrage(
            self.running.venue,
            event=self.rng.choice(events),
            total_ask=self.rng.choice([Decimal("0.80"), Decimal("0.88"), Decimal("0.94")]),
            size=Decimal(self.rng.choice([40, 80, 150])),
        )
        self.figures["arbitrages_planted"] += 1
        return event

    def venue_faults(self, plan: FaultPlan, event: SimEvent | None) -> dict[str, Any]:
        """The faults set on the venue's state (on the planted event where there is one)."""
        state = self.running.venue.state
        made: dict[str, Any] = {}
        body: dict[str, Any]
        if "incomplete_event" in plan.kinds:
            if event is None:
                self.control.call("POST", "/incomplete-events", {"rate": 0.1})
            elif plan.omit_favourite:
                self.control.call("POST", "/incomplete-events", {"event_id": event.event_id})
            else:
                omit = [self.rng.choice(event.condition_ids)]
                body = {"event_id": event.event_id, "omit": omit}
                self.control.call("POST", "/incomplete-events", body)
        legs = list(event.condition_ids) if event is not None else []
        if "taker_delay" in plan.kinds and legs:
            made["delayed"] = self.rng.choice(legs)
            body = {"taker_delay_seconds": plan.taker_delay}
            self.control.call("PATCH", f"/markets/{made['delayed']}", body)
        if "ghost_leg" in plan.kinds and legs:
            made["ghost_token"] = state.markets[self.rng.choice(legs)].yes_token
            self.control.call("POST", "/ghost-fills", {"token_id": made["ghost_token"], "count": 1})
        return made

    def undo_venue_faults(self, made: dict[str, Any]) -> None:
        """Taker delay off, targeted ghost fills not yet used dropped."""
        if "delayed" in made:
            self.control.call("PATCH", f"/markets/{made['delayed']}", {"taker_delay_seconds": 0})
        if "ghost_token" in made:
            self.control.call("POST", "/ghost-fills", {"token_id": made["ghost_token"], "count": 0})

    def run_scan(self, session: Session, plan: FaultPlan, number: int) -> dict[str, Any]:
        """The cycle's scan, run as its plan says (module docstring)."""
        kinds = plan.kinds
        if "worker_killed" in kinds:
            outcome = killed_scan(session, plan, self.offset)
            self.fired["worker_killed"] += bool(outcome.get("killed"))
        elif "halt_mid_scan" in kinds:
            outcome = halted_scan(session, self.running, plan.halt_delay, self.offset)
            self.fired["halt_mid_scan"] += bool(outcome.get("approved")) and bool(
                outcome["halted_at"]
            )
        elif "concurrent_runs" in kinds:
            outcome = concurrent_scans(session, self.running, self.rng, self.offset)
            self.fired["concurrent_runs"] += bool(outcome.pop("both_executed"))
            self.figures["concurrent_runs"] += 2
        elif "bad_credentials" in kinds:
            assert plan.credential is not None
            folder = self.workdir / f"cycle-{number}"
            outcome = refused_scan(session, plan.credential, self.offset, folder)
            outcome["files"] = [str(p) for p in sorted(folder.iterdir())]
        else:
            outcome = session.scan_here(plan, self.offset)
            self.fired["db_locked"] += bool(outcome.pop("lock_held", 0.0))
        return outcome

    def credential_checks(
        self, session: Session, plan: FaultPlan, outcome: dict[str, Any]
    ) -> list[Violation]:
        """A run with a control character in a credential refused at load naming the variable,
        sent nothing, and no spelling of the value is anywhere."""
        assert plan.credential is not None
        name, value = plan.credential
        found = check_refusal(name, outcome)
        self.fired["bad_credentials"] += not found
        files = [Path(f) for f in outcome.get("files", [])]
        if session.settings.resolved_database_url.startswith("sqlite"):
            files += sorted(self.workdir.glob(f"session-{session.number}.db*"))
        self.figures["secret_files_searched"] += len(files)
        return found + check_secrets([value], files, session.engine)

    def cycle(self, session: Session, number: int) -> None:
        """One cycle (module docstring)."""
        event = self.plant()
        tripped = session.breaker_tripped(self.offset)
        self.figures["breaker_tripped_cycles"] += tripped
        before = session.intent_keys()
        venue_before = {o["id"] for o in self.control.orders(session.address)}
        ghosts = session.ghost_trades()
        refusals = session.refusals()
        plan = draw_plan(self.rng, self.pool)
        self.faults.update(plan.kinds)
        fresh = "incomplete_event" in plan.kinds
        if fresh:  # the scan reads Gamma afresh, not the stored catalogue
            session.override({k: 0 for k in STORED_CATALOGUE})
        harness = []
        if "missed_heartbeats" in plan.kinds:
            harness.append(session.place_resting_order(self.offset))
        if "partial_fill" in plan.kinds:
            harness.append(session.place_partial_order(self.offset, self.rng))
            self.fired["partial_fill"] += session.partly_filled()
        made = self.venue_faults(plan, event)
        installed = self.control.inject(plan)
        restart = None
        if "engine_restart" in plan.kinds:
            restart = EngineRestart(self.control, *plan.restart)
            restart.start()
        outcome = self.run_scan(session, plan, number)
        if restart is not None:
            restart.join()
            self.fired["engine_restart"] += 1
        fired = self.control.fired(installed)
        fired.pop("missed_heartbeats", None)  # counted below by its effect, not its 503s
        fired.pop("latency", None)
        self.fired.update(fired)
        self.fired["rate_limit_storm"] += self.control.throttled()
        new_orders = [
            o for o in self.control.orders(session.address) if o["id"] not in venue_before
        ]
        if "lookup_misses" in plan.kinds:
            exchange = self.running.venue.exchange
            self.fired["lookup_misses"] += sum(
                1
                for o in new_orders
                if o["id"] in exchange.orders and exchange.lookup_misses(exchange.orders[o["id"]])
            )
        if "delayed" in made:
            delayed = [o for o in new_orders if o["market"] == made["delayed"]]
            self.fired["taker_delay"] += len(delayed)
        self.control.clear()
        self.undo_venue_faults(made)
        self.advance(5 + (12 if harness else 0))
        if "missed_heartbeats" in plan.kinds:
            self.fired["missed_heartbeats"] += session.cancelled_by_venue(harness[0])
        for executor in harness:
            executor.close()
        elsewhere = bool({"worker_killed", "concurrent_runs"} & set(plan.kinds))
        if plan.reconcile_rules:  # a reconcile fed garbled private reads, then a clean one
            self.control.install(plan.reconcile_rules)
            faulted = session.reconcile(self.offset, elsewhere=elsewhere)
            self.figures["reconciles_failed_on_garbled_reads"] += "error" in faulted
            rules = self.control.call("GET", "/faults")
            self.fired["malformed_reads"] += sum(int(r["fired"]) for r in rules)
            self.control.clear()
        reconciled = session.reconcile(self.offset, elsewhere=elsewhere)
        if "halt_mid_scan" in plan.kinds:
            session.set_halt(False)
        if "ghost_token" in made:
            self.fired["ghost_leg"] += session.ghost_trades(made["ghost_token"])
        self.fired["ghost_fills"] += session.ghost_trades() - ghosts
        if "incomplete_event" in plan.kinds:
            self.fired["incomplete_event"] += session.refusals() > refusals
        clean = "discrepancies" in reconciled and not reconciled["discrepancies"]
        found = session.check(
            new_keys=session.intent_keys() - before, breaker_tripped=tripped, clean=clean
        )
        if outcome.get("halted_at") is not None:
            found += check_halt(intents(session.engine), outcome["created"], outcome["halted_at"])
        if "bad_credentials" in plan.kinds:
            found += self.credential_checks(session, plan, outcome)
        if fresh:
            session.override(STORED_CATALOGUE)
        runs = outcome.get("runs", [outcome])
        self.figures["scan_errors"] += sum("error" in r for r in runs)
        self.figures["orders"] += sum(int(r.get("orders", 0)) for r in runs)
        self.figures["leases_skipped"] += sum(int(r.get("skipped", 0)) for r in runs)
        self.figures["reconcile_discrepancies"] += len(reconciled.get("discrepancies", []))
        self.violations.update(v.kind for v in found)
        self.examples += [f"cycle {number}: {v.kind}: {v.detail}" for v in found][:5]
        if self.args.verbose:
            shown = {k: v for k, v in outcome.items() if k not in ("created", "files")}
            print(
                f"cycle {number:4d} session {session.number} faults {plan.kinds or '-'} "
                f"scan {shown} reconcile {reconciled.get('discrepancies', reconciled)} "
                f"violations {[v.kind for v in found]}"
                + "".join(f"\n  {v.kind}: {v.detail}" for v in found[:3]),
                flush=True,
            )

    def sabotage(self) -> tuple[list[str], list[str]]:
        """Prove the checks can fail: a clean traded cycle, then broken on purpose
        (``_chaos_sabotage``). Returns the kinds detected and the steps that were not."""
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
            session.scan_here(FaultPlan(kinds=[]), self.offset)
            self.advance(5)
            session.reconcile_here(self.offset)
            return sabotage_steps(session, self.workdir)
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

    def settle_rounds(self, count: int) -> None:
        """``count`` settlement rounds under settlement faults (``_chaos_settle``)."""
        for number in range(count):
            found = settle_round(self.rng, self.workdir, number)
            self.figures["settle_rounds"] += 1
            self.figures["settle_runs"] += found.runs
            self.figures[f"settle_{found.scenario}_{found.signature_type}"] += 1
            self.settle_faults.update(found.faults)
            self.figures["settle_rounds_with_faults_fired"] += found.fired["any"]
            self.violations.update(kind for kind, _ in found.violations)
            self.examples += [f"settle {number}: {k}: {d}" for k, d in found.violations][:5]
            if self.args.verbose:
                print(
                    f"settle {number}: type {found.signature_type} {found.scenario} "
                    f"faults {found.faults} runs {found.runs} violations {found.violations}",
                    flush=True,
                )

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
            "settle_faults": {k: self.settle_faults[k] for k in SETTLE_FAULTS},
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
        "--settle", type=int, default=0, help="then run this many settlement rounds under faults"
    )
    parser.add_argument(
        "--sabotage", action="store_true", help="end by checking that a broken DB is detected"
    )
    parser.add_argument(
        "--kinds", default=None, help="draw only these fault kinds (comma-separated)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    if args.kinds and not set(args.kinds.split(",")) <= set(FAULT_KINDS):
        parser.error(f"--kinds: one of {', '.join(FAULT_KINDS)}")
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
        campaign.settle_rounds(args.settle)
        report = campaign.report()
        if args.sabotage and args.cycles:
            report["sabotage_detected"], report["sabotage_missed"] = campaign.sabotage()
        if args.sabotage and args.settle:
            caught = settle_round(campaign.rng, Path(tmp), 9999, sabotage=True).violations
            report["settle_sabotage_caught"] = sorted({kind for kind, _ in caught})
    report["seconds"] = round(time.monotonic() - started, 1)
    for line in report["examples"]:
        print(line)
    if args.sabotage and args.cycles:
        print(f"sabotage detected: {' '.join(report['sabotage_detected'])}")
        for missed in report["sabotage_missed"]:
            print(f"sabotage missed: {missed}")
    if args.sabotage and args.settle:
        print(f"settle sabotage caught: {' '.join(report['settle_sabotage_caught']) or 'NOTHING'}")
    print(json.dumps({k: v for k, v in report.items() if k != "examples"}))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.settle:
        figures = report["figures"]
        settle_violations = sum(
            n for k, n in report["violations"].items() if k in SETTLE_VIOLATIONS
        )
        print(
            f"settle_rounds={figures.get('settle_rounds', 0)} "
            f"settle_runs={figures.get('settle_runs', 0)} "
            f"settle_faults={sum(report['settle_faults'].values())} "
            f"settle_violations={settle_violations}"
        )
    print(
        f"cycles={report['cycles']} faults={report['faults_total']} "
        f"violations={report['violations_total']}"
    )


if __name__ == "__main__":
    main()
