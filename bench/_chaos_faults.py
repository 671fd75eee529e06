"""The faults a chaos cycle injects, and the emulator's control API that injects them.

Kinds (``FAULT_KINDS``), each drawn independently per cycle:

- ``response_lost``: POST /order runs at the venue, the answer is cut half way (accepted, lost);
- ``http_5xx``: 500/502/503 on POST /order (the route does not run) or on a read (books,
  Gamma, /data/*), which pm-agent retries;
- ``http_425``: 425 Too Early (matching-engine restart, docs/VENUE.md 4.6) on /order or /books;
- ``rate_limit_storm``: the venue's limits cut to 1-2 requests per 10 s on the order endpoint
  or on the read endpoints, so 429s with Retry-After come in bursts;
- ``timeout``: POST /order or POST /books held past pm-agent's 1 s HTTP timeout;
- ``worker_killed``: the scan runs in a worker process that gets SIGKILL at a random point
  (after its imports, or just after it entered the execute stage); reconcile then runs in a
  fresh process;
- ``db_locked``: another connection holds the database's write lock for 0.5-7 s during the scan
  (SQLite: ``BEGIN IMMEDIATE``, longer than the 5 s busy timeout at the top of the range;
  PostgreSQL: ``LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE``, writers wait);
- ``ghost_fills``: half of the cycle's trades revert on chain (FAILED after matching);
- ``missed_heartbeats``: a resting GTC order is placed, then heartbeats fail (503) and the venue
  clock moves past the 10 s heartbeat timeout, so the venue cancels it behind pm-agent's back;
- ``malformed_reads``: garbled 200 bodies on ``GET /data/order/{id}``, ``/data/orders`` or
  ``/data/trades`` during the scan and during a first reconcile (a second, clean one follows);
- ``incomplete_event``: Gamma's ``/events`` leaves an outcome out of the planted event (its
  favourite, or a random leg), or of a tenth of all neg-risk events; the scan's catalogue is
  read afresh;
- ``concurrent_runs``: two scan workers on the session's database with different strategy
  sets, over two planted baskets, released into execute together;
- ``halt_mid_scan``: the operator's halt is committed from another connection a random moment
  after the scan worker entered execute (POST /order slowed, so legs are spread out);
- ``bad_credentials``: the scan worker's ``POLYMARKET_API_KEY``/``SECRET``/``PASSPHRASE`` holds a
  newline, CR LF or a tab: the run must refuse at load, and no spelling of the value may reach
  a log, the worker's output, the database or any file;
- ``partial_fill``: a thin ask is planted and the harness's marketable GTC BUY crosses part of
  it; the rest rests (then the venue cancels it when its heartbeats stop);
- ``taker_delay``: one leg of the planted basket gets a 0.25-1 s taker delay (``delayed``);
- ``ghost_leg``: the next trade on one chosen leg of the planted basket fails on chain;
- ``lookup_misses``: half of the filled FOK/FAK orders' lookups answer 404 or an empty body;
- ``engine_restart``: a short matching-engine restart (425, then post-only) a random moment
  into the scan.

``worker_killed``, ``halt_mid_scan``, ``concurrent_runs`` and ``bad_credentials`` say how the
scan runs: a cycle draws at most one of them.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

__all__ = ["FAULT_KINDS", "DatabaseLock", "FaultPlan", "VenueControl", "draw_plan"]

FAULT_KINDS = (
    "response_lost",
    "http_5xx",
    "http_425",
    "rate_limit_storm",
    "timeout",
    "worker_killed",
    "db_locked",
    "ghost_fills",
    "missed_heartbeats",
    "malformed_reads",
    "incomplete_event",
    "concurrent_runs",
    "halt_mid_scan",
    "bad_credentials",
    "partial_fill",
    "taker_delay",
    "ghost_leg",
    "lookup_misses",
    "engine_restart",
)
RUN_KINDS = ("worker_killed", "halt_mid_scan", "concurrent_runs", "bad_credentials")
"""Kinds that decide how the scan runs (in-process, killed, halted, raced, refused): one a cycle."""
_PRIVATE_READS = ("/data/order/.*", "/data/orders", "/data/trades")
CONTROL_CHARACTERS = ("\n", "\r\n", "\t")
CREDENTIAL_NAMES = ("POLYMARKET_API_KEY", "POLYMARKET_SECRET", "POLYMARKET_PASSPHRASE")
_READ_PATHS = ("/books", "/gamma/markets/keyset", "/gamma/events/keyset", "/data/.*")
ORDER_STORM = {"post_order": 1}
READ_STORM = {"books": 1, "ledger": 2, "data_trades": 2, "data_orders": 2}


@dataclass
class FaultPlan:
    """What one cycle injects."""

    kinds: list[str]
    rules: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    storm: dict[str, int] = field(default_factory=dict)
    kill_after_execute: bool = False
    kill_delay: float = 0.0
    lock_delay: float = 0.0
    lock_seconds: float = 0.0
    reconcile_rules: list[dict[str, Any]] = field(default_factory=list)
    order_latency: float = 0.0
    halt_delay: float = 0.0
    credential: tuple[str, str] | None = None
    lookup_answer: str = "404"
    restart: tuple[float, float, float] = (0.0, 0.0, 0.0)  # delay, restart, post-only seconds
    taker_delay: float = 0.0
    omit_favourite: bool = True


def _order_rule(kind: str, rng: random.Random, **extra: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "path": "/order",
        "method": "POST",
        "probability": rng.choice([0.3, 0.6, 1.0]),
        "count": rng.randint(1, 3),
        **extra,
    }


def _rules(kind: str, rng: random.Random) -> list[dict[str, Any]]:
    if kind == "response_lost":
        return [_order_rule("response_lost", rng)]
    if kind == "http_5xx":
        status = rng.choice([500, 502, 503])
        if rng.random() < 0.6:
            return [_order_rule("error", rng, status=status)]
        path = rng.choice(_READ_PATHS)
        return [{"kind": "error", "path": path, "status": status, "count": rng.randint(1, 2)}]
    if kind == "http_425":
        if rng.random() < 0.6:
            return [_order_rule("error", rng, status=425)]
        return [{"kind": "error", "path": "/books", "status": 425, "count": 1}]
    if kind == "timeout":
        if rng.random() < 0.6:
            return [_order_rule("timeout", rng, delay_seconds=2.5)]
        return [{"kind": "timeout", "path": "/books", "delay_seconds": 2.5, "count": 1}]
    if kind == "missed_heartbeats":
        return [{"kind": "error", "path": "/(v1/)?heartbeats", "status": 503}]
    if kind == "malformed_reads":
        return [_malformed_read(rng)]
    return []


def _malformed_read(rng: random.Random) -> dict[str, Any]:
    return {
        "kind": "malformed",
        "path": rng.choice(_PRIVATE_READS),
        "method": "GET",
        "probability": rng.choice([0.5, 1.0]),
        "count": rng.randint(1, 3),
    }


def _secret(rng: random.Random) -> str:
    """A credential-like value with a control character between two pieces."""
    head, tail = f"{rng.getrandbits(48):012x}", f"{rng.getrandbits(48):012x}"
    return f"chaos-ctl-{head}{rng.choice(CONTROL_CHARACTERS)}chaos-tail-{tail}"


def draw_plan(rng: random.Random, pool: tuple[str, ...] = FAULT_KINDS) -> FaultPlan:
    """One to three fault kinds of ``pool`` (or, one cycle in eight, none: the control)."""
    if rng.random() < 0.125:
        return FaultPlan(kinds=[])
    kinds = rng.sample(pool, min(len(pool), rng.choice([1, 1, 2, 2, 3])))
    runs = [k for k in kinds if k in RUN_KINDS]
    kinds = sorted(k for k in kinds if k not in RUN_KINDS or k == (runs[0] if runs else None))
    plan = FaultPlan(kinds=kinds)
    for kind in kinds:
        plan.rules += [(kind, rule) for rule in _rules(kind, rng)]
    if "rate_limit_storm" in kinds:
        plan.storm = dict(ORDER_STORM if rng.random() < 0.7 else READ_STORM)
    if "worker_killed" in kinds:
        plan.kill_after_execute = rng.random() < 0.5
        plan.kill_delay = rng.uniform(0.0, 0.6 if plan.kill_after_execute else 2.0)
        if plan.kill_after_execute and rng.random() < 0.6:
            plan.order_latency = rng.uniform(0.05, 0.3)  # legs spread: a kill lands between them
    if "halt_mid_scan" in kinds:
        plan.halt_delay = rng.uniform(0.0, 0.6)
        plan.order_latency = rng.choice([0.0, rng.uniform(0.05, 0.3)])
    if plan.order_latency:
        plan.rules.append(
            (
                "latency",
                {
                    "kind": "latency",
                    "path": "/order",
                    "method": "POST",
                    "delay_seconds": plan.order_latency,
                },
            )
        )
    if "malformed_reads" in kinds:
        plan.reconcile_rules = [_malformed_read(rng) for _ in range(rng.randint(1, 2))]
    if "bad_credentials" in kinds:
        plan.credential = (rng.choice(CREDENTIAL_NAMES), _secret(rng))
    if "lookup_misses" in kinds:
        plan.lookup_answer = rng.choice(["404", "empty"])
    if "engine_restart" in kinds:
        plan.restart = (rng.uniform(0.0, 1.5), rng.uniform(0.3, 1.5), rng.uniform(0.3, 1.5))
    if "taker_delay" in kinds:
        plan.taker_delay = rng.choice([0.25, 0.5, 1.0])
    if "incomplete_event" in kinds:
        plan.omit_favourite = rng.random() < 0.7
    if "db_locked" in kinds:
        plan.lock_delay = rng.uniform(0.0, 1.5)
        plan.lock_seconds = rng.uniform(0.5, 7.0)
    return plan


class VenueControl:
    """The emulator's ``/_sim`` control API (never faulted, no auth)."""

    def __init__(self, clob_url: str) -> None:
        self._http = httpx.Client(base_url=f"{clob_url}/_sim", timeout=30)
        self.default_limits = {
            name: spec["limit"] for name, spec in self.call("GET", "/rate-limits")["limits"].items()
        }

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """One control request; its JSON answer."""
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def inject(self, plan: FaultPlan) -> dict[str, str]:
        """Install the plan's HTTP rules, rate-limit storm and ghost-fill rate.

        Returns the fault kind of each installed rule by rule id.
        """
        installed: dict[str, str] = {}
        for kind, rule in plan.rules:
            installed[self.call("POST", "/faults", rule)["rule_id"]] = kind
        if plan.storm:
            self.call("POST", "/rate-limits", {"limits": plan.storm})
        if "ghost_fills" in plan.kinds:
            self.call("POST", "/ghost-fill-rate", {"rate": 0.5})
        if "lookup_misses" in plan.kinds:
            self.call("POST", "/filled-lookup-misses", {"rate": 0.5, "answer": plan.lookup_answer})
        return installed

    def install(self, rules: list[dict[str, Any]]) -> None:
        """Install more HTTP fault rules (the reconcile phase's)."""
        for rule in rules:
            self.call("POST", "/faults", rule)

    def fired(self, installed: dict[str, str]) -> dict[str, int]:
        """How many times the installed rules fired, by fault kind."""
        out: dict[str, int] = {}
        for rule in self.call("GET", "/faults"):
            kind = installed.get(rule["rule_id"])
            if kind is not None:
                out[kind] = out.get(kind, 0) + int(rule["fired"])
        return out

    def throttled(self) -> int:
        """429 answers since the last ``clear``."""
        return int(self.call("GET", "/stats")["throttled_total"])

    def clear(self) -> None:
        """Remove every fault, restore the limits, stop ghost fills, reset the counters."""
        self.call("DELETE", "/faults")
        self.call("POST", "/rate-limits", {"limits": self.default_limits})
        self.call("POST", "/ghost-fill-rate", {"rate": 0.0})
        self.call("POST", "/filled-lookup-misses", {"rate": 0.0})
        self.call("DELETE", "/incomplete-events")
        self.call("POST", "/engine-restart", {"restart_seconds": 0, "post_only_seconds": 0})
        self.call("DELETE", "/stats")

    def orders(self, address: str) -> list[dict[str, Any]]:
        """Every order record of ``address`` at the venue."""
        return list(self.call("GET", f"/orders?address={address}"))

    def trades(self, address: str) -> list[dict[str, Any]]:
        """Every trade involving ``address``."""
        return list(self.call("GET", f"/trades?address={address}"))

    def wallet(self, address: str) -> dict[str, Any]:
        """pUSD and positions of ``address`` (base units)."""
        return dict(self.call("GET", f"/wallets/{address}"))

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()


class DatabaseLock(threading.Thread):
    """After ``delay`` s, hold the database's write lock for ``seconds`` s from another session."""

    def __init__(self, url: str, delay: float, seconds: float) -> None:
        super().__init__(name="chaos-db-lock", daemon=True)
        self._url = make_url(url)
        self._delay = delay
        self._seconds = seconds
        self.held = 0.0

    def run(self) -> None:
        time.sleep(self._delay)
        started = time.monotonic()
        if self._url.get_backend_name() == "sqlite":
            db = sqlite3.connect(str(self._url.database), timeout=30, isolation_level=None)
            try:
                db.execute("BEGIN IMMEDIATE")
                time.sleep(self._seconds)
                db.execute("ROLLBACK")
            finally:
                db.close()
        else:
            dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(dsn) as pg, pg.transaction():
                pg.execute(
                    "LOCK TABLE order_intent, fill, market_lease IN SHARE ROW EXCLUSIVE MODE"
                )
                time.sleep(self._seconds)
        self.held = time.monotonic() - started
