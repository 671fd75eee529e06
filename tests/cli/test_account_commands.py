"""`pm-agent` account commands on a real SQLite file: kill switch, orders/positions/pnl JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.models import Fill, Side, TradeStatus
from pm_lib.store.account import (
    PositionMark,
    breaker_trip,
    position_marks,
    save_position_marks,
)
from pm_lib.store.control import is_halted
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.trades import upsert_fill

runner = CliRunner()
D = Decimal
MARKED = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'pm_agent.db'}"
    monkeypatch.setenv("PM_DATABASE_URL", url)
    monkeypatch.setenv("PM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return url


def _fill(trade_id: str, side: Side, size: str, price: str, fee: str) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=f"paper-{trade_id}",
        token_id="111",
        condition_id="0xc1",
        side=side,
        size=Decimal(size),
        price=Decimal(price),
        fee=Decimal(fee),
        status=TradeStatus.CONFIRMED,
        matched_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
    )


def test_halt_sets_the_flag_the_gate_reads_and_resume_clears_it(db: str) -> None:
    halted = runner.invoke(app, ["halt", "--reason", "news pending"])
    assert halted.exit_code == 0, halted.output
    assert "HALTED" in halted.output
    engine = make_engine(db)
    with session_scope(engine, read_only=True) as session:
        assert is_halted(session) == (True, "news pending")

    resumed = runner.invoke(app, ["resume"])

    assert resumed.exit_code == 0 and "trading enabled" in resumed.output
    with session_scope(engine, read_only=True) as session:
        assert is_halted(session)[0] is False


def test_positions_and_pnl_json_are_exact_decimal_strings_with_unrealised_pnl(db: str) -> None:
    engine = make_engine(db)
    upgrade(engine)
    with session_scope(engine) as session:
        upsert_fill(session, _fill("t1", Side.BUY, "10", "0.40", "0.024"), mode="paper")
        upsert_fill(session, _fill("t2", Side.SELL, "4", "0.55", "0.0099"), mode="paper")
        # the last scan saw 6 shares worth 2.7 pUSD in the bids after fees (its trusted mark)
        mark = PositionMark(
            token_id="111", condition_id="0xc1", size=D("6"), value=D("2.7"), marked_at=MARKED
        )
        save_position_marks(session, "paper", [mark])

    positions = json.loads(runner.invoke(app, ["positions", "--json"]).output)
    pnl = json.loads(runner.invoke(app, ["pnl", "--json"]).output)

    # bought 10 @ 0.40, sold 4 @ 0.55: 6 left at 0.40 (cost 2.4); realised 4 x 0.15 = 0.6
    assert positions == [
        {
            "token_id": "111",
            "condition_id": "0xc1",
            # no catalogue stored: the label names the id
            "question": "unknown market 111",
            "outcome": "",
            "event_title": "",
            "url": "",
            "size": "6",
            "avg_price": "0.4",
            "realised_pnl": "0.6",
            "fees_paid": "0.0339",
            "mark": "0.45",
            "value": "2.7",
            "unrealised_pnl": "0.3",
            "marked_from": "mark 2026-11-23T12:30:00+00:00",
        }
    ]
    # the fills' day: net = 0.6 - (0.024 + 0.0099) = 0.5661; today: unrealised 2.7 - 2.4
    today = datetime.now(UTC).date().isoformat()
    assert pnl == [
        {
            "day": "2026-11-23",
            "fills": 2,
            "realised": "0.6",
            "fees": "0.0339",
            "unrealised": "0",
            "net": "0.5661",
        },
        {"day": today, "fills": 0, "realised": "0", "fees": "0", "unrealised": "0.3", "net": "0.3"},
    ]


def test_pnl_and_positions_read_without_writing(db: str) -> None:
    engine = make_engine(db)
    upgrade(engine)
    with session_scope(engine) as session:
        upsert_fill(session, _fill("t1", Side.BUY, "10", "0.40", "0.024"), mode="paper")
    for command in (["positions"], ["pnl"], ["positions", "--json"]):
        assert runner.invoke(app, command).exit_code == 0
    with session_scope(engine, read_only=True) as session:
        assert position_marks(session, "paper") == {}
        assert breaker_trip(session, "paper", datetime.now(UTC).date()) is None


def test_orders_json_lists_stored_intents(db: str) -> None:
    result = runner.invoke(app, ["orders", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == []


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    for command in (
        "demo",
        "scan",
        "reconcile",
        "report",
        "orders",
        "positions",
        "pnl",
        "halt",
        "resume",
        "doctor",
        "venue",
        "db",
    ):
        assert command in result.output
