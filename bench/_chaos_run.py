"""The pm-agent side of a chaos cycle: one live scan, or one reconcile, here or in a worker.

A scan is the product's own (``pm_lib.pipeline.scan.run_scan``: catalogue, books, portfolio,
signals, risk, execute, store), its stages as plain calls, armed live against the emulator.
The campaign's clock runs ahead of the wall clock (settlement, heartbeat expiry), so
the run context and reconcile read time from ``ChaosContext.now``; the venue clock is moved by
the same offset.

As a worker process (the campaign SIGKILLs it at a random point, then reconciles in another):

    python bench/_chaos_run.py scan|held-scan|reconcile SETTINGS_JSON OFFSET_SECONDS

prints ``ready`` once imported, ``executing`` just before the execute stage, and
``done {json}`` at the end. A ``held-scan`` waits after ``executing`` for a line on stdin,
so two of them can be released into their execute stages together. With ``CHAOS_LOG_FILE``
set, every log record (DEBUG and up, the SDK's included) goes to that file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from pm_lib.execution.factory import make_executor
from pm_lib.execution.live import UNKNOWN_GRACE
from pm_lib.execution.reconcile import ReconcileReport, reconcile
from pm_lib.pipeline.context import RunContext, new_run_id
from pm_lib.pipeline.scan import ScanHooks, ScanOutcome, ScanVenue, run_scan
from pm_lib.settings import Settings
from pm_lib.store import make_engine, session_scope, start_run
from pm_lib.venue.http import open_venue_client

__all__ = ["ChaosContext", "chaos_now", "reconcile_account", "scan", "settings_from"]


def chaos_now(offset_seconds: float) -> datetime:
    """The campaign's time: the wall clock plus the offset the venue clock was moved by."""
    return datetime.now(UTC) + timedelta(seconds=offset_seconds)


@dataclass(frozen=True)
class ChaosContext(RunContext):
    """A run context on the campaign's clock."""

    offset_seconds: float = 0.0

    def now(self) -> datetime:
        return chaos_now(self.offset_seconds)


def settings_from(fields: dict[str, Any]) -> Settings:
    """The run's settings from plain fields (no environment, no .env)."""
    return Settings(_env_file=None, **fields)


def scan(
    settings: Settings,
    engine: Engine,
    offset_seconds: float,
    on_execute: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """One armed live scan; what it decided and placed, or the error that stopped it."""
    started = chaos_now(offset_seconds)
    ctx = ChaosContext(
        settings=settings,
        engine=engine,
        run_id=new_run_id(),
        flow_name="scan-and-trade",
        live_armed=True,
        started_at=started,
        offset_seconds=offset_seconds,
    )
    with session_scope(engine) as session:
        start_run(
            session,
            run_id=ctx.run_id,
            flow_name=ctx.flow_name,
            mode=ctx.mode,
            flow_run_id=None,
            started_at=started,
        )
    summary: dict[str, Any] = {"run_id": ctx.run_id, "found": 0, "approved": 0, "orders": 0}
    try:

        async def one_scan() -> ScanOutcome:
            async with open_venue_client(settings) as client:
                return await run_scan(
                    ctx, ScanVenue(client), hooks=ScanHooks(before_execute=on_execute)
                )

        outcome = asyncio.run(one_scan())
        report = outcome.report
        summary["found"] = len(report.opportunities)
        summary["approved"] = sum(1 for d in report.decisions if d.approved)
        summary["rejected"] = sorted({d.rule for d in report.decisions if not d.approved})
        summary["orders"] = len(outcome.execution.results)
        summary["skipped"] = len(outcome.execution.skipped)
    except Exception as e:  # a fault may stop a run anywhere: the invariants judge the rest
        summary["error"] = f"{type(e).__name__}: {e}"[:300]
    return summary


def reconcile_account(settings: Settings, engine: Engine, offset_seconds: float) -> ReconcileReport:
    """One reconcile pass, its clock past ``UNKNOWN_GRACE`` (as if run a minute later)."""

    def clock() -> datetime:
        return chaos_now(offset_seconds) + UNKNOWN_GRACE + timedelta(seconds=1)

    executor = make_executor(
        settings, live_armed=True, engine=engine, run_id=new_run_id(), clock=clock
    )
    try:
        return reconcile(executor, engine, clock=clock)
    finally:
        executor.close()


def _worker(role: str, fields: dict[str, Any], offset_seconds: float) -> dict[str, Any]:
    settings = settings_from(fields)
    engine = make_engine(settings.resolved_database_url)
    print("ready", flush=True)
    try:
        if role in ("scan", "held-scan"):

            def executing() -> None:
                print("executing", flush=True)
                if role == "held-scan":
                    sys.stdin.readline()

            return scan(settings, engine, offset_seconds, executing)
        report = reconcile_account(settings, engine, offset_seconds)
        return {"discrepancies": list(report.discrepancies), "changes": len(report.changes)}
    finally:
        engine.dispose()


if __name__ == "__main__":
    if os.environ.get("CHAOS_LOG_FILE"):
        logging.basicConfig(filename=os.environ["CHAOS_LOG_FILE"], level=logging.DEBUG, force=True)
    answer = _worker(sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]))
    print("done " + json.dumps(answer), flush=True)
