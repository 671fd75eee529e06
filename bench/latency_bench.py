"""Benchmark: how fast a neg-risk dip reaches the venue as a basket, streaming vs polling.

Run (not collected by pytest):

    uv run python bench/latency_bench.py --tokens 1000 10000 50000

For each size it starts the emulator in its own process (``bench/_latency_venue.py``: static
books, documented rate limits on, tokens / 2 markets), then in this process pm-agent armed LIVE
against it (the real SDK signs and posts; a fresh SQLite store; the bench's test key;
``PM_BASKET_POSTING=batch``):

1. streaming: ``MarketStream`` over every token (shards of 500) and ``StreamTrader`` (the one
   scan, ``run_scan`` with the stream's books and the window's kept account, one SDK client for
   the window); ``--dips`` times, at a random moment, a 3-leg neg-risk event's YES asks are set
   to sum to 0.90 on the venue and put back ``--hold`` seconds later (in two steps: asks raised
   and bids lowered to the dip's where that is a move, seen by the stream, then the asks dropped,
   so no partial view of a plant shows an edge the venue never had; ``_latency_venue.py``).
   Events with a taker delay (Gamma ``secondsDelay``: sports) are left out: the venue holds
   every marketable order there for about a second, so no client reaches them in milliseconds.
   Latency = the venue clock when it accepted the basket's last leg minus the venue clock at the
   drop; a dip whose three legs did not all reach the venue while it lasted is missed
   (``missed_detail`` says what its evaluations placed and every order the venue refused, with
   the book at that moment);
2. polling: the stream stopped, the scan loop's path (``run_scan`` back to back, every book by
   ``POST /books``) on ``--poll-dips`` of the same dips, each held until taken (at most 60 s).

Where the milliseconds go: ``path_median_ms`` / ``path_p90_ms`` / ``path_slowest_ms`` split each
taken dip's latency along its critical path with wall-clock marks (one machine, one clock):
venue -> client (the emulator's publish pump and the socket), waiting for the evaluation, run
row + catalogue + books stage, portfolio, signals, risk, the hop to execute, executor, kill
switch read, budget claim, intents stored, signing, hashes stored, the post until the venue
accepted the last leg; ``after_venue_to_evaluation_end`` is what the evaluation does after (fills
read back and stored, the claim released, the run closed). ``median_ms`` sums the spans of the
product's functions over each dip's second (every evaluation in it).

Last line: ``p50_ms=<x> p99_ms=<y> missed=<m> poll_p50_ms=<z>`` at the largest size.
The machine is shared (2 cores; the emulator, pm-agent and other work on it): figures are
indicative and the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pm_lib.auth import credentials_from_mapping
from pm_lib.execution import live_fills
from pm_lib.pipeline import context as context_module
from pm_lib.pipeline import scan as scan_module
from pm_lib.pipeline import trading as trading_pipeline
from pm_lib.pipeline.context import RunContext, StageClock, new_run_id
from pm_lib.pipeline.report import ScanReport
from pm_lib.pipeline.scan import ScanVenue, catalogue_stage, run_scan
from pm_lib.settings import Settings
from pm_lib.sim.server import free_port
from pm_lib.store import make_engine, session_scope, start_run, upgrade
from pm_lib.stream import account as account_module
from pm_lib.stream import shard as shard_module
from pm_lib.stream import trader as trader_module
from pm_lib.stream.books import StreamBooks
from pm_lib.stream.market import MarketStream
from pm_lib.stream.trader import StreamTrader
from pm_lib.venue import trading as trading_module
from pm_lib.venue.http import open_venue_client
from pm_lib.venue.ratelimit import RateLimiter
from pm_lib.venue.trading import derive_api_credentials

KEY = "0x" + "44" * 32  # a bench-only key, never funded anywhere real
BENCH = Path(__file__).resolve().parent


# --- instrumentation (bench only: wraps, never changes, what it times) -----------------------
class Probe:
    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = defaultdict(list)
        self.first_change_at: list[float] = []  # wall time a price_change arrived
        # Wall-clock marks of the evaluation under way (evaluations run one after another),
        # kept for those that placed orders: the critical path from the change to the post.
        self.marks: dict[str, float] = {}
        self.placed: list[dict[str, float]] = []

    def timed(self, name: str, fn: Any) -> Any:
        spans = self.spans

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spans[name].append(time.perf_counter() - t)

        return wrapper

    def drain(self) -> dict[str, float]:
        out = {k: sum(v) for k, v in self.spans.items()}
        self.spans.clear()
        return out

    def mark(self, name: str, *, first: bool = False) -> None:
        if not (first and name in self.marks):
            self.marks[name] = time.time()

    def marked(self, name: str, fn: Any, *, at_start: bool = False, first: bool = False) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if at_start:
                self.mark(name, first=first)
            try:
                return fn(*args, **kwargs)
            finally:
                if not at_start:
                    self.mark(name, first=first)

        return wrapper


PROBE = Probe()
GC_PAUSES: list[tuple[int, float]] = []  # (generation, seconds) of each cyclic collection


def _gc_probe(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_probe.started = time.perf_counter()  # type: ignore[attr-defined]
    else:
        started = getattr(_gc_probe, "started", time.perf_counter())
        GC_PAUSES.append((info["generation"], time.perf_counter() - started))


def instrument() -> None:
    """Time parse, book update, signing and posting around the product's own functions."""
    gc.callbacks.append(_gc_probe)
    original_handle = shard_module.MarketShard._handle

    def handle(self: Any, message: Any) -> None:
        t = time.perf_counter()
        original_handle(self, message)
        PROBE.spans["book_update"].append(time.perf_counter() - t)

    shard_module.MarketShard._handle = handle  # type: ignore[method-assign]
    real_loads = orjson.loads

    def loads(data: Any) -> Any:
        t = time.perf_counter()
        out = real_loads(data)
        PROBE.spans["parse"].append(time.perf_counter() - t)
        if isinstance(out, dict) and out.get("event_type") == "price_change":
            PROBE.first_change_at.append(time.time())
        return out

    shard_module.orjson = type(  # type: ignore[attr-defined,assignment]
        "O", (), {"loads": staticmethod(loads), "dumps": orjson.dumps}
    )
    evaluate = trader_module.StreamTrader.evaluate

    async def timed_evaluate(self: Any, changed: set[str]) -> Any:
        PROBE.marks = {"eval_start": time.time()}
        return await evaluate(self, changed)

    trader_module.StreamTrader.evaluate = timed_evaluate  # type: ignore[method-assign]
    portfolio = account_module.WindowAccount.portfolio

    async def timed_portfolio(self: Any, *args: Any) -> Any:
        PROBE.mark("books_done")
        try:
            return await portfolio(self, *args)
        finally:
            PROBE.mark("portfolio_done")

    setattr(account_module.WindowAccount, "portfolio", timed_portfolio)  # noqa: B010
    wrap, timed = PROBE.marked, PROBE.timed
    client = trading_module.TradingClient
    wrappers: tuple[tuple[Any, str, Any], ...] = (
        (scan_module, "risk_decisions", lambda f: wrap("risk_done", f)),
        (scan_module, "execute_approved", lambda f: wrap("execute_start", f, at_start=True)),
        (scan_module, "find_signals", lambda f: wrap("signals_done", timed("strategies", f))),
        (account_module, "portfolio_state", lambda f: timed("portfolio", f)),
        (context_module, "make_executor", lambda f: wrap("executor_ready", timed("executor", f))),
        (
            trading_pipeline,
            "claim",
            lambda f: wrap(
                "claim_done",
                timed("claim", wrap("claim_start", f, at_start=True, first=True)),
                first=True,
            ),
        ),
        (trading_pipeline, "execute_opportunity", lambda f: wrap("basket_done", f, first=True)),
        (
            client,
            "sign",
            lambda f: wrap(
                "sign_done", timed("signing", wrap("sign_start", f, at_start=True, first=True))
            ),
        ),
        (client, "post", lambda f: timed("post", f)),
        (
            client,
            "post_many",
            lambda f: wrap(
                "post_done", timed("post", wrap("post_start", f, at_start=True, first=True))
            ),
        ),
    )
    for owner, name, make in wrappers:
        setattr(owner, name, make(getattr(owner, name)))
    live_fills.FillSync.fetch = PROBE.timed("fills_fetch", live_fills.FillSync.fetch)  # type: ignore[method-assign]
    live_fills.FillSync.store = PROBE.timed("fills_store", live_fills.FillSync.store)  # type: ignore[method-assign]


# --- processes -------------------------------------------------------------------------------
@contextlib.contextmanager
def venue_process(markets: int, seed: int) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            str(BENCH / "_latency_venue.py"),
            "--port",
            str(port),
            "--markets",
            str(markets),
            "--seed",
            str(seed),
        ],
        env={**os.environ, "PYTHONPATH": str(BENCH.parent)},
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                if httpx.get(f"{url}/_sim/universe", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("bench venue did not start")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def control_client() -> httpx.AsyncClient:
    """The bench's own calls (plant, restore, the orders list): a new connection each, so an
    idle keep-alive connection the server has just closed never swallows one."""
    return httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))


def three_leg_events(url: str) -> list[str]:
    events = httpx.get(f"{url}/gamma/events", params={"limit": 500, "closed": "false"}, timeout=60)
    found = []
    for event in events.json():
        markets = event.get("markets") or []
        if (
            event.get("negRisk")
            and not event.get("negRiskAugmented")
            and len(markets) == 3
            and all(
                m.get("acceptingOrders", True) and not m.get("closed") and not m.get("secondsDelay")
                for m in markets
            )
        ):
            found.append(str(event["id"]))
    return found


# --- one size ----------------------------------------------------------------------------------
def settings_for(url: str, tmp: Path) -> Settings:
    return Settings(
        _env_file=None,
        mode="live",
        clob_url=url,
        gamma_url=f"{url}/gamma",
        database_url=f"sqlite:///{tmp / 'pm_agent.db'}",
        data_dir=tmp,
        strategies=["negrisk_arbitrage"],
        basket_posting="batch",
        catalogue_max_age_seconds=3600,
        max_order_notional="100000",
        max_position_per_market="100000",
        max_position_per_group="100000",
        max_total_exposure="1000000",
        max_daily_loss="100000",
        max_open_orders=1000,
    )


def open_ctx(settings: Settings) -> RunContext:
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return next_ctx(
        RunContext(
            settings=settings, engine=engine, run_id="", flow_name="latency-bench", live_armed=True
        )
    )


def next_ctx(ctx: RunContext) -> RunContext:
    t = time.perf_counter()
    nxt = replace(ctx, run_id=new_run_id(), started_at=ctx.now())
    with session_scope(ctx.engine) as session:
        start_run(
            session,
            run_id=nxt.run_id,
            flow_name=nxt.flow_name,
            mode=nxt.mode,
            flow_run_id=None,
            started_at=nxt.started_at,
        )
    PROBE.spans["run_row"].append(time.perf_counter() - t)
    return nxt


async def last_leg_at(
    client: httpx.AsyncClient, url: str, tokens: set[str], since: float
) -> float | None:
    rows = (await client.get(f"{url}/_bench/orders", params={"since": since})).json()
    times: dict[str, float] = {}
    for row in rows:
        if row["token"] in tokens and row["status"] in ("MATCHED", "ORDER_STATUS_MATCHED"):
            times[row["token"]] = max(times.get(row["token"], 0.0), row["at"])
    return max(times.values()) if len(times) == len(tokens) else None


async def plant(
    client: httpx.AsyncClient,
    url: str,
    event_id: str,
    books: StreamBooks | None = None,
    before_drop: Any = None,
) -> float:
    """Set the dip up (asks up, bids down: no edge), wait until the client saw it (the stream's
    books, then 0.25 s for the evaluation it caused to end; else 0.3 s), call ``before_drop``,
    then drop the asks to the dip (``_latency_venue`` says why in two steps); the venue clock at
    the drop."""
    body = {"event_id": event_id, "size": "50"}
    setup = (await client.post(f"{url}/_bench/plant", json={**body, "step": "setup"})).json()
    deadline = time.monotonic() + (5.0 if books is not None else 0.3)
    while time.monotonic() < deadline:
        if books is not None and all(
            (book := books.books.get(token)) is not None
            and book.trusted
            and book.best()[1] != ""
            and Decimal(book.best()[1]) == Decimal(ask)
            for token, ask in setup["asks"].items()
        ):
            break
        await asyncio.sleep(0.01)
    if books is not None:
        await asyncio.sleep(0.25)
    if before_drop is not None:
        before_drop()
    answer = await client.post(f"{url}/_bench/plant", json={**body, "step": "drop"})
    return float(answer.json()["at"])


async def restore(client: httpx.AsyncClient, url: str, event_id: str) -> None:
    await client.post(f"{url}/_bench/restore", json={"event_id": event_id})


def yes_tokens(url: str, event_id: str) -> set[str]:
    event = httpx.get(f"{url}/gamma/events/{event_id}", timeout=30).json()
    return {orjson.loads(m["clobTokenIds"])[0] for m in event["markets"]}


async def stream_phase(
    args: argparse.Namespace, url: str, settings: Settings, events: list[str], rng: random.Random
) -> dict[str, Any]:
    ctx = open_ctx(settings)
    tokens_of = {e: yes_tokens(url, e) for e in events}
    latencies: list[float] = []
    missed = 0
    breakdown: list[dict[str, float]] = []
    path: list[dict[str, float]] = []
    placed_orders: list[list[str]] = []  # the order statuses of each evaluation that placed
    why: list[dict[str, Any]] = []  # what became of each missed dip
    async with open_venue_client(settings) as client, control_client() as control:
        venue = ScanVenue(
            client,
            books_limiter=RateLimiter.for_budget(
                settings.books_rate_limit_per_10s, settings.rate_budget_fraction
            ),
        )
        loaded = await catalogue_stage(ctx, client, None)
        venue.catalogue = loaded.catalogue
        tokens = loaded.catalogue.token_ids
        stream = MarketStream(settings, client, tokens)
        clocks: list[StageClock] = []

        def on_evaluation(report: ScanReport, clock: StageClock) -> None:
            if report.summary.orders:
                clocks.append(clock)
                PROBE.placed.append({**PROBE.marks, "eval_done": time.time()})
                placed_orders.append(
                    [f"{r.status.value}{': ' + r.error if r.error else ''}" for r in report.orders]
                )

        trader = StreamTrader(ctx, stream, venue, next_ctx, on_evaluation=on_evaluation)
        stream_task = asyncio.create_task(stream.run())
        started = time.monotonic()
        ready = await stream.wait_ready(900, share=0.99)
        snapshot_s = time.monotonic() - started
        trade_task = asyncio.create_task(trader.run(time.monotonic() + 36_000))
        await asyncio.sleep(1.0)
        stream.books.drain_changed()
        PROBE.drain()
        at_load = stream.books.counters.as_dict()
        GC_PAUSES.clear()

        def forget_setup() -> None:  # what the set-up's own evaluations measured
            PROBE.first_change_at.clear()
            PROBE.placed.clear()
            PROBE.drain()
            placed_orders.clear()
            clocks.clear()

        try:
            last_used: dict[str, float] = {}
            for _ in range(args.dips):
                await asyncio.sleep(rng.uniform(0.3, 1.5))
                event_id = rested(events, last_used, rng)
                await asyncio.sleep(
                    max(0.0, last_used.get(event_id, -99) + REST - time.monotonic())
                )
                last_used[event_id] = time.monotonic()

                at = await plant(control, url, event_id, stream.books, forget_setup)
                await asyncio.sleep(args.hold)
                done = await last_leg_at(control, url, tokens_of[event_id], at)
                await restore(control, url, event_id)
                spans = PROBE.drain()
                if done is None or done - at > args.hold:
                    late = None if done is None else ms(done - at)
                    refused = (await control.get(f"{url}/_bench/refused")).json()
                    why.append(
                        {
                            "event": event_id,
                            "orders": list(placed_orders),
                            "ms": late,
                            "refused": [r for r in refused if r["at"] >= at],
                        }
                    )
                    missed += 1
                    continue
                latencies.append(done - at)
                row = {k: v for k, v in spans.items()}
                if PROBE.first_change_at:
                    row["venue_to_client"] = min(PROBE.first_change_at) - at
                if clocks:
                    for stage, seconds in clocks[0].seconds.items():
                        row[f"stage_{stage}"] = float(seconds)
                breakdown.append(row)
                if PROBE.placed and PROBE.first_change_at:
                    path.append(
                        critical_path(at, min(PROBE.first_change_at), PROBE.placed[0], done)
                    )
                await asyncio.sleep(0.3)  # the restore's changes are evaluated too
        finally:
            for task in (trade_task, stream_task):
                task.cancel()
            for task in (trade_task, stream_task):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    return {
        "ready": ready,
        "snapshot_s": snapshot_s,
        "connections": len(stream.shards),
        "latencies": latencies,
        "missed": missed,
        "missed_detail": why,
        "breakdown": breakdown,
        "path": path,
        "gc_during_dips": {
            "full": sum(1 for g, _ in GC_PAUSES if g == 2),
            "max_ms": ms(max((t for _, t in GC_PAUSES), default=0.0)),
        },
        "account": trader.account.counters.__dict__,
        "counters": at_load,
        "during_dips": {
            k: v - at_load[k] for k, v in stream.books.counters.as_dict().items() if v - at_load[k]
        },
    }


# The critical path of a taken dip, in order: (step, from mark, to mark). "at" is the venue clock
# at the change, "recv" our clock when its price_change arrived, "venue" the venue clock when it
# accepted the basket's last leg (one machine: one clock).
PATH = (
    ("venue_to_client", "at", "recv"),
    ("wait_for_evaluation", "recv", "eval_start"),
    ("run_row_catalogue_books", "eval_start", "books_done"),
    ("portfolio", "books_done", "portfolio_done"),
    ("signals", "portfolio_done", "signals_done"),
    ("risk", "signals_done", "risk_done"),
    ("to_execute", "risk_done", "execute_start"),
    ("executor", "execute_start", "executor_ready"),
    ("halt_check", "executor_ready", "claim_start"),
    ("claim", "claim_start", "claim_done"),
    ("intents_stored", "claim_done", "sign_start"),
    ("signing", "sign_start", "sign_done"),
    ("hashes_stored", "sign_done", "post_start"),
    ("post_to_venue", "post_start", "venue"),
)


def critical_path(
    at: float, received: float, marks: dict[str, float], done: float
) -> dict[str, float]:
    points = {**marks, "at": at, "recv": received, "venue": done}
    row = {step: points[b] - points[a] for step, a, b in PATH if a in points and b in points}
    row["total"] = done - at
    row["after_venue_to_evaluation_end"] = points.get("eval_done", done) - done
    return row


async def poll_phase(
    args: argparse.Namespace, url: str, settings: Settings, events: list[str], rng: random.Random
) -> dict[str, Any]:
    ctx = open_ctx(settings)
    tokens_of = {e: yes_tokens(url, e) for e in events}
    latencies: list[float] = []
    scan_seconds: list[float] = []
    async with open_venue_client(settings) as client, control_client() as control:
        venue = ScanVenue(
            client,
            books_limiter=RateLimiter.for_budget(
                settings.books_rate_limit_per_10s, settings.rate_budget_fraction
            ),
        )
        stop = asyncio.Event()

        async def loop() -> None:  # the scan loop's path: run_scan back to back
            nonlocal ctx
            while not stop.is_set():
                t = time.monotonic()
                await run_scan(ctx, venue)
                scan_seconds.append(time.monotonic() - t)
                ctx = next_ctx(ctx)

        task = asyncio.create_task(loop())
        while not scan_seconds:
            await asyncio.sleep(0.1)
        try:
            last_used: dict[str, float] = {}
            for _ in range(args.poll_dips):
                await asyncio.sleep(rng.uniform(0.3, 1.5))
                event_id = rested(events, last_used, rng)
                await asyncio.sleep(
                    max(0.0, last_used.get(event_id, -99) + REST - time.monotonic())
                )
                last_used[event_id] = time.monotonic()
                at = await plant(control, url, event_id)
                done = None
                deadline = time.monotonic() + 60
                while done is None and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    done = await last_leg_at(control, url, tokens_of[event_id], at)
                await restore(control, url, event_id)
                if done is not None:
                    latencies.append(done - at)
        finally:
            stop.set()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return {"latencies": latencies, "scan_s": statistics.median(scan_seconds)}


# A market traded less than 5 s ago (pm_lib.store.leases.CLOCK_SKEW_ALLOWANCE) is not traded
# again by a run that started within that window: dips rotate over events rested that long.
REST = 6.0


def rested(events: list[str], last_used: dict[str, float], rng: random.Random) -> str:
    """A random event among those unused longest (random moments, lease-safe)."""
    fresh = [e for e in events if time.monotonic() - last_used.get(e, -99) >= REST]
    return rng.choice(fresh) if fresh else min(events, key=lambda e: last_used.get(e, -99))


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--dips", type=int, default=20)
    parser.add_argument("--poll-dips", type=int, default=3)
    parser.add_argument("--hold", type=float, default=1.0, help="seconds a dip lasts")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    instrument()
    print(f"# latency bench, load {os.getloadavg()}, {os.cpu_count()} cpus (shared machine)")
    last: dict[str, Any] = {}
    for tokens in args.tokens:
        rng = random.Random(args.seed + tokens)
        with venue_process(tokens // 2, args.seed) as url, tempfile.TemporaryDirectory() as tmp:
            events = three_leg_events(url)
            if not events:
                print(f"tokens={tokens}: no complete 3-leg neg-risk event, skipped")
                continue
            settings = settings_for(url, Path(tmp))
            api = derive_api_credentials(
                url, settings.chain_id, credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY})
            )
            os.environ.update(
                {
                    "POLYMARKET_PRIVATE_KEY": KEY,
                    "POLYMARKET_API_KEY": api.api_key.get_secret_value(),
                    "POLYMARKET_SECRET": api.secret.get_secret_value(),
                    "POLYMARKET_PASSPHRASE": api.passphrase.get_secret_value(),
                }
            )
            streamed = asyncio.run(stream_phase(args, url, settings, events, rng))
            polled = asyncio.run(poll_phase(args, url, settings, events, rng))
        lat = streamed["latencies"]
        row: dict[str, Any] = {
            "tokens": tokens,
            "connections": streamed["connections"],
            "snapshot_s": round(streamed["snapshot_s"], 1),
            "dips": args.dips,
            "taken": len(lat),
            "missed": streamed["missed"],
            "missed_detail": streamed["missed_detail"],
            "p50_ms": ms(statistics.median(lat)) if lat else None,
            "p99_ms": ms(pct(lat, 0.99)) if lat else None,
            "max_ms": ms(max(lat)) if lat else None,
            "poll_p50_ms": ms(statistics.median(polled["latencies"]))
            if polled["latencies"]
            else None,
            "poll_taken": len(polled["latencies"]),
            "poll_scan_s": round(polled["scan_s"], 2),
            "load_counters": streamed["counters"],
            "dip_counters": streamed["during_dips"],
        }
        parts: dict[str, list[float]] = defaultdict(list)
        for b in streamed["breakdown"]:
            for k, v in b.items():
                parts[k].append(v)
        row["median_ms"] = {k: ms(statistics.median(v)) for k, v in sorted(parts.items())}
        steps: dict[str, list[float]] = defaultdict(list)
        for p in streamed["path"]:
            for k, v in p.items():
                steps[k].append(v)
        row["path_median_ms"] = {k: ms(statistics.median(v)) for k, v in steps.items()}
        row["path_p90_ms"] = {k: ms(pct(v, 0.9)) for k, v in steps.items()}
        if streamed["path"]:
            worst = max(streamed["path"], key=lambda p: p["total"])
            row["path_slowest_ms"] = {k: ms(v) for k, v in worst.items()}
        row["account"] = streamed["account"]
        row["gc_during_dips"] = streamed["gc_during_dips"]
        print(orjson.dumps(row).decode(), flush=True)
        last = row
    print(
        f"p50_ms={last.get('p50_ms')} p99_ms={last.get('p99_ms')} missed={last.get('missed')} "
        f"poll_p50_ms={last.get('poll_p50_ms')}"
    )


if __name__ == "__main__":
    main()
