"""scan_and_trade: the main job, one scan a flow run, each stage a task run in the UI.

    catalogue -> books -> portfolio -> signals -> risk -> execute -> store, then artifacts

The stage order is ``pm_lib.pipeline.scan.run_scan``'s; how the stages show in Prefect is
``flows.stages``'s. A flow run of this shape costs ~0.5 s of Prefect before any work
(docs/PERFORMANCE.md): to scan every few seconds, use ``scan_loop``.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

from prefect import flow, get_run_logger  # noqa: E402

from flows.runtime import (  # noqa: E402
    name_failed_run,
    open_run,
    read_fair_values,
    rename_flow_run,
    starting_name,
)
from flows.stages import (  # noqa: E402
    announce,
    as_task_runs,
    log_scan,
    outcome_name,
    publish_timed,
)
from pm_lib.pipeline.context import StageClock  # noqa: E402
from pm_lib.pipeline.scan import ScanVenue, run_scan  # noqa: E402
from pm_lib.pipeline.scan_memory import cyclic_gc_paused  # noqa: E402
from pm_lib.reporting.tables import plain_decimal  # noqa: E402
from pm_lib.venue.http import open_venue_client  # noqa: E402

__all__ = ["scan_and_trade"]


# persist_result=False: the run's outcome is stored by pm-agent (run, opportunity, decision and
# order rows), so Prefect need not look up the server's default result storage (an API round
# trip a run) nor write the returned report anywhere.
@flow(
    name="scan-and-trade",
    flow_run_name=starting_name("scan"),
    timeout_seconds=900,
    log_prints=False,
    persist_result=False,
    on_failure=[name_failed_run],
    on_crashed=[name_failed_run],
)
async def scan_and_trade(
    live: bool = False,
    strategies: Sequence[str] | None = None,
    limits: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Scan the universe, decide under risk limits and trade (paper unless live is armed).

    ``live=True`` arms live trading for this run; it trades live only when ``PM_MODE=live`` and
    credentials load, otherwise the run refuses before anything is sent. ``strategies`` and
    ``limits`` (setting name -> value) override the configured ones for this run.
    """
    logger = get_run_logger()
    ctx = open_run("scan-and-trade", live=live, strategies=strategies, limits=limits)
    logger.info("run %s: mode %s, strategies %s", ctx.run_id, ctx.mode, ctx.settings.strategies)
    clock = StageClock()
    fair_values = await read_fair_values(ctx.settings)
    # Millions of acyclic objects are built in a scan; they are freed (by reference counting)
    # when it returns, before the cyclic collector resumes (pm_lib.pipeline.scan_memory).
    with cyclic_gc_paused():
        async with open_venue_client(ctx.settings) as client:
            venue = ScanVenue(client)
            outcome = await run_scan(
                ctx, venue, runner=as_task_runs, clock=clock, fair_values=fair_values
            )
        report = outcome.report
        del outcome
        await publish_timed(clock, report, ctx, venue.catalogue)
    log_scan(logger, ctx, report)
    announce(ctx, report)
    await rename_flow_run(outcome_name(ctx.mode, report))
    # The run row is closed (and the summary published) before the store and artifacts stages
    # end, so their times are only in the returned JSON.
    out = report.to_json()
    out["stage_seconds"] = {stage: plain_decimal(s, 4) for stage, s in clock.seconds.items()}
    return out
