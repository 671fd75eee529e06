"""daily_report: P&L per UTC day with a chart, published as a Prefect artifact after midnight.

The figures are ``pm_lib.portfolio``'s (the risk gate's): realised and fees per day, and the
open positions' unrealised P&L at their last trusted marks on today's row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from flows.runtime import run_settings, store_engine  # noqa: E402
from pm_lib.pipeline.reports import build_daily_report  # noqa: E402
from pm_lib.reporting.summary import DailyReport, daily_report_markdown  # noqa: E402
from pm_lib.reporting.tables import plain_decimal  # noqa: E402
from pm_lib.store.rows import Mode  # noqa: E402

__all__ = ["daily_report"]


@task(name="build-report", timeout_seconds=120, cache_policy=NO_CACHE)
def build_report_task(mode: Mode) -> DailyReport:
    """P&L per UTC day and the open positions valued, from the stored fills and marks."""
    settings = run_settings()
    return build_daily_report(store_engine(settings), mode, datetime.now(UTC), settings)


async def publish_report(report: DailyReport) -> str:
    """The P&L table and the chart in the Prefect UI, published from the flow run's own context
    (its Artifacts tab lists them); returns the markdown without the chart image (what a
    terminal prints)."""
    markdown = daily_report_markdown(report)
    rows = [
        {
            "day": d.day.isoformat(),
            "fills": str(d.fills),
            "realised": plain_decimal(d.realised),
            "fees": plain_decimal(d.fees),
            "unrealised": plain_decimal(d.unrealised),
            "net": plain_decimal(d.net),
        }
        for d in report.days
    ] or [{"day": "no fills yet"}]
    await acreate_table_artifact(rows, key="daily-pnl", description="P&L per UTC day (pUSD)")
    await acreate_markdown_artifact(
        daily_report_markdown(report, chart=True), key="daily-report", description="Daily report"
    )
    return markdown


@flow(name="daily-report", flow_run_name="daily report ({mode})", timeout_seconds=300)
async def daily_report(mode: Mode = "paper") -> str:
    """Publish the P&L report of ``mode`` ('paper' or 'live') and return its markdown."""
    report = build_report_task(mode)
    markdown = await publish_report(report)
    get_run_logger().info(
        "daily report: %d day(s), %d open positions", len(report.days), len(report.positions)
    )
    return markdown
