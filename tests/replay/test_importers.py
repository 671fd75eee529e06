"""The importers on slices of the two public sets (tests/resources/PROVENANCE.md), then a
replay of each: the recording format holds, and the figures are what the data gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.replay.recording import load_catalogue, load_resolutions
from pm_lib.replay.stream import messages

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
RK_BOOKS = RESOURCES / "resolvedkit-0.1.0__sample_books_L2.slice240.jsonl"
RK_MARKETS = RESOURCES / "resolvedkit-0.1.0__sample_markets.slice1.jsonl"
PB_CSV = RESOURCES / "polymarket-backtest-0.1.0__btc_orderbook.head300.csv"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("PM_DATABASE_URL", raising=False)


def test_resolvedkit_ladders_become_book_messages_and_payouts_resolutions(tmp_path: Path) -> None:
    out = tmp_path / "rk"
    args = ["import-recording", "resolvedkit", str(RK_BOOKS), str(RK_MARKETS), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    catalogue = load_catalogue(out)
    (market,) = catalogue.markets
    assert market.condition_id == (
        "0xfb85ca82aa27f2ae7ea27513c8e341f029168fb664e78f8d82ab585af9af1028"
    )
    assert [o.name for o in market.outcomes] == ["Up", "Down"]
    assert str(market.fees.rate) == "0.25" and str(market.fees.exponent) == "2"
    finals = load_resolutions(out).prices
    assert [str(finals[t]) for t in market.token_ids] == ["0", "1"]  # Down won
    stream = list(messages(out))
    assert len(stream) == 240
    assert [m[0] for m in stream] == sorted(m[0] for m in stream)
    first = stream[0][1]
    assert first["event_type"] == "book" and first["asset_id"] in market.token_ids
    # the venue's order, best last; the parquet doubles rounded to 6 decimals
    assert float(first["bids"][-1]["price"]) >= float(first["bids"][0]["price"])
    assert all(len(lv["size"].partition(".")[2]) <= 6 for lv in first["asks"])


def test_polymarket_backtest_rows_become_two_books_each(tmp_path: Path) -> None:
    out = tmp_path / "pb"
    result = CliRunner().invoke(
        app, ["import-recording", "polymarket-backtest", str(PB_CSV), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    catalogue = load_catalogue(out)
    assert catalogue.markets and not load_resolutions(out).prices
    stream = list(messages(out))
    assert len(stream) == 600
    one = stream[0][1]
    assert len(one["bids"]) <= 1 and len(one["asks"]) <= 1


def test_both_slices_replay(tmp_path: Path) -> None:
    CliRunner().invoke(
        app,
        [
            "import-recording",
            "resolvedkit",
            str(RK_BOOKS),
            str(RK_MARKETS),
            "--out",
            str(tmp_path / "rk"),
        ],
    )
    CliRunner().invoke(
        app, ["import-recording", "polymarket-backtest", str(PB_CSV), "--out", str(tmp_path / "pb")]
    )
    for name, count in (("rk", 240), ("pb", 600)):
        out = CliRunner().invoke(
            app,
            ["backtest", str(tmp_path / name), "--strategy", "complement_arbitrage", "--json"],
        )
        assert out.exit_code == 0, out.output
        report = json.loads(out.output)
        assert report["messages"] == count
        assert report["equity_end"] == "1000" or report["fills"]


def test_an_unknown_source_is_refused(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["import-recording", "nope", str(PB_CSV), "--out", str(tmp_path)])
    assert out.exit_code == 2 and "expected 'resolvedkit" in out.output
