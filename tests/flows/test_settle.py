"""The settle flow: a paper position in a market that resolved is redeemed, once, with an
artifact; the run row closes as completed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from flows.settle import settle
from pm_lib.models import Fill, Side, TradeStatus
from pm_lib.sim.server import RunningVenue
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.runs import recent_runs
from pm_lib.store.trades import upsert_fill

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def test_a_paper_settle_redeems_a_resolved_position_once(
    pm_env: Path, flow_venue: RunningVenue
) -> None:
    sim = f"{flow_venue.clob_url}/_sim"
    added = httpx.post(f"{sim}/markets", json={"price": "0.4"}, timeout=10).json()
    condition, (yes, _) = added["condition_id"], added["token_ids"]
    engine = make_engine(f"sqlite:///{pm_env}")
    upgrade(engine)
    with session_scope(engine) as session:  # bought 10 YES at 0.40 on paper, fee 0.096
        upsert_fill(
            session,
            Fill(
                trade_id="t1",
                order_id="paper-1",
                token_id=yes,
                condition_id=condition,
                side=Side.BUY,
                size=Decimal(10),
                price=Decimal("0.40"),
                fee=Decimal("0.096"),
                status=TradeStatus.CONFIRMED,
                matched_at=datetime.now(UTC),
            ),
            mode="paper",
        )
    resolved = httpx.post(f"{sim}/markets/{condition}/resolve", json={"outcome": "Yes"}, timeout=10)
    assert resolved.status_code == 200

    first = asyncio.run(settle())
    second = asyncio.run(settle())

    assert [(s["token_id"], s["proceeds"], s["realised"]) for s in first["settled"]] == [
        (yes, "10", "5.904")
    ]
    assert second["settled"] == []
    with session_scope(engine, read_only=True) as session:
        runs = recent_runs(session, flow_name="settle")
    assert [r.status for r in runs] == ["completed", "completed"]
