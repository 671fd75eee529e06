"""record: record the venue (``POST /books`` snapshots) into a recording directory.

The same recorder as ``pm-agent record`` (``pm_lib.replay.recorder``); the directory is
``<PM_DATA_DIR>/recordings/<UTC start>`` unless one is given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from prefect import flow, get_run_logger  # noqa: E402

from flows.runtime import run_settings  # noqa: E402
from pm_lib.replay.recorder import record as record_venue  # noqa: E402

__all__ = ["record"]


@flow(name="record", timeout_seconds=7200)
async def record(
    directory: str | None = None,
    duration_seconds: float = 3300,
    interval_seconds: float = 1.0,
    gzip_files: bool = True,
) -> dict[str, object]:
    """Record for ``duration_seconds``; returns where and how much."""
    settings = run_settings()
    target = (
        Path(directory)
        if directory
        else settings.data_dir / "recordings" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    )
    summary = await record_venue(
        settings,
        target,
        duration_s=duration_seconds,
        interval_s=interval_seconds,
        gzip_files=gzip_files,
    )
    get_run_logger().info(
        "recorded %d markets, %d snapshots, %d messages into %s",
        summary.markets,
        summary.snapshots,
        summary.messages,
        target,
    )
    return {
        "directory": str(target),
        "markets": summary.markets,
        "snapshots": summary.snapshots,
        "messages": summary.messages,
        "files": len(summary.files),
    }
