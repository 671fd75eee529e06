"""One scanning process of the scan benchmark: runs the real flow and prints one JSON per run.

Started by ``bench/scan_bench.py`` with ``PM_*`` pointing at an emulator (a separate process) and
``PREFECT_API_URL`` at a Prefect server (another process), so this process's wall time and peak
RSS are the scan's own. Modes:

    optimised   ``asyncio.run(scan_and_trade())`` ``--runs`` times (run 1 cold catalogue,
                later runs warm: within ``PM_CATALOGUE_MAX_AGE_SECONDS``), then
                ``--stale-runs`` more with ``PM_CATALOGUE_MAX_AGE_SECONDS=0``: the cached
                catalogue is stale, so each refreshes it (incrementally, once a full listing
                is younger than ``PM_CATALOGUE_FULL_REFRESH_SECONDS``)
    loop        ``scan_loop`` (``flows/scan_loop.py``) once, back to back, for ``--runs`` + 2
                scans on the warm catalogue: one JSON per scan except the first (it meets
                the flow run's start and reads the catalogue back from the DB) and the last
                (the flow run's end), then one ``{"loop": ...}`` line for the whole flow run
    baseline    the early plans' approach (``bench/_baseline_flow.py``) once, catalogue warm
    floor       ``bench/_prefect_floor.py``: scan_and_trade's shape without its work

Each run prints ``{"run": i, "wall": s, "stages": {...}, "inner": {...}, "inner_cpu": {...},
"report": {...}, "vmhwm_mb": m, "prefect_calls": n}`` (``prefect_calls``: requests this process
sent to the Prefect API during the run). ``inner`` is the wall time spent inside the plain
``pm_lib`` functions the flow and its tasks call (measured by wrapping them here), so ``stage -
inner`` is the task's Prefect overhead and ``wall - sum(inner) - artifacts`` is Prefect's overhead
for the whole run; ``inner_cpu`` is the CPU time of the calling thread in the same functions (the
compute, without time spent waiting on the network).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import importlib
import inspect
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _figures import pm_agent_work

INNER: dict[str, float] = defaultdict(float)
INNER_CPU: dict[str, float] = defaultdict(float)
GC = {"seconds": 0.0, "collections": 0, "started": 0.0}
PREFECT_CALLS = [0]


def _count_prefect_calls() -> None:
    """Count the requests this process sends to the Prefect API (sync and async clients)."""
    api = os.environ.get("PREFECT_API_URL", "")
    async_send, sync_send = httpx.AsyncClient.send, httpx.Client.send

    async def counted_async(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
        PREFECT_CALLS[0] += str(request.url).startswith(api)
        return await async_send(self, request, **kw)

    def counted(self: httpx.Client, request: httpx.Request, **kw: Any) -> Any:
        PREFECT_CALLS[0] += str(request.url).startswith(api)
        return sync_send(self, request, **kw)

    httpx.AsyncClient.send = counted_async  # type: ignore[method-assign]
    httpx.Client.send = counted  # type: ignore[method-assign]


def _gc_clock(phase: str, info: dict[str, int]) -> None:
    # Cyclic-GC pauses are invisible to cProfile; count them per run.
    if phase == "start":
        GC["started"] = time.perf_counter()
    else:
        GC["seconds"] += time.perf_counter() - GC["started"]
        GC["collections"] += 1


def _venue_cpu_seconds() -> float:
    """User + system CPU of the emulator process so far (``PM_BENCH_VENUE_PID``), or NaN."""
    pid = os.environ.get("PM_BENCH_VENUE_PID")
    if not pid:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                INNER[name] += time.perf_counter() - started
                INNER_CPU[name] += time.thread_time() - cpu

        return timed_async

    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            INNER[name] += time.perf_counter() - started
            INNER_CPU[name] += time.thread_time() - cpu

    return timed


# The plain functions the flow module calls, by the name the flow module imported them under.
_WRAPPED = {
    "open_run": "open",
    "next_run": "open",
    "read_fair_values": "open",
    "load_market_catalogue": "catalogue",
    "load_books": "books",
    "_books_one_market_at_a_time": "books",
    "portfolio_state": "signals",
    "find_signals": "signals",
    "risk_decisions": "risk",
    "execute_approved": "execute",
    "finish_scan": "store",
}


def _instrument(module: Any) -> None:
    for attr, stage in _WRAPPED.items():
        if hasattr(module, attr):
            setattr(module, attr, _timed(stage, getattr(module, attr)))


def _instrument_scan() -> None:
    """The stages' plain functions, where the one scan (and the flows' task stages) call them."""
    import flows.stages
    import pm_lib.pipeline.scan

    _instrument(pm_lib.pipeline.scan)
    _instrument(flows.stages)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--mode", choices=("optimised", "loop", "baseline", "floor"), default="optimised"
    )
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--stale-runs", type=int, default=0)
    args = parser.parse_args()

    flow_module: Any
    if args.mode == "baseline":
        sys.path.insert(0, str(Path(__file__).parent))
        flow_module = importlib.import_module("_baseline_flow")
        flow_module.prewarm_catalogue()
        flow = flow_module.scan_baseline
    elif args.mode == "floor":
        sys.path.insert(0, str(Path(__file__).parent))
        flow_module = importlib.import_module("_prefect_floor")
        flow = flow_module.prefect_floor
    elif args.mode == "loop":
        flow_module = importlib.import_module("flows.scan_loop")
        _instrument_scan()
        _instrument(flow_module)
        gc.callbacks.append(_gc_clock)
        _count_prefect_calls()
        _run_loop(flow_module, args.runs + 2)
        return
    else:
        flow_module = importlib.import_module("flows.scan_and_trade")
        flow = flow_module.scan_and_trade
        _instrument_scan()
    _instrument(flow_module)
    venue_stats = f"{os.environ.get('PM_CLOB_URL', '')}/_sim/stats"
    gc.callbacks.append(_gc_clock)
    _count_prefect_calls()
    stale_from = args.runs + 1
    for run in range(1, args.runs + args.stale_runs + 1):
        if run == stale_from:
            os.environ["PM_CATALOGUE_MAX_AGE_SECONDS"] = "0"
        if args.mode == "floor":
            started = time.perf_counter()
            asyncio.run(flow())
            wall = time.perf_counter() - started
            print(json.dumps({"run": run, "mode": "floor", "wall": wall}), flush=True)
            continue
        httpx.delete(venue_stats)
        PREFECT_CALLS[0] = 0
        INNER.clear()
        INNER_CPU.clear()
        GC.update(seconds=0.0, collections=0)
        cpu_started = time.process_time()
        venue_cpu_started = _venue_cpu_seconds()
        started = time.perf_counter()
        report = asyncio.run(flow())
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        venue_cpu = _venue_cpu_seconds() - venue_cpu_started
        served = httpx.get(venue_stats).json()
        out = {
            "run": run,
            "mode": args.mode,
            "stale": run >= stale_from,
            "wall": wall,
            "cpu": cpu,
            "venue_cpu": venue_cpu,
            "venue_requests": served["total"],
            "venue_429": served["throttled_total"],
            "stages": {k: float(v) for k, v in report["stage_seconds"].items()},
            "inner": dict(INNER),
            "inner_cpu": dict(INNER_CPU),
            "report": {
                k: report.get(k)
                for k in (
                    "markets",
                    "books",
                    "books_missing",
                    "requests",
                    "rate_limited",
                    "catalogue_refreshed",
                )
            },
            "opportunities": len(report["opportunities"]),
            "orders": len(report["orders"]),
            "gc_seconds": GC["seconds"],
            "gc_collections": GC["collections"],
            "vmhwm_mb": _peak_rss_mb(),
            "prefect_calls": PREFECT_CALLS[0],
        }
        print(json.dumps(out), flush=True)


class _LoopScans:
    """Per-scan figures of one scan_loop run, cut at each scan's start (``run_scan``).

    A scan's wall time runs from its start to the next one's: its stages, its artifacts when
    published, its log line and the next run row, i.e. everything the loop does per scan.
    """

    def __init__(self) -> None:
        self.open: dict[str, Any] | None = None
        self.records: list[dict[str, Any]] = []

    def wrap(self, run_scan: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(run_scan)
        async def recorded(ctx: Any, venue: Any, **kwargs: Any) -> Any:
            self.cut()
            self.open = {
                "started": time.perf_counter(),
                "cpu": time.process_time(),
                "inner": dict(INNER),
                "inner_cpu": dict(INNER_CPU),
                "calls": PREFECT_CALLS[0],
                "gc": GC["seconds"],
                "clock": kwargs["clock"],
            }
            outcome = await run_scan(ctx, venue, **kwargs)
            report = outcome.report
            self.open["summary"] = report.summary
            self.open["opportunities"] = len(report.opportunities)
            self.open["orders"] = len(report.orders)
            return outcome

        return recorded

    def cut(self) -> None:
        """Close the open scan's record at this instant."""
        o = self.open
        if o is None:
            return
        s = o["summary"]
        self.records.append(
            {
                "run": len(self.records) + 1,
                "mode": "loop",
                "stale": False,
                "wall": time.perf_counter() - o["started"],
                "cpu": time.process_time() - o["cpu"],
                "venue_cpu": float("nan"),
                "venue_requests": 0,
                "venue_429": 0,
                "stages": {k: float(v) for k, v in o["clock"].seconds.items()},
                "inner": {k: v - o["inner"].get(k, 0.0) for k, v in INNER.items()},
                "inner_cpu": {k: v - o["inner_cpu"].get(k, 0.0) for k, v in INNER_CPU.items()},
                "report": {
                    "markets": s.markets,
                    "books": s.books,
                    "books_missing": s.books_missing,
                    "requests": s.requests,
                    "rate_limited": s.rate_limited,
                    "catalogue_refreshed": s.catalogue_refreshed,
                },
                "opportunities": o["opportunities"],
                "orders": o["orders"],
                "gc_seconds": GC["seconds"] - o["gc"],
                "vmhwm_mb": _peak_rss_mb(),
                "prefect_calls": PREFECT_CALLS[0] - o["calls"],
            }
        )
        self.open = None


def _run_loop(flow_module: Any, scans: int) -> None:
    """One scan_loop run of ``scans`` back-to-back scans; prints the middle scans and a total."""
    recorder = _LoopScans()
    flow_module.run_scan = recorder.wrap(flow_module.run_scan)
    venue_stats = f"{os.environ.get('PM_CLOB_URL', '')}/_sim/stats"
    httpx.delete(venue_stats)
    venue_cpu_started = _venue_cpu_seconds()
    cpu_started = time.process_time()
    started = time.perf_counter()
    out = asyncio.run(
        flow_module.scan_loop(
            duration_seconds=flow_module.MAX_DURATION_SECONDS,
            interval_seconds=0.0,
            max_scans=scans,
        )
    )
    recorder.cut()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    served = httpx.get(venue_stats).json()
    middle = recorder.records[1:-1] or recorder.records
    # The emulator's CPU and 429s are counted over the whole flow run, shared out per scan.
    venue_cpu = (_venue_cpu_seconds() - venue_cpu_started) / len(recorder.records)
    for record in middle:
        record["venue_cpu"] = venue_cpu
    middle[-1]["venue_429"] = served["throttled_total"]
    middle[-1]["venue_requests"] = served["total"]
    for record in middle:
        print(json.dumps(record), flush=True)
    work = sum(pm_agent_work(r["stages"], r["inner"]) for r in recorder.records)
    total = {
        "loop": True,
        "scans": out["scans"],
        "wall": wall,
        "cpu": cpu,
        "work": work,
        "prefect_overhead": wall - work,
        "prefect_calls": PREFECT_CALLS[0],
        "venue_429": served["throttled_total"],
        "scan_walls": [r["wall"] for r in recorder.records],
    }
    print(json.dumps(total), flush=True)


if __name__ == "__main__":
    main()
