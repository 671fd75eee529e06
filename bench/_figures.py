"""The scan benchmark's arithmetic: the /books floor, Prefect's overhead, the table rows.

Definitions (docs/PERFORMANCE.md repeats them):
- floor: the time the documented ``POST /books`` limit allows for ``tokens`` at the configured
  budget, i.e. ``ceil(tokens / 500)`` requests at ``500 x PM_RATE_BUDGET_FRACTION`` requests per
  10 s (the sustained rate; a sliding window would let up to one window's worth start at once);
- compute: CPU seconds the scan's own work took: the thread CPU time inside the plain
  ``pm_lib`` functions of every stage (parsing, signals, risk, DB writes), not time spent waiting
  on the network and not Prefect's bookkeeping;
- floor ratio: warm wall time / (floor + compute); the target is <= 1.5;
- Prefect overhead: flow wall time (around ``asyncio.run(flow())``) minus pm-agent's own work
  (``pm_agent_work``: the plain ``pm_lib`` functions the flow and its tasks call, the artifacts
  stage, the whole store stage), minus the cyclic-GC pauses (shown beside it: per stage task,
  Prefect's task-run objects hold the scan's books in reference cycles until the collector runs);
  "flow-level" overhead is wall minus the sum of the stage times the flow itself records;
- scan loop rows (``flows/scan_loop.py``): the same figures per scan of one flow run, wall time
  from one scan's start to the next one's (the first and last scans, which meet the flow run's
  start and end, are left out and reported with the whole flow run);
- books -> orders: the signals, risk and execute stages, i.e. how old the books are when the
  last order of the run has been sent (what decides whether an edge is still there);
- Prefect floor: the median wall time of ``bench/_prefect_floor.py``, a flow of the scan's shape
  (seven tasks, four artifacts) that does no work.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "BOOKS_PER_REQUEST",
    "ScanFigures",
    "books_floor_seconds",
    "figures",
    "loop_line",
    "table",
    "target_lines",
]

BOOKS_PER_REQUEST = 500
BOOKS_LIMIT_PER_10S = 500
STAGES = ("catalogue", "books", "signals", "risk", "execute", "store", "artifacts")


def books_floor_seconds(tokens: int, budget_fraction: Decimal) -> float:
    """Seconds the /books budget needs for ``tokens`` at its sustained rate."""
    requests = math.ceil(tokens / BOOKS_PER_REQUEST)
    per_10s = max(1, int(Decimal(BOOKS_LIMIT_PER_10S) * budget_fraction))
    return requests * 10.0 / per_10s


@dataclass(frozen=True)
class ScanFigures:
    """One universe size: the cold run, the median warm run, and derived figures."""

    markets: int
    tokens: int
    cold_wall: float | None
    wall: float
    cpu: float
    venue_cpu: float
    compute: float
    stages: dict[str, float]
    inner: dict[str, float]
    requests: int
    rate_limited: int
    venue_429: int
    floor: float
    peak_rss_mb: float
    venue_rss_mb: float
    opportunities: int
    runs: int
    prefect_calls: int
    gc_seconds: float = 0.0
    stale_wall: float | None = None
    stale_catalogue: float | None = None
    stale_requests: int | None = None

    @property
    def books_to_orders(self) -> float:
        """Seconds from the last book received to the last order sent."""
        return sum(self.stages.get(s, 0.0) for s in ("signals", "risk", "execute"))

    @property
    def prefect_overhead(self) -> float:
        """Wall minus pm_lib work, the artifacts stage and GC pauses (task and flow overhead)."""
        work = pm_agent_work(self.stages, self.inner)
        return self.wall - work - self.gc_seconds

    @property
    def flow_overhead(self) -> float:
        """Wall minus the sum of the flow's own stage times."""
        return self.wall - sum(self.stages.values())

    @property
    def floor_ratio(self) -> float:
        return self.wall / (self.floor + self.compute)

    @property
    def signals_and_risk(self) -> float:
        return self.inner.get("signals", 0.0) + self.inner.get("risk", 0.0)


def pm_agent_work(stages: dict[str, float], inner: dict[str, float]) -> float:
    """Seconds of pm-agent's own work in a scan: the plain ``pm_lib`` calls, the artifacts stage,
    and the whole store stage (no task runs in it in either layout; inline it also frees the
    scan's books, which no wrapped function covers)."""
    store = max(stages.get("store", 0.0), inner.get("store", 0.0))
    return sum(inner.values()) - inner.get("store", 0.0) + store + stages.get("artifacts", 0.0)


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    wall = statistics.median_low(r["wall"] for r in runs)
    return next(r for r in runs if r["wall"] == wall)


def figures(
    markets: int,
    records: list[dict[str, Any]],
    budget_fraction: Decimal,
    venue_rss_mb: float,
) -> ScanFigures:
    """Figures of one size from the worker's records (run 1 cold, later runs warm)."""
    fresh = [r for r in records if not r.get("stale")]
    stale = [r for r in records if r.get("stale")]
    cold = fresh[0] if fresh and fresh[0]["report"]["catalogue_refreshed"] else None
    warm = [r for r in fresh if not r["report"]["catalogue_refreshed"]] or fresh
    run = _median_run(warm)
    refresh = _median_run(stale) if stale else None
    report = run["report"]
    tokens = int(report["books"]) + int(report["books_missing"])
    return ScanFigures(
        markets=markets,
        tokens=tokens,
        cold_wall=cold["wall"] if cold else None,
        wall=run["wall"],
        cpu=run["cpu"],
        venue_cpu=run.get("venue_cpu", float("nan")),
        compute=sum(run["inner_cpu"].values()),
        stages=run["stages"],
        inner=run["inner"],
        requests=int(report["requests"]),
        rate_limited=sum(int(r["report"]["rate_limited"]) for r in records),
        venue_429=sum(int(r["venue_429"]) for r in records),
        floor=books_floor_seconds(tokens, budget_fraction),
        peak_rss_mb=max(r["vmhwm_mb"] for r in records),
        venue_rss_mb=venue_rss_mb,
        opportunities=run["opportunities"],
        runs=len(records),
        prefect_calls=int(run.get("prefect_calls", 0)),
        gc_seconds=float(run.get("gc_seconds", 0.0)),
        stale_wall=refresh["wall"] if refresh else None,
        stale_catalogue=refresh["stages"].get("catalogue") if refresh else None,
        stale_requests=int(refresh["report"]["requests"]) - int(run["report"]["requests"])
        if refresh
        else None,
    )


def table(rows: list[tuple[str, ScanFigures]]) -> list[str]:
    """A Markdown table: one line per (label, figures)."""
    head = (
        "| run | markets | tokens | cold s | stale s (catalogue s, Gamma requests) | wall s | "
        + " | ".join(STAGES)
        + " | books->orders s | sig+risk work s | Prefect ovh s (%) | GC s | Prefect calls "
        "| requests | 429s | floor s | compute s | process CPU s | venue CPU s | floor ratio "
        "| peak RSS MB |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for label, f in rows:
        cells = [
            label,
            f"{f.markets:,}",
            f"{f.tokens:,}",
            f"{f.cold_wall:.2f}" if f.cold_wall is not None else "-",
            f"{f.stale_wall:.2f} ({f.stale_catalogue:.2f}, {f.stale_requests})"
            if f.stale_wall is not None and f.stale_catalogue is not None
            else "-",
            f"{f.wall:.2f}",
            *(f"{f.stages.get(s, 0.0):.3f}" for s in STAGES),
            f"{f.books_to_orders:.3f}",
            f"{f.signals_and_risk:.3f}",
            # The baseline's per-market task runs happen inside its books stage.
            "in books"
            if label == "baseline"
            else f"{f.prefect_overhead:.3f} ({100 * f.prefect_overhead / f.wall:.1f}%)",
            f"{f.gc_seconds:.3f}",
            str(f.prefect_calls),
            str(f.requests),
            f"{f.rate_limited}/{f.venue_429}",
            f"{f.floor:.2f}",
            f"{f.compute:.2f}",
            f"{f.cpu:.2f}",
            f"{f.venue_cpu:.2f}",
            f"{f.floor_ratio:.2f}",
            f"{f.peak_rss_mb:,.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def target_lines(
    rows: list[tuple[str, ScanFigures]],
    baseline: ScanFigures | None,
    prefect_floor: float | None = None,
) -> list[str]:
    """Each issue target with the measured value it is judged on (a size may be missing)."""
    lines = []
    if baseline is not None:
        for label, same in rows:
            if same.markets != baseline.markets:
                continue
            lines.append(
                f"speed-up vs baseline at {baseline.markets:,} markets (target >= 50x), {label}: "
                f"{baseline.wall / same.wall:.1f}x"
                + (f", cold {baseline.wall / same.cold_wall:.1f}x" if same.cold_wall else "")
            )
        if prefect_floor:
            lines.append(
                f"Prefect floor (the scan's flow shape, no work): {prefect_floor:.3f} s, so no "
                f"flow run of this shape here beats {baseline.wall / prefect_floor:.1f}x the "
                "baseline"
            )
    for label, f in rows:
        lines.append(
            f"{label}, {f.markets:,} markets: floor ratio {f.floor_ratio:.2f} (target <= 1.5 at "
            f"10k), 429s {f.rate_limited}/{f.venue_429} (target 0), signals+risk work "
            f"{f.signals_and_risk:.3f} s over {f.tokens:,} books (target < 0.5 s at 20k), "
            f"Prefect overhead {100 * f.prefect_overhead / f.wall:.1f}% (GC pauses "
            f"{100 * f.gc_seconds / f.wall:.1f}%, flow-level {100 * f.flow_overhead / f.wall:.1f}"
            f"%; target < 5%), peak RSS {f.peak_rss_mb:,.0f} MB (target < 1 GB at 50k)"
        )
    return lines


def loop_line(markets: int, total: dict[str, Any]) -> str:
    """One scan_loop flow run as a whole: its scans, and Prefect's share including start and end."""
    share = 100 * total["prefect_overhead"] / total["wall"]
    return (
        f"scan loop {markets:,} markets: {total['scans']} scans in {total['wall']:.2f} s "
        f"(each: {', '.join(f'{w:.2f}' for w in total['scan_walls'])}), Prefect and GC "
        f"{total['prefect_overhead']:.2f} s ({share:.1f}%) of the flow run, "
        f"{total['prefect_calls']} Prefect API calls"
    )
