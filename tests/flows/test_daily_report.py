"""The daily-report flow under a local Prefect API: a held neg-risk basket (a complete set bought
below 1) shows its locked-in gain as unrealised P&L, the figure the scan summary showed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from flows.daily_report import daily_report
from flows.scan_and_trade import scan_and_trade
from pm_lib.pipeline.reports import build_daily_report
from pm_lib.settings import Settings
from pm_lib.store.engine import make_engine

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api", "planted")]


def test_a_held_basket_shows_its_locked_in_gain_in_the_daily_report(pm_env: Path) -> None:
    bought = asyncio.run(scan_and_trade(live=False))
    assert any(o["filled_size"] != "0" for o in bought["orders"]), "the planted basket is bought"
    asyncio.run(scan_and_trade(live=False))  # marks the basket at this scan's books

    markdown = asyncio.run(daily_report(mode="paper"))

    report = build_daily_report(
        make_engine(f"sqlite:///{pm_env}"), "paper", datetime.now(UTC), Settings()
    )
    today = report.days[-1]
    # bought at 0.90 a set + fees, worth 1 a set: a gain net of fees, on today's row
    assert today.unrealised > 0 and today.net > 0
    assert any(p.merged > 0 for p in report.positions)
    assert f"| {today.day.isoformat()} |" in markdown and "equity" in markdown
    assert Decimal(0) < today.unrealised
