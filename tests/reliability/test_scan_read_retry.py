"""A live scan's venue I/O (issue 17.3): one read policy, the SDK off the event loop.

The portfolio stage reads the venue's pUSD balance through the real SDK. The emulator answers
that read 503 once; the adapter's read policy retries it, and the scan goes on to trade the
planted basket. Before the policy covered the SDK's reads, this one 5xx failed the scan. The
stages that use the executor (and so the SDK's blocking client) run in a worker thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import pytest

from pm_lib.execution.base import Executor
from pm_lib.models import OrderBook, OrderStatus
from pm_lib.pipeline.context import RunContext
from pm_lib.settings import Settings
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import make_engine, upgrade
from tests.execution.emulator import control
from tests.reliability.scan import open_context, run_scan

KEY = "0x" + "47" * 32  # a throw-away test key, never funded anywhere real

pytestmark = pytest.mark.slow  # a live scan of 100 markets: about 3.5 s


@pytest.fixture
def planted() -> Iterator[RunningVenue]:
    venue = SimVenue(
        SimConfig(seed=5, markets=100, enforce_rate_limits=False, book_epoch_seconds=0)
    )
    markets = venue.state.markets
    event = min(  # a small basket with no taker delay, so the scan trades at once
        (
            e
            for e in complete_negrisk_events(venue)
            if all(markets[c].taker_delay_seconds == 0 for c in e.condition_ids)
        ),
        key=lambda e: len(e.condition_ids),
    )
    plant_negrisk_arbitrage(venue, event=event)
    with running_venue(venue) as running:
        yield running


@dataclass(frozen=True)
class ThreadNoting(RunContext):
    """The run, noting the thread each executor is made (and used) in."""

    threads: list[int] = field(default_factory=list)

    def executor(self, books: Mapping[str, OrderBook] | None = None) -> Executor:
        self.threads.append(threading.get_ident())
        return super().executor(books)


def live_settings(
    planted: RunningVenue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", KEY)
    url = f"sqlite:///{tmp_path / 'pm.db'}"
    upgrade(make_engine(url))
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="live",
        clob_url=planted.clob_url,
        gamma_url=planted.gamma_url,
        database_url=url,
        data_dir=str(tmp_path),
        strategies=("negrisk_arbitrage",),
    )


def test_a_live_scan_survives_one_5xx_on_its_balance_read(
    planted: RunningVenue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = live_settings(planted, tmp_path, monkeypatch)
    url = settings.resolved_database_url
    rule = {"kind": "error", "path": "/balance-allowance", "method": "GET", "status": 503}
    control(planted, "POST", "/faults", {**rule, "count": 1})

    outcome = run_scan(open_context(settings, make_engine(url), live=True))

    [left] = control(planted, "GET", "/faults")
    assert left["count"] == 0, "the balance read was answered 503 once"
    matched = [r for r in outcome.execution.results if r.status is OrderStatus.MATCHED]
    assert matched, outcome.execution


def test_the_executor_and_the_sdk_run_off_the_scans_event_loop(
    planted: RunningVenue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = live_settings(planted, tmp_path, monkeypatch)
    run = open_context(settings, make_engine(settings.resolved_database_url), live=True)
    noting = ThreadNoting(**{f.name: getattr(run, f.name) for f in fields(RunContext)})

    outcome = run_scan(noting)  # the scan's event loop runs in this thread

    assert any(r.status is OrderStatus.MATCHED for r in outcome.execution.results)
    assert len(noting.threads) == 2, "portfolio (the balance) and execute"
    assert threading.get_ident() not in noting.threads
