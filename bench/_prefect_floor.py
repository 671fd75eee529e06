"""Prefect's own floor for a scan: a flow of scan_and_trade's shape that does no work.

Same decorator settings, the same seven async tasks in the same order (none does anything)
and the four UI artifacts with one row each; no books progress bar, like a books fetch of under
a second (a 1,000-market universe). Its wall time is what Prefect costs a run on this machine
and API server before pm-agent does anything: no scan of this shape can be faster, which bounds
the speed-up over the baseline.
"""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()  # the Prefect settings scan_and_trade runs with

import asyncio  # noqa: E402
from typing import Any  # noqa: E402

from prefect import flow, task  # noqa: E402
from prefect.artifacts import (  # noqa: E402
    acreate_markdown_artifact,
    acreate_table_artifact,
)
from prefect.cache_policies import NO_CACHE  # noqa: E402

__all__ = ["prefect_floor"]


@task(cache_policy=NO_CACHE)
async def _stage(name: str) -> str:
    return name


@task(name="publish", cache_policy=NO_CACHE)
async def _publish() -> None:
    await asyncio.gather(
        *(acreate_table_artifact([{key: "none this run"}], key=key) for key in _TABLES),
        acreate_markdown_artifact("empty run", key="scan-summary"),
    )


_TABLES = ("opportunities", "risk-decisions", "orders")
_STAGES = {
    name: _stage.with_options(name=name)
    for name in (
        "load-catalogue",
        "fetch-books",
        "portfolio",
        "find-signals",
        "apply-risk",
        "execute",
    )
}


@flow(name="prefect-floor", timeout_seconds=900, log_prints=False, persist_result=False)
async def prefect_floor() -> dict[str, Any]:
    """Seven no-op tasks and four artifacts, like one scan_and_trade run without its work."""
    for name, stage in _STAGES.items():
        await stage(name)
    await _publish()
    return {"stage_seconds": {}}
