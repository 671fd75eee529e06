"""Issue 15.3: the daily-loss breaker forgot losses once a losing market closed.

Scans run through the Prefect-free pipeline (``tests.reliability.scan``) against the emulator,
paper mode: buy YES of a binary market (fair_value), the bids collapse (the loss is recorded and
trips the breaker), the market closes (its book answers 404). The next scan must still see the
loss, value the position at its last trusted mark (not at cost), and refuse new buys (the
neg-risk basket the emulator offers) for the rest of the UTC day, a restart included.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pm_lib.models import Side
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.store.trades import fills
from tests.execution.emulator import COND, YES, control, make_venue
from tests.reliability.scan import ScanOutcome, open_context, run_scan

LIMIT = Decimal(20)


@pytest.fixture
def venue() -> Iterator[RunningVenue]:
    with running_venue(make_venue()) as running:
        yield running


def scan_settings(
    running: RunningVenue, database_url: str, tmp_path: Path, **extra: object
) -> Settings:
    fair = tmp_path / "fair.csv"
    fair.write_text(f"key,probability\n{YES},0.95\n")
    values: dict[str, object] = {
        "mode": "paper",
        "clob_url": running.clob_url,
        "gamma_url": running.gamma_url,
        "database_url": database_url,
        "data_dir": tmp_path,
        "http_timeout_seconds": 3.0,
        "strategies": ["fair_value"],
        "fair_value_file": fair,
        "max_daily_loss": LIMIT,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def scan(settings: Settings, engine: Engine) -> ScanOutcome:
    return run_scan(open_context(settings, engine, live=False))


def buys_approved(outcome: ScanOutcome) -> int:
    opportunities = {o.id: o for o in outcome.report.opportunities}
    return sum(
        1
        for d in outcome.report.decisions
        if d.approved and any(leg.side is Side.BUY for leg in opportunities[d.opportunity_id].legs)
    )


def refusals(outcome: ScanOutcome) -> list[str]:
    return [d.rule for d in outcome.report.decisions if not d.approved]


def lose_then_close(running: RunningVenue, settings: Settings, engine: Engine) -> Decimal:
    """Scan 1 buys YES; the bids collapse; scan 2 records the loss; the market closes.

    Returns the loss scan 2 saw."""
    bought = scan(settings, engine)
    assert buys_approved(bought) == 1
    with session_scope(engine, read_only=True) as session:
        assert sum(f.size for f in fills(session, "paper") if f.token_id == YES) > 0
    control(
        running,
        "POST",
        "/book",
        {"token_id": YES, "bids": [["0.10", "1000"]], "asks": [["0.12", "1000"]]},
    )
    dropped = scan(settings, engine)
    loss = -dropped.report.summary.pnl_today
    assert loss >= LIMIT
    assert dropped.report.summary.daily_loss_tripped
    control(running, "PATCH", f"/markets/{COND}", {"closed": True})
    return loss


def test_a_closed_losing_market_keeps_its_loss_and_the_breaker_refuses_new_buys(
    venue: RunningVenue, database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    settings = scan_settings(venue, database_url, tmp_path)
    loss = lose_then_close(venue, settings, engine)

    after = scan(settings.model_copy(update={"strategies": ["negrisk_arbitrage"]}), engine)

    assert YES not in after.books.books  # the closed market's book is gone
    assert -after.report.summary.pnl_today == loss  # marked at its last trusted mark, not cost
    assert after.report.opportunities  # the basket is there ...
    assert buys_approved(after) == 0  # ... and refused
    assert set(refusals(after)) == {"max_daily_loss"}
    engine.dispose()


def test_the_tripped_breaker_survives_a_restart_and_a_recovering_mark_until_the_day_ends(
    venue: RunningVenue, database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    settings = scan_settings(venue, database_url, tmp_path)
    lose_then_close(venue, settings, engine)
    engine.dispose()
    # a restart, and the market reopens with its bids back above the cost: no loss any more
    control(venue, "PATCH", f"/markets/{COND}", {"closed": False})
    control(
        venue,
        "POST",
        "/book",
        {"token_id": YES, "bids": [["0.90", "1000"]], "asks": [["0.92", "1000"]]},
    )
    fresh = make_engine(database_url)

    after = scan(settings.model_copy(update={"strategies": ["negrisk_arbitrage"]}), fresh)

    assert after.report.summary.pnl_today > 0
    assert buys_approved(after) == 0
    assert set(refusals(after)) == {"max_daily_loss"}
    assert all("holds until the UTC day ends" in d.reason for d in after.report.decisions)
    fresh.dispose()
