"""Benchmark: record the emulator's universe, grow it into >= 1,000,000 messages, replay it.

Run (not collected by pytest):
    uv run python bench/replay_bench.py [--markets 1000] [--messages 1000000] [--seed 3]

1. The emulator (``pm_lib.sim``, its generated universe of ``--markets`` markets, in-process
   over HTTP) is recorded by pm-agent's recorder: ``markets.json`` and one ``POST /books``
   snapshot (one ``book`` message per token).
2. From that snapshot a seeded random walk writes ``--messages`` ``price_change`` messages, 1 ms
   apart on average, into rotating ``.jsonl`` files: a level near the top of a random token's
   book changes size, appears or goes (books never cross). Every ``--dip-every`` messages one
   complete neg-risk event's YES asks are pushed to sum below 1 for 0-3 s and then restored, so
   the strategies, the risk gate and the paper executor have something to do.
3. ``pm-agent backtest``'s replay (complement + neg-risk strategies, L = 0, throwaway SQLite)
   replays it (a recording this large is parsed and digested by a worker process,
   ``pm_lib.replay.digest``); the replay's wall time, the messages per second, the realtime
   factor (recorded span / replay wall time), the CPU time of both processes and the peak RSS
   of this process plus the worker's are reported.

Last line: ``messages_per_s=<x> realtime_factor=<y> rss_mb=<z>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pm_lib.replay.backtest import run_backtest
from pm_lib.replay.books import micro
from pm_lib.replay.digest import LAST_WORKER
from pm_lib.replay.recorder import RecordingWriter, record
from pm_lib.replay.recording import load_catalogue
from pm_lib.replay.stream import messages
from pm_lib.settings import Settings
from pm_lib.sim.server import running_venue
from pm_lib.sim.venue import SimConfig, SimVenue


def _text(value: int) -> str:
    whole, frac = divmod(value, 1_000_000)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".") if frac else str(whole)


class Walk:
    """The books of the snapshot, moved one level at a time (integer micro-units)."""

    def __init__(self, directory: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.bids: dict[str, dict[int, int]] = {}
        self.asks: dict[str, dict[int, int]] = {}
        self.market: dict[str, str] = {}
        self.tick: dict[str, int] = {}
        catalogue = load_catalogue(directory)
        for m in catalogue.markets:
            for t in m.token_ids:
                self.tick[t] = micro(m.tick_size)
        for _, msg in messages(directory):
            token = msg["asset_id"]
            self.market[token] = msg["market"]
            self.bids[token] = {micro(x["price"]): micro(x["size"]) for x in msg["bids"]}
            self.asks[token] = {micro(x["price"]): micro(x["size"]) for x in msg["asks"]}
        self.home = {
            t: (max(self.bids[t]), min(self.asks[t]))
            for t in self.market
            if self.bids[t] and self.asks[t]
        }
        markets = catalogue.market_by_condition()
        self.no_of = {m.yes.token_id: m.no.token_id for m in catalogue.markets if m.is_binary}
        self.tokens = sorted(
            t for t in self.no_of if t in self.market and self.bids[t] and self.asks[t]
        )
        self.baskets = [
            [markets[c].yes.token_id for c in e.market_condition_ids]
            for e in catalogue.events
            if e.neg_risk
            and not e.neg_risk_augmented
            and all(
                c in markets and markets[c].yes.token_id in self.tokens
                for c in e.market_condition_ids
            )
        ]

    def step(self, stamp: int) -> dict[str, Any]:
        rng = self.rng
        token = self.tokens[rng.randrange(len(self.tokens))]
        tick = self.tick.get(token, 10_000)
        bids, asks = self.bids[token], self.asks[token]
        buy = rng.random() < 0.5
        best_bid = max(bids) if bids else 0
        best_ask = min(asks) if asks else 1_000_000
        # stationary: levels move around the snapshot's best prices, never cross
        home_bid, home_ask = self.home[token]
        if buy:
            price = home_bid - tick * rng.randrange(-1, 4)
            if price >= best_ask:
                price = best_ask - tick
        else:
            price = home_ask + tick * rng.randrange(-1, 4)
            if price <= best_bid:
                price = best_bid + tick
        price = min(max(price, tick), 1_000_000 - tick)
        if (buy and price >= best_ask) or (not buy and price <= best_bid):
            buy = not buy  # a one-tick spread: move the other side instead
            price = best_bid if buy else best_ask
        side_levels = bids if buy else asks
        remove = price in side_levels and len(side_levels) > 1 and rng.random() < 0.25
        size = 0 if remove else rng.randrange(1, 500) * 1_000_000
        if size:
            side_levels[price] = size
        else:
            side_levels.pop(price, None)
        # The venue cross-matches YES and NO: a YES bid is a NO ask at 1 - price (and the
        # other way round), and one price_change carries both tokens' changes.
        best_bid = max(bids) if bids else 0
        best_ask = min(asks) if asks else 1_000_000
        return {
            "event_type": "price_change",
            "market": self.market[token],
            "timestamp": str(stamp),
            "price_changes": [
                {
                    "asset_id": token,
                    "price": _text(price),
                    "size": _text(size),
                    "side": "BUY" if buy else "SELL",
                    "hash": "",
                    "best_bid": _text(best_bid),
                    "best_ask": _text(best_ask),
                },
                {
                    "asset_id": self.no_of[token],
                    "price": _text(1_000_000 - price),
                    "size": _text(size),
                    "side": "SELL" if buy else "BUY",
                    "hash": "",
                    "best_bid": _text(1_000_000 - best_ask),
                    "best_ask": _text(1_000_000 - best_bid),
                },
            ],
        }

    def dip(self, stamp: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Messages that push one basket's YES asks below 1, and those that undo it."""
        legs = self.baskets[self.rng.randrange(len(self.baskets))]
        share = 900_000 // len(legs)
        push: list[dict[str, Any]] = []
        undo: list[dict[str, Any]] = []
        for token in legs:
            tick = self.tick.get(token, 10_000)
            price = max(tick, share // tick * tick)
            if self.bids[token] and max(self.bids[token]) >= price:
                continue  # would cross; this leg keeps its ask
            size = self.rng.randrange(5, 60) * 1_000_000
            market = self.market[token]
            for batch, sz in ((push, size), (undo, 0)):
                batch.append(
                    {
                        "event_type": "price_change",
                        "market": market,
                        "timestamp": str(stamp),
                        "price_changes": [
                            {
                                "asset_id": token,
                                "price": _text(price),
                                "size": _text(sz),
                                "side": "SELL",
                                "hash": "",
                                "best_bid": "",
                                "best_ask": "",
                            },
                            {
                                "asset_id": self.no_of[token],
                                "price": _text(1_000_000 - price),
                                "size": _text(sz),
                                "side": "BUY",
                                "hash": "",
                                "best_bid": "",
                                "best_ask": "",
                            },
                        ],
                    }
                )
        return push, undo


def generate(directory: Path, total: int, dip_every: int, seed: int) -> tuple[int, int]:
    """Write ``total`` messages after the snapshot; the recorded span (first, last ms)."""
    walk = Walk(directory, seed)
    first = next(iter(messages(directory)))[0]
    writer = RecordingWriter(directory, rotate_messages=250_000)
    writer.files = sorted((directory / "market").iterdir())  # after the snapshot's file
    stamp = first
    pending: list[tuple[int, list[dict[str, Any]]]] = []
    written = 0
    rng = walk.rng
    while written < total:
        stamp += rng.randrange(0, 3)
        while pending and pending[0][0] <= stamp:
            for message in pending.pop(0)[1]:
                message["timestamp"] = str(stamp)
                writer.write(message)
                written += 1
        if walk.baskets and written % dip_every == dip_every - 1:
            push, undo = walk.dip(stamp)
            for message in push:
                writer.write(message)
                written += 1
            pending.append((stamp + rng.randrange(0, 3000), undo))
            pending.sort(key=lambda p: p[0])
            continue
        writer.write(walk.step(stamp))
        written += 1
    writer.close()
    return first, stamp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--dip-every", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the recording here and keep it")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the replay here")
    args = parser.parse_args()
    print(
        f"machine: nproc={os.cpu_count()}, load {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        " (shared with other jobs)",
        flush=True,
    )
    scratch = tempfile.TemporaryDirectory(prefix="pm-replay-bench-")
    directory = args.keep or Path(scratch.name) / "recording"
    started = time.perf_counter()
    with running_venue(
        SimVenue(SimConfig(seed=args.seed, markets=args.markets, enforce_rate_limits=False))
    ) as venue:
        settings = Settings(
            _env_file=None,
            mode="paper",
            clob_url=venue.clob_url,
            gamma_url=venue.gamma_url,
            data_dir=Path(scratch.name),
        )
        summary = asyncio.run(record(settings, directory, snapshots=1))
    print(
        f"recorded {summary.markets} markets, {summary.messages} book messages "
        f"in {time.perf_counter() - started:.1f}s",
        flush=True,
    )
    started = time.perf_counter()
    first, last = generate(directory, args.messages, args.dip_every, args.seed)
    size = sum(p.stat().st_size for p in (directory / "market").iterdir())
    print(
        f"generated {args.messages:,} messages ({size / 1e6:.0f} MB, "
        f"{(last - first) / 1000:.0f} s of venue time) in {time.perf_counter() - started:.1f}s",
        flush=True,
    )
    # The 520 MB just written would otherwise go to disk during the timed replay (the kernel's
    # writeback on the same two cores); a recording is normally replayed long after it was made.
    os.sync()
    base = Settings(
        _env_file=None,
        mode="paper",
        data_dir=Path(scratch.name),
        strategies=["complement_arbitrage", "negrisk_arbitrage"],
        paper_balance=Decimal(1_000_000),
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    LAST_WORKER.clear()
    started = time.perf_counter()
    cpu = time.process_time()
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    results = asyncio.run(run_backtest(directory, base, [0]))
    if args.profile:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    worker_cpu = LAST_WORKER.get("cpu_s", 0.0)
    worker_rss = LAST_WORKER.get("peak_rss_kb", 0.0) / 1024
    result = results[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + worker_rss
    span = ((result.last_ms or 0) - (result.first_ms or 0)) / 1000
    print(
        f"replayed {result.messages:,} messages in {wall:.2f}s (CPU {cpu:.2f}s here, "
        f"{worker_cpu:.2f}s in the digest worker): "
        f"{len(result.opportunities)} opportunities, {result.count('filled')} filled, "
        f"{len(result.fills)} fills, realised {result.realized_pnl}, "
        f"peak RSS {rss_before:.0f} MB before the replay, {rss - worker_rss:.0f} MB after "
        f"(+ {worker_rss:.0f} MB the worker's)",
        flush=True,
    )
    scratch.cleanup()
    print(
        f"cpu: {result.messages / cpu:.0f} messages per CPU-second of the replaying process, "
        f"{result.messages / (cpu + worker_cpu):.0f} of both (wall/CPU {wall / cpu:.1f}: "
        "the machine is shared)",
        flush=True,
    )
    print(
        f"messages_per_s={result.messages / wall:.0f} realtime_factor={span / wall:.1f} "
        f"rss_mb={rss:.0f}"
    )


if __name__ == "__main__":
    main()
