"""Issue 17.2: one P&L. The run summary, the risk gate, the daily report and ``pm-agent pnl`` give
the same figure for the same fills and books, a held YES + NO pair (marked at its merge value)
and a position whose book vanished (marked at its last trusted mark) included.

Scans run through the Prefect-free pipeline against the emulator (paper); the fills are placed by
the paper executor. ``min_edge_usd`` is set out of reach so the scans decide (the gate's inputs
are recorded) but trade nothing that would move the figures between the readers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pm_lib.cli import app
from pm_lib.execution.paper import PaperExecutor
from pm_lib.models import OrderType, Side
from pm_lib.pipeline.reports import build_daily_report
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.store import make_engine, upgrade
from tests.execution.builders import book, request
from tests.execution.emulator import COND, NO, YES, _ladder, _sim_market, control, make_venue
from tests.reliability.scan import ScanOutcome, open_context, run_scan

Z_COND = "0x" + "7a" * 32
Z_YES, Z_NO = "9301", "9302"
D = Decimal


@pytest.fixture
def venue() -> Iterator[RunningVenue]:
    """The emulator of ``tests.execution.emulator`` plus a binary market Z (bids 0.35, asks
    0.40, fees 0.04) that the test closes."""
    sim = make_venue()
    sim.state.add_market(
        _sim_market(Z_COND, Z_YES, Z_NO), _ladder("z", [("0.35", "100")], [("0.40", "100")])
    )
    with running_venue(sim) as running:
        yield running


def gate_pnl(outcome: ScanOutcome) -> Decimal:
    """Today's P&L as the risk gate computed it (the daily-loss rule's recorded inputs)."""
    inputs = outcome.report.decisions[0].inputs
    return (
        D(inputs["max_daily_loss.realised_pnl_today"])
        - D(inputs["max_daily_loss.fees_today"])
        + D(inputs["max_daily_loss.unrealised_pnl"])
    )


def test_summary_gate_report_and_cli_agree_on_a_held_pair_and_a_vanished_book(
    venue: RunningVenue, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="paper",
        clob_url=venue.clob_url,
        gamma_url=venue.gamma_url,
        database_url=database_url,
        data_dir=tmp_path,
        http_timeout_seconds=3.0,
        strategies=["negrisk_arbitrage"],
        min_edge_usd=D(1000),
    )
    engine = make_engine(database_url)
    upgrade(engine)
    seeded = {
        YES: book(YES, asks=[("0.45", "100")], condition=COND),
        NO: book(NO, asks=[("0.50", "100")], condition=COND),
        Z_YES: book(Z_YES, asks=[("0.40", "100")], condition=Z_COND),
    }
    now = datetime.now(UTC)
    executor = PaperExecutor(settings, engine, books=seeded, run_id="seed", clock=lambda: now)
    executor.place(
        [
            request("seed:o:0", Side.BUY, "10", "0.45", OrderType.FOK, token=YES, condition=COND),
            request("seed:o:1", Side.BUY, "10", "0.50", OrderType.FOK, token=NO, condition=COND),
            request(
                "seed:o:2", Side.BUY, "10", "0.40", OrderType.FOK, token=Z_YES, condition=Z_COND
            ),
        ]
    )
    executor.close()
    first = run_scan(open_context(settings, engine, live=False))
    assert Z_YES in first.books.books
    control(venue, "PATCH", f"/markets/{Z_COND}", {"closed": True})

    second = run_scan(open_context(settings, engine, live=False))
    report = build_daily_report(engine, "paper", datetime.now(UTC), settings)
    monkeypatch.setenv("PM_DATABASE_URL", database_url)
    monkeypatch.setenv("PM_DATA_DIR", str(tmp_path))
    cli = json.loads(CliRunner().invoke(app, ["pnl", "--json"]).output)

    assert Z_YES not in second.books.books
    summary = second.report.summary.pnl_today
    assert summary == gate_pnl(second) == report.days[-1].net == D(cli[-1]["net"])
    assert summary == gate_pnl(first)  # the vanished book changed nothing
    values = {p.token_id: p for p in report.positions}
    # the pair: the bids pay 4.9 + 4.401 after fees, merging pays 10 (cost 4.50 + 5.00)
    assert (values[YES].value + values[NO].value, values[YES].merged) == (D(10), D(10))
    # Z: its last trusted mark, 10 x 0.35 - fee 10 x 0.04 x 0.35 x 0.65 = 3.409 (cost 4.00)
    assert (values[Z_YES].source, values[Z_YES].value) == ("mark", D("3.409"))
    # fees 0.099 + 0.1 + 0.096; unrealised 13.409 - 13.50
    assert summary == D("-0.386")
    engine.dispose()
