"""Two scan_and_trade runs at once on one database never trade one opportunity twice.

Intent keys carry the run id, so two runs that found the same basket would hold different keys
for it and the intent table alone would let both through. Each test starts two worker processes
on one database and one emulator with a planted neg-risk arbitrage; both workers decide (each
approves the basket: the race is real) and wait at a barrier, then both execute. Exactly one
may place the basket; the other must find the markets leased (``pm_lib.store.leases``) and skip.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pm_lib.auth import credentials_from_mapping
from pm_lib.models import OrderStatus
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimEvent
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.store.orders import intents_by_status
from pm_lib.store.signals import decisions_for_run, opportunities_for_run
from tests.execution.emulator import venue_orders
from tests.reliability.workers import scan_worker

KEY = "0x" + "44" * 32  # a throw-away test key, never funded anywhere real


@pytest.fixture
def planted() -> Iterator[tuple[RunningVenue, SimEvent]]:
    """An emulator with static books and one neg-risk basket whose YES asks sum to 0.90."""
    venue = SimVenue(SimConfig(seed=5, markets=60, enforce_rate_limits=False, book_epoch_seconds=0))
    event = plant_negrisk_arbitrage(venue)
    with running_venue(venue) as running:
        yield running, event


def race(fields: dict[str, Any], *, live: bool) -> list[dict[str, Any]]:
    """Two scan workers on the same settings; what each approved, placed and skipped."""
    upgrade(make_engine(fields["database_url"]))
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    answers: Any = spawn.Queue()
    workers = [
        spawn.Process(target=scan_worker, args=(fields, live, KEY, barrier, answers))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    results = [answers.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert [r.get("error") for r in results] == [None, None]
    return results


def settings_fields(running: RunningVenue, url: str, tmp_path: Path, mode: str) -> dict[str, Any]:
    return {
        "mode": mode,
        "clob_url": running.clob_url,
        "gamma_url": running.gamma_url,
        "database_url": url,
        "data_dir": str(tmp_path),
        "strategies": ["negrisk_arbitrage"],
    }


def planted_baskets(url: str, run_id: str, event: SimEvent) -> set[str]:
    """The run's approved opportunities that buy the planted event's basket.

    Matched by markets, not by id: an opportunity id hashes the books it was found on, and
    two runs reading the same book a moment apart may see different book timestamps.
    """
    with session_scope(make_engine(url), read_only=True) as session:
        found = opportunities_for_run(session, run_id)
        approved = {d.opportunity_id for d in decisions_for_run(session, run_id) if d.approved}
    markets = set(event.condition_ids)
    return {o.id for o in found if o.id in approved and {g.condition_id for g in o.legs} == markets}


def basket_traders(url: str, event: SimEvent) -> set[str]:
    """The runs whose stored order intents trade in the planted event's markets."""
    with session_scope(make_engine(url), read_only=True) as session:
        rows = intents_by_status(session, list(OrderStatus))
    return {r.run_id for r in rows if r.condition_id in set(event.condition_ids)}


def check_one_trader(results: list[dict[str, Any]], url: str, event: SimEvent) -> None:
    """Both runs approved the planted basket; exactly one placed it, the other skipped it."""
    approved = {r["run_id"]: planted_baskets(url, r["run_id"], event) for r in results}
    assert all(len(ids) == 1 for ids in approved.values()), results
    [trader] = basket_traders(url, event)
    [waiter] = [r for r in results if r["run_id"] != trader]
    [skipped] = approved[waiter["run_id"]]
    assert trader in waiter["skipped"][skipped] and waiter["orders"] == []


def test_two_paper_runs_on_sqlite_trade_a_basket_once(
    planted: tuple[RunningVenue, SimEvent], tmp_path: Path
) -> None:
    running, event = planted
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    results = race(settings_fields(running, url, tmp_path, "paper"), live=False)
    check_one_trader(results, url, event)


def test_two_live_runs_on_sqlite_send_one_basket_to_the_venue(
    planted: tuple[RunningVenue, SimEvent], tmp_path: Path
) -> None:
    running, event = planted
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    results = race(settings_fields(running, url, tmp_path, "live"), live=True)
    check_one_trader(results, url, event)
    address = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY}).address
    assert len(venue_orders(running, address)) == len(event.condition_ids)


@pytest.mark.postgres
def test_two_live_runs_on_postgres_send_one_basket_to_the_venue(
    planted: tuple[RunningVenue, SimEvent], tmp_path: Path, postgres_url: str
) -> None:
    running, event = planted
    results = race(settings_fields(running, postgres_url, tmp_path, "live"), live=True)
    check_one_trader(results, postgres_url, event)
    address = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": KEY}).address
    assert len(venue_orders(running, address)) == len(event.condition_ids)
