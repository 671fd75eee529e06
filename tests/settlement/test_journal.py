"""The settlement journal: a settlement stored before a crash is applied by the next run, once.

A paper position of 10 YES bought at 0.40 (fee 0.096) in a market stored as resolved YES.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pm_lib.models import Fill, MarketResolution, Side, TradeStatus
from pm_lib.portfolio.ledger import replay
from pm_lib.settings import Settings
from pm_lib.settlement import plan_settlements, settle
from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.store.settlement import (
    APPLIED,
    PENDING,
    journal_settlement,
    save_resolutions,
    settlements,
)
from pm_lib.store.trades import fills, upsert_fill

COND, YES, NO = "0x" + "ab" * 32, "11", "12"
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'pm_agent.db'}")
    upgrade(engine)
    with session_scope(engine) as session:
        upsert_fill(
            session,
            Fill(
                trade_id="t1",
                order_id="paper-1",
                token_id=YES,
                condition_id=COND,
                side=Side.BUY,
                size=Decimal(10),
                price=Decimal("0.40"),
                fee=Decimal("0.096"),
                status=TradeStatus.CONFIRMED,
                matched_at=NOW,
            ),
            mode="paper",
        )
        resolution = MarketResolution(
            condition_id=COND,
            payouts={YES: Decimal(1), NO: Decimal(0)},
            winning_token_id=YES,
            winning_outcome="Yes",
            resolved_at=NOW,
        )
        save_resolutions(session, [resolution], "test", NOW)
    yield engine
    engine.dispose()


def test_a_settlement_journalled_before_a_crash_is_applied_once(
    engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:  # a run journalled it, then died before applying
        plan, _ = plan_settlements(session, "paper", NOW)
        assert journal_settlement(session, plan[0])
        assert not journal_settlement(session, plan[0])  # journalled once per (mode, token)
    with session_scope(engine, read_only=True) as session:
        assert [s.status for s in settlements(session, "paper")] == [PENDING]
    # nothing left to ask the venue about: the unreachable URL is never called
    settings = Settings(_env_file=None, data_dir=tmp_path, gamma_url="http://127.0.0.1:9")  # type: ignore[call-arg]

    first = asyncio.run(settle(engine, settings, "paper", NOW))
    second = asyncio.run(settle(engine, settings, "paper", NOW))

    assert [(s.proceeds, s.realised) for s in first.settled] == [(Decimal(10), Decimal("5.904"))]
    assert second.settled == ()
    with session_scope(engine, read_only=True) as session:
        rows = settlements(session, "paper")
        ledger = replay(fills(session, "paper"))
    assert [s.status for s in rows] == [APPLIED]
    assert ledger.positions[YES].size == 0
    assert ledger.cash_delta == Decimal(10) - Decimal(4) - Decimal("0.096")
