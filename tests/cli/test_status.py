"""`pm-agent status`: the account at a glance on a hand-made SQLite file (fast), and after
`pm-agent demo` (slow): equity is cash plus the marked positions, markets read as questions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.models import Fill, Side, TradeStatus
from pm_lib.store.account import PositionMark, save_position_marks
from pm_lib.store.catalogue import save_catalogue
from pm_lib.store.control import halt
from pm_lib.store.engine import make_engine, session_scope, upgrade
from pm_lib.store.orders import create_intent
from pm_lib.store.trades import upsert_fill
from tests.store.samples import catalogue, event, intent, market

runner = CliRunner()
D = Decimal
YES = market(1).outcomes[0].token_id


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'pm_agent.db'}"
    monkeypatch.setenv("PM_DATABASE_URL", url)
    monkeypatch.setenv("PM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PM_PAPER_BALANCE", "1000")
    monkeypatch.delenv("PM_MODE", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        save_catalogue(session, catalogue([1, 2], events=(event("ev-1", ("0xcond0001",)),)))
        upsert_fill(
            session,
            Fill(
                trade_id="t1",
                order_id="paper-t1",
                token_id=YES,
                condition_id="0xcond0001",
                side=Side.BUY,
                size=D("10"),
                price=D("0.40"),
                fee=D("0.024"),
                status=TradeStatus.CONFIRMED,
                matched_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
            ),
            mode="paper",
        )
        save_position_marks(
            session,
            "paper",
            [
                PositionMark(
                    token_id=YES,
                    condition_id="0xcond0001",
                    size=D("10"),
                    value=D("4.5"),
                    marked_at=datetime(2026, 11, 23, 12, 30, tzinfo=UTC),
                )
            ],
        )
        create_intent(session, intent("run-1:opp-1:0"))
        halt(session, "news pending", "test")
    return url


def test_status_json_has_the_account_with_readable_markets(db: str) -> None:
    result = runner.invoke(app, ["status", "--json"])

    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["mode"] == "paper"
    assert (out["halted"], out["halted_reason"]) == (True, "news pending")
    # paid 10 x 0.40 + 0.024 fee out of 1000; the position is worth its mark, 4.5
    assert out["cash"] == "995.976"
    assert out["equity"] == "1000.476"
    assert D(out["equity"]) == D(out["cash"]) + sum(D(p["value"]) for p in out["positions"])
    assert (out["unrealized_pnl"], out["realized_pnl"]) == ("0.5", "0")
    assert out["total"]["net_pnl"] == "0.476"
    [position] = out["positions"]
    assert {
        k: position[k] for k in ("token_id", "size", "avg_price", "mark", "unrealized_pnl")
    } == {
        "token_id": YES,
        "size": "10",
        "avg_price": "0.4",
        "mark": "0.45",
        "unrealized_pnl": "0.5",
    }
    assert (position["question"], position["outcome"]) == ("Will outcome 1 happen?", "Yes")
    assert position["event_title"] == "Event ev-1"
    assert position["url"] == "https://polymarket.com/event/ev-1"
    [order] = out["open_orders"]
    assert order["question"] == "Will outcome 1 happen?"
    assert out["last_run"] is None


def test_status_table_names_markets_and_wraps_instead_of_truncating(db: str) -> None:
    result = runner.invoke(app, ["status"], env={"COLUMNS": "80"})

    assert result.exit_code == 0, result.output
    assert "HALTED" in result.output and "news pending" in result.output
    assert "equity" in result.output and "1000.476" in result.output
    assert "Will outcome 1" in result.output and "Event ev-1" in result.output
    assert "…" not in result.output


def test_orders_table_names_the_market(db: str) -> None:
    result = runner.invoke(app, ["orders"], env={"COLUMNS": "80"})

    assert result.exit_code == 0, result.output
    assert "Will outcome 1" in result.output and "…" not in result.output
    listed = json.loads(runner.invoke(app, ["orders", "--json"]).output)
    assert listed[0]["question"] == "Will outcome 1 happen?"


def test_pnl_names_the_positions_markets(db: str) -> None:
    result = runner.invoke(app, ["pnl"], env={"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert "| Will outcome 1 happen? - Yes | 10 | 4 | 4.5 | 0.5 |" in result.output
    assert YES[-10:] not in result.output, "a position reads as its market, not its token id"


def test_the_account_status_artifact_reads_to_the_cent(db: str) -> None:
    from pm_lib.reporting.status import status_markdown

    out = json.loads(runner.invoke(app, ["status", "--json"]).output)
    out["positions"][0]["value"] = "4.5049"  # exact figures stay in the JSON
    text = status_markdown(out)

    first = text.splitlines()[0]
    assert first.startswith("# Account (paper), ") and first.endswith(" UTC"), first
    assert "| 995.98 | 4.5 | 1000.48 |" in text, "amounts to the cent"
    assert "| 10 @ 0.4 | 0.45 | 4.5 | 0.5 |" in text, "prices to 4 places, value to the cent"
    assert "**HALTED**: news pending" in text
    # the row adds up: the fill (fee 0.024) was on an earlier day, so P&L today is
    # realised 0 - fees 0 + unrealised 0.5, and the total 0.48 carries the fee
    assert "| 1000.48 | 0.5 | 0 | 0 | 0.5 | 0.48 |" in text


def test_mode_defaults_to_pm_mode_and_a_bad_mode_is_a_usage_error(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PM_MODE", "live")
    live = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert live["mode"] == "live" and live["positions"] == []

    for command in ("status", "orders", "positions", "pnl"):
        bad = runner.invoke(app, [command, "--mode", "foo"])
        assert bad.exit_code == 2, (command, bad.output)
        assert "foo" in bad.output


@pytest.mark.slow
def test_status_after_the_demo_adds_up(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PM_", "PREFECT_", "POLYMARKET_"))
    }
    demo = subprocess.run(
        [sys.executable, "-m", "pm_lib.cli", "demo", "--cycles", "2", "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    env["PM_DATABASE_URL"] = f"sqlite:///{(data_dir / 'pm_agent.db').resolve()}"
    shown = subprocess.run(
        [sys.executable, "-m", "pm_lib.cli", "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    out = json.loads(shown.stdout)
    assert out["mode"] == "paper"
    assert out["positions"], "the demo's dips should leave positions"
    assert D(out["equity"]) == D(out["cash"]) + sum(D(p["value"]) for p in out["positions"])
    for p in out["positions"]:
        assert p["question"] and not p["question"].startswith("unknown market"), p
        assert p["outcome"] and p["url"].startswith("https://polymarket.com/")
    assert out["last_run"]["flow_name"] == "scan-and-trade"
