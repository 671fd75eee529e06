"""Two runs trading different markets on one wallet never breach a limit together (15.4).

Market leases only stop two runs from trading the same markets. Here each worker process keeps
only its own planted basket (as two runs with different strategies would), both decide against
the same empty portfolio (each basket fits the total-exposure limit alone, the two together do
not) and wait at a barrier, then both execute. The budget reservation
(``pm_lib.store.reservations``, claimed in ``pm_lib.pipeline.budget``) must let exactly one
basket through.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pm_lib.auth import credentials_from_mapping
from pm_lib.models import ZERO, OrderStatus, Side
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimEvent
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.store.orders import intents_by_status
from pm_lib.store.reservations import outstanding
from tests.execution.emulator import venue_orders
from tests.reliability.workers import scan_worker

KEY = "0x" + "45" * 32  # a throw-away test key, never funded anywhere real
LIMIT = Decimal(250)
"""One planted basket costs about 180 pUSD (200 shares at asks summing to 0.90): one fits."""


@pytest.fixture
def two_baskets() -> Iterator[tuple[RunningVenue, tuple[SimEvent, SimEvent]]]:
    """An emulator with static books and two neg-risk baskets on different events."""
    venue = SimVenue(
        SimConfig(seed=5, markets=100, enforce_rate_limits=False, book_epoch_seconds=0)
    )
    first, second = complete_negrisk_events(venue)[:2]
    plant_negrisk_arbitrage(venue, event=first)
    plant_negrisk_arbitrage(venue, event=second)
    with running_venue(venue) as running:
        yield running, (first, second)


def fields(running: RunningVenue, url: str, tmp_path: Path, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "clob_url": running.clob_url,
        "gamma_url": running.gamma_url,
        "database_url": url,
        "data_dir": str(tmp_path),
        "strategies": ["negrisk_arbitrage"],
        "paper_balance": "10000",
        "max_order_notional": "100",
        "max_position_per_market": "100",
        "max_position_per_group": str(LIMIT),
        "max_total_exposure": str(LIMIT),
    }


def race(settings: dict[str, Any], events: tuple[SimEvent, ...], live: bool) -> list[Any]:
    upgrade(make_engine(settings["database_url"]))
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    answers: Any = spawn.Queue()
    workers = [
        spawn.Process(
            target=scan_worker,
            args=(settings, live, KEY, barrier, answers, list(event.condition_ids)),
        )
        for event in events
    ]
    for worker in workers:
        worker.start()
    results = [answers.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [r.get("error") for r in results] == [None, None]
    return results


def check_within_limit(results: list[dict[str, Any]], url: str) -> None:
    """Both runs approved their basket; one placed it, the other was refused by the budget;
    what was bought stays within the limit and no reservation is left outstanding."""
    assert all(len(r["approved"]) == 1 for r in results), results
    traders = [r for r in results if r["orders"]]
    waiters = [r for r in results if not r["orders"]]
    assert len(traders) == 1 and len(waiters) == 1, results
    [reason] = waiters[0]["skipped"].values()
    assert "no longer fits (max_total_exposure)" in reason
    assert "reserved by other runs" in reason or "positions" in reason
    with session_scope(make_engine(url), read_only=True) as session:
        rows = intents_by_status(session, list(OrderStatus))
        mode = rows[0].mode
        left = outstanding(session, mode, rows[0].created_at)
    bought = sum((r.filled_size * (r.avg_price or ZERO) for r in rows if r.side is Side.BUY), ZERO)
    assert ZERO < bought <= LIMIT
    assert {r.run_id for r in rows} == {traders[0]["run_id"]}
    assert left == []


def test_two_paper_runs_on_sqlite_stay_within_the_exposure_limit(
    two_baskets: tuple[RunningVenue, tuple[SimEvent, SimEvent]], tmp_path: Path
) -> None:
    running, events = two_baskets
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    results = race(fields(running, url, tmp_path, "paper"), events, live=False)
    check_within_limit(results, url)


def test_two_live_runs_on_sqlite_send_one_basket(
    two_baskets: tuple[RunningVenue, tuple[SimEvent, SimEvent]], tmp_path: Path
) -> None:
    running, events = two_baskets
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    results = race(fields(running, url, tmp_path, "live"), events, live=True)
    check_within_limit(results, url)
    address = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY}).address
    sent = {o["market"] for o in venue_orders(running, address)}
    assert sent in ({*events[0].condition_ids}, {*events[1].condition_ids})


@pytest.mark.postgres
def test_two_live_runs_on_postgres_send_one_basket(
    two_baskets: tuple[RunningVenue, tuple[SimEvent, SimEvent]],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    running, events = two_baskets
    results = race(fields(running, postgres_url, tmp_path, "live"), events, live=True)
    check_within_limit(results, postgres_url)
    address = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY}).address
    sent = {o["market"] for o in venue_orders(running, address)}
    assert sent in ({*events[0].condition_ids}, {*events[1].condition_ids})
