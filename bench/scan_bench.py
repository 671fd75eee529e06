"""Benchmark: full-universe scan_and_trade runs (paper) against the emulator, with limits ON.

Run (not collected by pytest):

    uv run python bench/scan_bench.py --markets 1000 10000 50000

For each universe size it starts ``pm-agent venue serve --markets N --seed S`` (documented rate
limits enforced) in its own process, then a scanning process (``bench/_scan_worker.py``) that
runs the real ``scan_and_trade`` flow ``--runs`` times with ``PM_*`` pointing at the emulator and
a fresh SQLite file: run 1 has a cold catalogue (paged from Gamma), later runs a warm one (within
``PM_CATALOGUE_MAX_AGE_SECONDS``); then, on the same emulator and catalogue, one ``scan_loop``
flow run of ``--loop-scans`` + 2 back-to-back scans (the scan loop rows: per scan, first and
last left out; ``--no-loop`` skips it). All flows talk to one ``prefect server`` started here, on a
throwaway PostgreSQL database when 127.0.0.1:5432 answers (``--prefect-db``; Prefect's SQLite
backend answers 503 "database is locked" to a flow-run creation while it still records the
previous run, which the client retries ~2 s later). After the smallest size, the Prefect floor
(the scan's flow shape without its work, ``bench/_prefect_floor.py``); last, the baseline (the
early plans: one task per market, one ``GET /book`` per token, in turn) on the
``--baseline-markets`` universe, because its thousand task runs leave the Prefect server busy
for a while.

Printed: the machine, a Markdown table (per-stage wall time, Prefect overhead, requests, 429s
seen by the client / counted by the emulator, the /books floor, CPU, peak RSS of the scanning
process), linear-growth figures, and as the last line
``speedup_vs_baseline=<x> floor_ratio_10k=<y> rss_mb_50k=<z>``. Definitions: ``bench/_figures.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import ScanFigures, figures, loop_line, table, target_lines
from _processes import emulator, peak_rss_mb, prefect_database, prefect_server, run_worker

from pm_lib.settings import Settings


def machine() -> str:
    """nproc, CPU model, RAM, Python, kernel and load, for the report."""
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: nproc={os.cpu_count()}, CPU {cpu}, RAM {mem_kb / 1024 / 1024:.1f} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"load {load}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def scan(
    label: str,
    mode: str,
    markets: int,
    args: argparse.Namespace,
    prefect_env: dict[str, str],
    workdir: Path,
) -> list[tuple[str, ScanFigures]]:
    """Start the emulator for ``markets``, run the worker(s), return labelled figures.

    ``optimised`` runs ``scan_and_trade`` once per scan, then (unless ``--no-loop``) one
    ``scan_loop`` flow run on the same emulator and warm catalogue; a failed worker gives no row.
    """
    data = workdir / f"{label}-{markets}"
    data.mkdir(parents=True)
    started = time.perf_counter()
    with emulator(markets, args.seed) as (url, process):
        env = {
            **prefect_env,
            "PM_MODE": "paper",
            "PM_CLOB_URL": url,
            "PM_GAMMA_URL": f"{url}/gamma",
            "PM_DATA_DIR": str(data),
            "PM_DATABASE_URL": f"sqlite:///{data / 'pm_agent.db'}",
            "PM_BENCH_VENUE_PID": str(process.pid),
        }
        runs, stale = (1, 0) if mode == "baseline" else (args.runs, args.stale_runs)
        outcomes = [(label, run_worker(mode, runs, env, args.worker_timeout, stale))]
        if mode == "optimised" and not args.no_loop:
            # Passed as the worker's --runs: it scans two more and leaves out the first and last.
            loop = run_worker("loop", args.loop_scans, env, args.worker_timeout)
            outcomes.append(("scan loop", loop))
        venue_rss = peak_rss_mb(process.pid)
    took = time.perf_counter() - started
    fraction = Settings().rate_budget_fraction
    results = []
    for name, (records, error) in outcomes:
        if error:
            print(f"{name} {markets:,} markets: FAILED ({error}) after {took:.0f}s", flush=True)
        scans = [r for r in records if not r.get("loop")]
        if not scans:
            continue
        results.append((name, figures(markets, scans, fraction, venue_rss)))
        walls = ", ".join(f"{r['wall']:.2f}" for r in scans)
        print(f"{name} {markets:,} markets: runs {walls} s", flush=True)
        for total in (r for r in records if r.get("loop")):
            print(loop_line(markets, total), flush=True)
    print(f"{markets:,} markets: emulator peak RSS {venue_rss:,.0f} MB", flush=True)
    return results


def prefect_floor(args: argparse.Namespace, prefect_env: dict[str, str]) -> float | None:
    """Median wall time of the scan's flow shape without its work (None: failed)."""
    records, error = run_worker("floor", max(args.runs, 3), prefect_env, args.worker_timeout)
    if error or not records:
        print(f"Prefect floor: FAILED ({error})", flush=True)
        return None
    walls = [r["wall"] for r in records[1:]] or [records[0]["wall"]]
    median: float = statistics.median(walls)
    print(f"Prefect floor: runs {', '.join(f'{w:.3f}' for w in walls)} s", flush=True)
    return median


def growth(rows: list[ScanFigures]) -> list[str]:
    """Warm wall time and scanning-process CPU per market, and the marginal cost between sizes."""
    lines = []
    for prev, cur in zip([None, *rows], rows, strict=False):
        line = (
            f"  {cur.markets:>6,} markets: wall {1e6 * cur.wall / cur.markets:,.0f} us/market, "
            f"CPU {1e6 * cur.cpu / cur.markets:,.0f} us/market"
        )
        if prev is not None:
            span = cur.markets - prev.markets
            line += (
                f"; marginal from {prev.markets:,}: wall {1e6 * (cur.wall - prev.wall) / span:,.0f}"
                f", CPU {1e6 * (cur.cpu - prev.cpu) / span:,.0f} us/market"
            )
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markets", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--runs", type=int, default=4, help="runs per size (1 cold + warm)")
    parser.add_argument(
        "--stale-runs",
        type=int,
        default=1,
        help="runs per size after the warm ones with a stale catalogue (refreshed incrementally)",
    )
    parser.add_argument(
        "--prefect-db",
        choices=("auto", "postgres", "sqlite"),
        default="auto",
        help="the Prefect server's database (auto: PostgreSQL when 127.0.0.1:5432 answers)",
    )
    parser.add_argument("--baseline-markets", type=int, default=1_000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-loop", action="store_true", help="skip the scan_loop flow runs")
    parser.add_argument(
        "--loop-scans",
        type=int,
        default=10,
        help="scans of the scan_loop flow run reported per size (two more run: its first, last)",
    )
    parser.add_argument("--worker-timeout", type=float, default=2400.0)
    args = parser.parse_args()
    print(machine(), flush=True)
    print(f"PM_RATE_BUDGET_FRACTION={Settings().rate_budget_fraction}", flush=True)

    rows: list[tuple[str, ScanFigures]] = []
    baseline: ScanFigures | None = None
    floor: float | None = None
    with (
        tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp,
        prefect_database(args.prefect_db) as (db_kind, db_url),
    ):
        print(f"Prefect server database: {db_kind}", flush=True)
        workdir = Path(tmp)
        with prefect_server(workdir / "prefect", db_url) as prefect_env:
            for markets in sorted(args.markets):
                rows += scan("scan (warm)", "optimised", markets, args, prefect_env, workdir)
                if floor is None:
                    # Right after the smallest size, so it meets the API server in the state
                    # the 1,000-market scan met (later sizes leave it more rows and work).
                    floor = prefect_floor(args, prefect_env)
            if not args.no_baseline:
                measured = scan(
                    "baseline", "baseline", args.baseline_markets, args, prefect_env, workdir
                )
                baseline = measured[0][1] if measured else None
    print()
    print("\n".join(table(rows + ([("baseline", baseline)] if baseline else []))))
    print()
    for label in dict(rows):
        print(f"linear growth ({label}):")
        print("\n".join(growth([f for name, f in rows if name == label])))
    print()
    print("targets:")
    print("\n".join(target_lines(rows, baseline, floor)))
    # The last line is judged on the scan loop when it ran (the way to scan within seconds,
    # docs/PERFORMANCE.md), else on one flow run per scan; the lines above give both.
    headline = "scan loop" if any(name == "scan loop" for name, _ in rows) else "scan (warm)"
    by_size = {f.markets: f for name, f in rows if name == headline}
    same = by_size.get(args.baseline_markets)
    speedup = f"{baseline.wall / same.wall:.1f}" if baseline and same else "n/a"
    ratio = f"{by_size[10_000].floor_ratio:.2f}" if 10_000 in by_size else "n/a"
    peak = [f.peak_rss_mb for _, f in rows if f.markets == 50_000]
    rss = f"{max(peak):.0f}" if peak else "n/a"
    print(f"speedup_vs_baseline={speedup} floor_ratio_10k={ratio} rss_mb_50k={rss}")


if __name__ == "__main__":
    main()
