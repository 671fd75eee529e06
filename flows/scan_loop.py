"""scan_loop: scan_and_trade's scan, repeated inside one flow run for a set time.

Edges last seconds; a flow run per scan pays Prefect's fixed cost each time (flow-run creation,
state changes, four artifacts: 0.5-1 s here, docs/PERFORMANCE.md) and starts cold (venue client,
catalogue read back from the DB). One run of this flow scans back to back, or every
``interval_seconds``, for ``duration_seconds``: each scan runs the same stages as
``scan_and_trade`` and is its own pm-agent run (run row, leases, opportunities, decisions,
orders), while the venue client, the /books rate budget and the catalogue (refreshed on the same
age rule) carry over.

Each scan is ``pm_lib.pipeline.scan.run_scan`` in one task run (``scan-<n>``) with its stages
called as plain functions, not a task run per stage: a task run costs Prefect ~4-6 ms here,
seven a scan were ~20% of a 1,000-market scan; at a scan every ~0.2 s they are ~35 task runs a
second, more than an SQLite-backed Prefect server records (~25 a second, docs/PREFECT.md), and
~17,000 rows a nine-minute run
in the UI. Keeping the books out of task-run states also lets reference counting free them as
soon as a scan ends, not in a cyclic-GC pass. Stage timings are in each run row and summary.

The UI artifacts are published after a scan that placed orders, at most every
``publish_every_seconds`` otherwise, and after the last scan.

A scan that fails ends the flow run as failed (what the earlier scans stored stays); the next
scheduled run starts afresh.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

import asyncio  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from flows.runtime import (  # noqa: E402
    name_failed_run,
    next_run,
    open_run,
    read_fair_values,
    rename_flow_run,
    starting_name,
)
from flows.stages import announce, log_scan, publish_timed, quoted  # noqa: E402
from pm_lib.errors import ConfigurationError  # noqa: E402
from pm_lib.pipeline.context import RunContext, StageClock  # noqa: E402
from pm_lib.pipeline.report import ScanReport  # noqa: E402
from pm_lib.pipeline.scan import ScanVenue, run_scan  # noqa: E402
from pm_lib.pipeline.scan_memory import cyclic_gc_paused  # noqa: E402
from pm_lib.reporting.tables import plain_decimal  # noqa: E402
from pm_lib.venue.http import open_venue_client  # noqa: E402
from pm_lib.venue.ratelimit import RateLimiter  # noqa: E402

__all__ = [
    "MAX_DURATION_SECONDS",
    "check_loop_parameters",
    "next_scan_at",
    "scan_loop",
    "scan_task",
]

# The flow's timeout is an hour; a loop stops starting scans well before it.
MAX_DURATION_SECONDS = 3300.0


def next_scan_at(
    scan_started: float,
    now: float,
    interval: float,
    deadline: float,
    scans_done: int,
    max_scans: int | None,
) -> float | None:
    """When the next scan starts (monotonic seconds), or ``None``: the loop is done.

    A scan starts ``interval`` after the previous one started, or at once if that one took
    longer; none starts at or after ``deadline`` or once ``max_scans`` have run.
    """
    if max_scans is not None and scans_done >= max_scans:
        return None
    start = max(now, scan_started + interval)
    return None if start >= deadline else start


def check_loop_parameters(
    duration: float, interval: float, publish_every: float, max_scans: int | None
) -> None:
    if not 0 < duration <= MAX_DURATION_SECONDS:
        raise ConfigurationError(
            f"duration_seconds must be in (0, {MAX_DURATION_SECONDS:.0f}], got {duration}"
        )
    if interval < 0 or publish_every < 0:
        raise ConfigurationError("interval_seconds and publish_every_seconds must be >= 0")
    if max_scans is not None and max_scans < 1:
        raise ConfigurationError(f"max_scans must be at least 1, got {max_scans}")


# Never retried (it places orders); no timeout_seconds: its blocking stages cannot be cut off
# (the flow's own timeout bounds the loop).
@task(name="scan", task_run_name="scan-{number}", retries=0, cache_policy=NO_CACHE)
async def scan_task(
    number: int, ctx: RunContext, clock: StageClock, venue: ScanVenue
) -> ScanReport:
    """Scan ``number`` of the loop: every stage, as plain calls, up to its stored run row."""
    fair_values = await read_fair_values(ctx.settings)
    outcome = await run_scan(ctx, venue, clock=clock, fair_values=fair_values)
    return outcome.report


@flow(
    name="scan-loop",
    flow_run_name=starting_name("scan loop"),
    timeout_seconds=3600,
    log_prints=False,
    persist_result=False,
    on_failure=[name_failed_run],
    on_crashed=[name_failed_run],
)
async def scan_loop(
    live: bool = False,
    strategies: Sequence[str] | None = None,
    limits: dict[str, str] | None = None,
    duration_seconds: float = 540.0,
    interval_seconds: float = 5.0,
    max_scans: int | None = None,
    publish_every_seconds: float = 30.0,
) -> dict[str, Any]:
    """Scan, decide and trade repeatedly for ``duration_seconds`` (paper unless live is armed).

    A scan starts every ``interval_seconds`` (at once after a slower scan; 0: back to back); no
    scan starts after ``duration_seconds`` or ``max_scans`` scans. ``live``, ``strategies`` and
    ``limits`` are ``scan_and_trade``'s, validated once before the first scan.
    """
    check_loop_parameters(duration_seconds, interval_seconds, publish_every_seconds, max_scans)
    logger = get_run_logger()
    ctx = open_run("scan-loop", live=live, strategies=strategies, limits=limits)
    logger.info(
        "scan loop: mode %s, strategies %s, for %.0f s",
        ctx.mode,
        ctx.settings.strategies,
        duration_seconds,
    )
    settings = ctx.settings
    limiter = RateLimiter.for_budget(
        settings.books_rate_limit_per_10s, settings.rate_budget_fraction
    )
    started = time.monotonic()
    deadline = started + duration_seconds
    published_at = float("-inf")
    scans: list[dict[str, Any]] = []
    async with open_venue_client(settings) as client:
        venue = ScanVenue(client, books_limiter=limiter)
        while True:
            scan_started = time.monotonic()
            clock = StageClock()
            with cyclic_gc_paused():
                report = await scan_task(len(scans) + 1, quoted(ctx), quoted(clock), quoted(venue))
                now = time.monotonic()
                next_start = next_scan_at(
                    scan_started, now, interval_seconds, deadline, len(scans) + 1, max_scans
                )
                due = now - published_at >= publish_every_seconds
                if next_start is None or due or report.orders:
                    await publish_timed(clock, report, ctx, venue.catalogue)
                    published_at = time.monotonic()
            log_scan(logger, ctx, report)
            announce(ctx, report)
            scans.append(_scan_record(ctx.run_id, time.monotonic() - scan_started, report, clock))
            if next_start is None:
                break
            await asyncio.sleep(max(0.0, next_start - time.monotonic()))
            ctx = next_run(ctx)
    summary = _loop_summary(scans, time.monotonic() - started)
    await rename_flow_run(
        f"{ctx.mode} loop: {summary['scans']} scans, {summary['orders']} orders, "
        f"{summary['filled']} filled"
    )
    return summary


def _seconds(seconds: float) -> str:
    return plain_decimal(Decimal(str(round(seconds, 4))), 4)


def _scan_record(
    run_id: str, seconds: float, report: ScanReport, clock: StageClock
) -> dict[str, Any]:
    s = report.summary
    return {
        "run_id": run_id,
        "seconds": _seconds(seconds),
        "markets": s.markets,
        "books": s.books,
        "catalogue_refresh": s.catalogue_refresh,
        "opportunities": s.opportunities,
        "approved": s.approved,
        "orders": s.orders,
        "filled": s.filled_orders,
        "stage_seconds": {stage: plain_decimal(v, 4) for stage, v in clock.seconds.items()},
    }


def _loop_summary(scans: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    return {
        "scans": len(scans),
        "seconds": _seconds(seconds),
        "opportunities": sum(s["opportunities"] for s in scans),
        "approved": sum(s["approved"] for s in scans),
        "orders": sum(s["orders"] for s in scans),
        "filled": sum(s["filled"] for s in scans),
        "runs": scans,
    }
