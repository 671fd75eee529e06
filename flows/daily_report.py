"""daily_report: P&L per UTC day with a chart, published as a Prefect artifact after midnight."""

from __future__ import annotations

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from flows.runtime import run_settings, store_engine  # noqa: E402
from pm_lib.pipeline.reports import DailyReport, build_daily_report  # noqa: E402
from pm_lib.reporting.summary import daily_report_markdown  # noqa: E402
from pm_lib.reporting.tables import money  # noqa: E402

__all__ = ["daily_report"]


@task(name="build-report", timeout_seconds=120, cache_policy=NO_CACHE)
def build_report_task(mode: str) -> DailyReport:
    """P&L per UTC day and open positions, replayed from the stored fills."""
    settings = run_settings()
    return build_daily_report(store_engine(settings), mode)


@task(name="publish-report", timeout_seconds=60, cache_policy=NO_CACHE)
async def publish_report_task(report: DailyReport) -> str:
    """The P&L table and the chart in the Prefect UI; returns the markdown."""
    markdown = daily_report_markdown(report.days, mode=report.mode, positions=report.positions)
    rows = [
        {
            "day": d.day.isoformat(),
            "fills": str(d.fills),
            "realised": money(d.realised),
            "fees": money(d.fees),
            "net": money(d.net),
        }
        for d in report.days
    ] or [{"day": "no fills yet"}]
    await acreate_table_artifact(rows, key="daily-pnl", description="P&L per UTC day (pUSD)")
    await acreate_markdown_artifact(markdown, key="daily-report", description="Daily report")
    return markdown


@flow(name="daily-report", timeout_seconds=300)
async def daily_report(mode: str = "paper") -> str:
    """Publish the P&L report of ``mode`` ('paper' or 'live') and return its markdown."""
    report = build_report_task(mode)
    markdown = await publish_report_task(report)
    get_run_logger().info(
        "daily report: %d day(s), %d open positions", len(report.days), report.positions
    )
    return markdown
