"""Settling paper positions after their markets resolved, against the emulator.

A basket (one YES of each of the three outcomes of the neg-risk event, 10 shares each at asks
0.30, 0.31, 0.32) is bought on paper from the emulator's books. Taker fees: 10 x 0.04 x p x
(1 - p) = 0.084 + 0.08556 + 0.08704 = 0.2566. Cost 9.30. The event resolves (outcome 1 "Yes",
so 2 and 3 "No" through the neg-risk rule): the basket pays 10 pUSD, realising
10 - 9.30 - 0.2566 = 0.4434 pUSD.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.execution.factory import ARMED_IN_PAPER_MODE
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.execution.paper import PaperExecutor
from pm_lib.models import Fill, OrderStatus, Side, TradeStatus
from pm_lib.portfolio import read_portfolio
from pm_lib.settings import Settings
from pm_lib.settlement import SettleReport, settle
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.store.settlement import APPLIED, market_resolutions, settlements
from pm_lib.store.settlement_actions import actions
from pm_lib.store.trades import upsert_fill
from tests.execution.builders import basket
from tests.execution.emulator import MARKETS, NEG_RISK, control, fetch, make_venue

D = Decimal
COST, FEES, PAYOUT = D("9.30"), D("0.2566"), D("10")
runner = CliRunner()


@pytest.fixture
def running() -> Iterator[RunningVenue]:
    with running_venue(make_venue()) as r:
        yield r


@pytest.fixture
def settings(tmp_path: Path, running: RunningVenue) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        paper_balance=D(100),
        clob_url=running.clob_url,
        gamma_url=running.gamma_url,
        database_url=f"sqlite:///{tmp_path / 'pm_agent.db'}",
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _buy_basket(settings: Settings, engine: Engine) -> None:
    tokens = [yes for _, yes, _ in NEG_RISK]
    books = fetch(settings, tokens)
    legs = [
        (yes, cond, "10", ask)
        for (cond, yes, _), ask in zip(NEG_RISK, ("0.30", "0.31", "0.32"), strict=True)
    ]
    executor = PaperExecutor(settings, engine, books=books, run_id="buy")
    outcome = execute_opportunity(
        executor,
        basket("b1", *legs),
        MARKETS,
        books,
        settings=settings,
        engine=engine,
        run_id="buy",
    )
    assert [r.status for r in outcome.results] == [OrderStatus.MATCHED] * 3


def _settle(settings: Settings, engine: Engine, mode: str = "paper") -> SettleReport:
    return asyncio.run(settle(engine, settings, mode, datetime.now(UTC)))  # type: ignore[arg-type]


def _portfolio(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    with session_scope(engine, read_only=True) as session:
        return read_portfolio(session, "paper", datetime.now(UTC), settings)


def test_a_resolved_basket_settles_once_at_its_payout(
    running: RunningVenue, settings: Settings, engine: Engine
) -> None:
    _buy_basket(settings, engine)
    before = _portfolio(settings, engine)
    assert before.cash == D(100) - COST - FEES
    assert _settle(settings, engine).settled == ()  # nothing resolved yet: nothing settles

    control(running, "POST", f"/markets/{NEG_RISK[0][0]}/resolve", {"outcome": "Yes"})
    report = _settle(settings, engine)

    assert len(report.resolved) == 3 and len(report.settled) == 3
    assert report.proceeds == PAYOUT
    assert report.realised == PAYOUT - COST - FEES == D("0.4434")
    after = _portfolio(settings, engine)
    assert after.positions == {}
    assert after.cash == before.cash + PAYOUT
    ledger = after.ledger.positions.values()
    realised = sum((p.realised_pnl - p.fees_paid for p in ledger), D(0))
    assert realised == PAYOUT - COST - FEES

    again = _settle(settings, engine)

    assert (again.resolved, again.settled) == ((), ())
    assert _portfolio(settings, engine).cash == after.cash
    with session_scope(engine, read_only=True) as session:
        rows = settlements(session, "paper")
    assert [(r.status, r.payout) for r in rows] == [
        (APPLIED, D(1)),
        (APPLIED, D(0)),
        (APPLIED, D(0)),
    ]


def test_a_resolved_position_is_marked_at_its_payout_not_its_last_mark(
    running: RunningVenue, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _buy_basket(settings, engine)
    control(running, "POST", f"/markets/{NEG_RISK[1][0]}/resolve", {"outcome": "Yes"})
    from pm_lib.settlement import refresh_resolutions
    from pm_lib.venue.http import open_venue_client

    async def read() -> None:
        async with open_venue_client(settings) as client:
            await refresh_resolutions(client, engine, settings, "paper", datetime.now(UTC))

    asyncio.run(read())

    portfolio = _portfolio(settings, engine)
    values = {v.token_id: (v.source, v.value) for v in portfolio.valuation.positions}
    assert values == {
        NEG_RISK[0][1]: ("payout", D(0)),
        NEG_RISK[1][1]: ("payout", D(10)),
        NEG_RISK[2][1]: ("payout", D(0)),
    }
    _cli_env(monkeypatch, settings)
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert {p["token_id"]: (p["marked_from"], p["mark"]) for p in status["positions"]} == {
        NEG_RISK[0][1]: ("payout", "0"),
        NEG_RISK[1][1]: ("payout", "1"),
        NEG_RISK[2][1]: ("payout", "0"),
    }
    with session_scope(engine, read_only=True) as session:
        stored = market_resolutions(session)
    assert {c: r.winning_outcome for c, r in stored.items()} == {
        NEG_RISK[0][0]: "No",
        NEG_RISK[1][0]: "Yes",
        NEG_RISK[2][0]: "No",
    }


def test_cli_settles_paper_and_refuses_an_unarmed_live_settle(
    running: RunningVenue, settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _buy_basket(settings, engine)
    control(running, "POST", f"/markets/{NEG_RISK[2][0]}/resolve", {"outcome": "Yes"})
    _cli_env(monkeypatch, settings)

    cond, yes, _ = NEG_RISK[2]
    with session_scope(engine) as session:  # a live position in the market that resolved
        upsert_fill(session, _live_fill(cond, yes), mode="live")

    live = runner.invoke(app, ["settle", "--live", "--json"])  # PM_MODE is paper: not armed

    assert live.exit_code == 1
    assert f"refused: {ARMED_IN_PAPER_MODE}" in live.stderr
    assert live.stdout == ""
    with session_scope(engine, read_only=True) as session:
        assert settlements(session, "live") == []  # nothing journalled, nothing pretended
        assert actions(session, "live") == []

    paper = runner.invoke(app, ["settle", "--json"])

    assert paper.exit_code == 0, paper.output
    body = json.loads(paper.stdout)
    assert (body["proceeds"], body["realised"]) == ("10", "0.4434")
    assert runner.invoke(app, ["settle", "--json"]).stdout.count('"settled": []') == 1


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("PM_DATABASE_URL", settings.database_url or "")
    monkeypatch.setenv("PM_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PM_GAMMA_URL", settings.gamma_url)
    monkeypatch.setenv("PM_CLOB_URL", settings.clob_url)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


def _live_fill(condition: str, token: str) -> Fill:
    return Fill(
        trade_id="live-t1",
        order_id="0xabc",
        token_id=token,
        condition_id=condition,
        side=Side.BUY,
        size=D(5),
        price=D("0.32"),
        status=TradeStatus.CONFIRMED,
        matched_at=datetime.now(UTC),
    )
