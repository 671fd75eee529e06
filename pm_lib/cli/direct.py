"""``pm-agent scan`` without a Prefect API: the scan's stages run in this process.

Without ``PREFECT_API_URL`` a flow call makes Prefect start a temporary API server first
(~20 s on these machines, every command: docs/OPERATIONS.md, "Scanning without a Prefect
server"). The
scan itself is ``pm_lib.pipeline.scan.run_scan``, the same stages, the same run, opportunity,
decision and order rows; only the Prefect flow run and its UI artifacts are missing. With
``PREFECT_API_URL`` set, the CLI runs the ``scan-and-trade`` flow as before.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

__all__ = ["prefect_configured", "scan_without_prefect"]


def prefect_configured() -> bool:
    """Whether a Prefect API is configured (the flow path) rather than a temporary one."""
    return bool(os.environ.get("PREFECT_API_URL"))


async def scan_without_prefect(
    *, live: bool = False, strategies: Sequence[str] | None = None
) -> dict[str, Any]:
    """One scan of the ``scan-and-trade`` shape, its stages called directly; the report JSON."""
    from pm_lib.errors import ConfigurationError
    from pm_lib.pipeline.context import StageClock
    from pm_lib.pipeline.opening import open_run
    from pm_lib.pipeline.scan import ScanVenue, run_scan
    from pm_lib.pipeline.scan_memory import cyclic_gc_paused
    from pm_lib.reporting.tables import plain_decimal
    from pm_lib.venue.http import open_venue_client

    ctx = open_run("scan-and-trade", live=live, strategies=strategies)
    if ctx.settings.fair_value_variable and "fair_value" in ctx.settings.strategies:
        raise ConfigurationError(
            "PM_FAIR_VALUE_VARIABLE names a Prefect Variable: set PREFECT_API_URL, "
            "or give the fair values in PM_FAIR_VALUE_FILE"
        )
    clock = StageClock()
    with cyclic_gc_paused():
        async with open_venue_client(ctx.settings) as client:
            outcome = await run_scan(ctx, ScanVenue(client), clock=clock)
        out = outcome.report.to_json()
        del outcome
    out["stage_seconds"] = {stage: plain_decimal(s, 4) for stage, s in clock.seconds.items()}
    return out
