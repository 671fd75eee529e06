"""``pm-agent backtest DIR --json`` and the latency sweep on the hand-made recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from tests.replay.test_known_answers import recording


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PM_STRATEGIES", "complement_arbitrage")
    monkeypatch.delenv("PM_DATABASE_URL", raising=False)


def test_backtest_json_has_the_figures_as_decimal_strings(tmp_path: Path) -> None:
    directory = recording(tmp_path / "rec")
    svg = tmp_path / "equity.svg"
    args = [
        "backtest",
        str(directory),
        "--strategy",
        "negrisk_arbitrage",
        "--strategy",
        "complement_arbitrage",
        "--latency-ms",
        "100",
        "--json",
        "--svg",
        str(svg),
    ]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["messages"] == 13
    assert report["fees"] == "0.199"
    assert report["realized_pnl"] == "1.301"
    assert report["unrealized_pnl"] == "0"
    assert report["equity_start"] == "1000"
    assert report["equity_end"] == "1001.301"
    assert report["fills"][3] == {
        "token_id": "7201",
        "side": "BUY",
        "size": "20",
        "price": "0.45",
        "fee": "0.099",
        "ts_ms": 1_767_225_603_100,
    }
    assert report["missed_by_reason"] == {"latency": 1}
    assert svg.read_text().startswith("<svg")


def test_a_latency_sweep_shows_the_edge_each_latency_keeps(tmp_path: Path) -> None:
    directory = recording(tmp_path / "rec")
    args = [
        "backtest",
        str(directory),
        "--strategy",
        "negrisk_arbitrage",
        "--latency-ms",
        "0,100",
        "--json",
    ]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)["sweep"]
    assert [(r["latency_ms"], r["filled"], r["missed"]) for r in rows] == [
        ("0", "2", "0"),
        ("100", "1", "1"),
    ]
    assert rows[0]["edge_kept_pct"] == "100" and rows[1]["edge_kept_pct"] != "100"
    table = CliRunner().invoke(app, ["backtest", str(directory), "--latency-ms", "0,100"])
    assert table.exit_code == 0 and "Backtest" in table.output


def test_a_bad_recording_is_refused_in_one_line(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["backtest", str(tmp_path / "nothing")])
    assert out.exit_code == 2
    assert "markets.json: missing" in out.output
