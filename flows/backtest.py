"""backtest: replay a recording through the scan's stages and publish the report as artifacts.

The same replay as ``pm-agent backtest`` (``pm_lib.replay.backtest``): one replay per latency,
each in a throwaway store. Published: a table artifact (the latency sweep), a markdown artifact
with the figures, what was missed and why, and the equity curve (an SVG written by pm-agent,
embedded as a data URI, also saved next to the recording as ``equity-<latency>ms.svg``).
"""

from __future__ import annotations

import base64
from pathlib import Path

from flows.environment import apply_prefect_defaults

apply_prefect_defaults()

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact  # noqa: E402

from flows.runtime import read_fair_values, run_settings  # noqa: E402
from pm_lib.errors import ConfigurationError  # noqa: E402
from pm_lib.replay.backtest import parse_latencies, run_backtest, sweep_json, sweep_rows  # noqa: E402
from pm_lib.replay.report import BacktestResult, decimal_text, equity_svg  # noqa: E402

__all__ = ["backtest", "backtest_markdown"]


def backtest_markdown(results: list[BacktestResult], images: dict[int, str]) -> str:
    """The report: per latency the figures, the reasons for what was not filled, the curve."""
    lines = ["# Backtest", ""]
    for r in results:
        missed = ", ".join(f"{k} ({v})" for k, v in r.missed_by_reason().items()) or "none"
        lines += [
            f"## Latency {r.latency_ms} ms",
            "",
            f"- messages: {r.messages}; opportunities: {len(r.opportunities)} (filled "
            f"{r.count('filled')}, missed {r.count('missed')}, rejected {r.count('rejected')})",
            f"- not filled, why: {missed}",
            f"- fills: {len(r.fills)}; settlements: {len(r.settlements)}; fees "
            f"{decimal_text(r.fees)} pUSD",
            f"- realised P&L {decimal_text(r.realized_pnl)}, unrealised "
            f"{decimal_text(r.unrealized_pnl)}; equity {decimal_text(r.equity_start)} -> "
            f"{decimal_text(r.equity_end)} pUSD",
            "",
            f"![equity curve, {r.latency_ms} ms]({images[r.latency_ms]})",
            "",
        ]
    return "\n".join(lines)


@flow(name="backtest", timeout_seconds=3600)
async def backtest(
    recording: str = "",
    strategies: list[str] | None = None,
    latency_ms: str = "0,100,500,2000",
) -> dict[str, object]:
    """Replay ``recording`` at each latency; returns what ``pm-agent backtest --json`` prints."""
    if not recording:
        raise ConfigurationError("backtest needs recording=<a recording directory>")
    settings = run_settings()
    directory = Path(recording)
    results = await run_backtest(
        directory,
        settings,
        parse_latencies(latency_ms),
        strategies=strategies,
        fair_values=await read_fair_values(settings)
        if "fair_value" in (strategies or settings.strategies)
        else None,
    )
    images: dict[int, str] = {}
    for r in results:
        svg = equity_svg(r)
        (directory / f"equity-{r.latency_ms}ms.svg").write_text(svg)
        images[r.latency_ms] = (
            "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        )
    await acreate_table_artifact(
        sweep_rows(results), key="backtest-sweep", description="Edge kept per latency (pUSD)"
    )
    await acreate_markdown_artifact(
        backtest_markdown(results, images), key="backtest", description="Backtest report"
    )
    get_run_logger().info(
        "backtest %s: %s",
        recording,
        ", ".join(f"{r.latency_ms} ms: {r.count('filled')} filled" for r in results),
    )
    return sweep_json(results)
