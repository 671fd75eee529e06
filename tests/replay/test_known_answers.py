"""Issue 19 done-when: a hand-made recording with known answers replays to exactly the expected
fills and P&L, to the micro-unit.

- neg-risk event E (outcomes A, B, C; no fees): a basket dip that lasts longer than the latency
  (A asks 0.30 x 10 from t+1000 to t+1500, depth-limited to 10 baskets) and one shorter than it
  (A asks 0.25 x 50 from t+2000 to t+2050); E resolves to A;
- binary R (taker fee rate 0.02): YES 0.45 x 20 + NO 0.50 x 20 from t+3000, resolves YES;
- binary F (taker fee rate 0.25): YES 0.49 + NO 0.50, an edge of 0.01 that its fees erase.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from pm_lib.replay.engine import replay_recording
from pm_lib.replay.report import BacktestResult
from pm_lib.settings import Settings
from pm_lib.store import make_engine, upgrade
from tests.replay.builders import T0, book, change, gamma_row, resolved, write_recording

D = Decimal
GROUP = "0x" + "e7" * 32
EVENT = {"id": "ev-1", "title": "Who?", "slug": "who", "negRisk": True, "negRiskMarketID": GROUP}
LEGS = [("0x" + f"a{i}" * 32, f"71{i}1", f"71{i}2") for i in (1, 2, 3)]
R = ("0x" + "b1" * 32, "7201", "7202")
F = ("0x" + "f1" * 32, "7301", "7302")


def recording(directory: Path) -> Path:
    rows = [gamma_row(c, y, n, event=EVENT, neg_risk_id=GROUP) for c, y, n in LEGS]
    r_row = gamma_row(*R, fee_rate="0.02")
    f_row = gamma_row(*F, fee_rate="0.25")
    (a, a_yes, _), (b, b_yes, _), (c, c_yes, _) = LEGS
    messages = [
        book(a_yes, a, T0, [("0.20", "100")], [("0.40", "100")]),
        book(b_yes, b, T0, [("0.20", "100")], [("0.35", "100")]),
        book(c_yes, c, T0, [("0.20", "100")], [("0.30", "100")]),
        book(R[1], R[0], T0, [("0.40", "100")], [("0.55", "100")]),
        book(R[2], R[0], T0, [("0.40", "100")], [("0.50", "100")]),
        change(a, T0 + 1000, (a_yes, "SELL", "0.30", "10")),  # long dip
        change(a, T0 + 1500, (a_yes, "SELL", "0.30", "0")),
        change(a, T0 + 2000, (a_yes, "SELL", "0.25", "50")),  # short dip
        change(a, T0 + 2050, (a_yes, "SELL", "0.25", "0")),
        book(R[1], R[0], T0 + 3000, [("0.40", "100")], [("0.45", "20")]),
        book(F[1], F[0], T0 + 4000, [("0.40", "100")], [("0.49", "100")]),
        book(F[2], F[0], T0 + 4000, [("0.40", "100")], [("0.50", "100")]),
        change(F[0], T0 + 5000, (F[1], "BUY", "0.41", "5")),
    ]
    resolutions = [
        resolved(rows[0], ("1", "0")),
        resolved(rows[1], ("0", "1")),
        resolved(rows[2], ("0", "1")),
        resolved(r_row, ("1", "0")),
    ]
    return write_recording(directory, [*rows, r_row, f_row], messages, resolutions, files=3)


def run(tmp_path: Path, latency_ms: int, *, worker: bool = False) -> BacktestResult:
    directory = recording(tmp_path / "rec")
    url = f"sqlite:///{tmp_path / f'bt-{latency_ms}.db'}"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="paper",
        database_url=url,
        data_dir=tmp_path,
        strategies=["complement_arbitrage", "negrisk_arbitrage"],
    )
    engine = make_engine(url)
    upgrade(engine)
    return asyncio.run(
        replay_recording(directory, settings, engine, latency_ms=latency_ms, worker=worker)
    )


def fills(result: BacktestResult) -> list[tuple[int, str, str, str, str, str]]:
    return [
        (f.ts_ms - T0, f.token_id, f.side, str(f.size), str(f.price), str(f.fee))
        for f in result.fills
    ]


BASKET_1 = [
    (1100, "7111", "BUY", "10", "0.3", "0"),
    (1100, "7121", "BUY", "10", "0.35", "0"),
    (1100, "7131", "BUY", "10", "0.3", "0"),
]
R_PAIR = [(3100, "7201", "BUY", "20", "0.45", "0.099"), (3100, "7202", "BUY", "20", "0.5", "0.1")]


def test_a_dip_shorter_than_the_latency_is_missed_and_the_rest_settles_exactly(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, 100)
    assert [(f[0], f[1], f[2], D(f[3]), D(f[4]), D(f[5])) for f in fills(result)] == [
        (t, tok, side, D(s), D(p), D(fee)) for t, tok, side, s, p, fee in BASKET_1 + R_PAIR
    ]
    outcomes = [(o.ts_ms - T0, o.strategy, o.outcome, o.reason) for o in result.opportunities]
    assert outcomes == [
        (1000, "negrisk_arbitrage", "filled", ""),
        (2000, "negrisk_arbitrage", "missed", "latency"),
        (3000, "complement_arbitrage", "filled", ""),
    ]
    assert result.fees == D("0.199")
    assert result.realized_pnl == D("1.301")  # basket 10 - 9.5; pair 20 - 19 - 0.199
    assert result.unrealized_pnl == 0
    assert result.equity_start == D("1000")
    assert result.equity_end == D("1001.301")
    assert result.messages == 13


def test_at_zero_latency_the_short_dip_fills_on_what_the_first_basket_left(
    tmp_path: Path,
) -> None:
    result = run(tmp_path, 0)
    second = [f for f in fills(result) if f[0] == 2000]
    assert [(t, tok, D(s), D(p)) for t, tok, _, s, p, _ in second] == [
        (2000, "7111", D(50), D("0.25")),
        (2000, "7121", D(50), D("0.35")),
        (2000, "7131", D(50), D("0.3")),
    ]
    assert result.realized_pnl == D("6.301")  # + 50 - 45 for the second basket
    assert result.equity_end == D("1006.301")


def test_the_same_recording_gives_the_same_report(tmp_path: Path) -> None:
    first = run(tmp_path / "a", 100).to_json()
    second = run(tmp_path / "b", 100).to_json()
    assert first == second


def test_messages_read_by_the_worker_process_give_the_same_report(tmp_path: Path) -> None:
    for latency in (0, 100):
        here = run(tmp_path / f"here-{latency}", latency).to_json()
        there = run(tmp_path / f"there-{latency}", latency, worker=True).to_json()
        assert here == there
