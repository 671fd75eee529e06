"""Issue 15.2: a neg-risk basket is the whole outcome set, not the event's nested list.

Live, an event's nested ``markets`` list can leave out an outcome that Gamma's markets listing
carries under the same ``negRiskMarketID``. The emulator serves such an event on demand
(``POST /_sim/incomplete-events``): here the favourite (YES ask 0.90) of a neg-risk event is left
out while the listed long shots' asks sum to 0.50. Buying the long shots looks like a 50% edge
but is a bet against the favourite. A full paper scan must refuse it, and still trade a clean
planted basket next to it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import httpx
import pytest

from pm_lib.models import OrderStatus
from pm_lib.settings import Settings
from pm_lib.sim.market_admin import set_book
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimEvent
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import intents_by_status, make_engine, session_scope, upgrade
from pm_lib.store.signals import basket_refusals
from pm_lib.strategy import NegRiskArbitrage
from tests.reliability.scan import ScanOutcome, open_context, run_scan
from tests.strategy.builders import params, portfolio

FAVOURITE_ASK = Decimal("0.90")
LONG_SHOTS_ASK = Decimal("0.50")  # sum of the other legs' asks


@dataclass(frozen=True)
class Spoiled:
    running: RunningVenue
    event: SimEvent  # its favourite is left out of the nested list
    favourite: str  # condition id
    clean: SimEvent  # a planted complete basket that must still trade


def _price_legs(venue: SimVenue, event: SimEvent) -> str:
    """Favourite at 0.90, the others' asks summing to at most 0.50; returns the favourite."""
    favourite, *others = event.condition_ids
    share = LONG_SHOTS_ASK / len(others)
    for condition in event.condition_ids:
        market = venue.state.markets[condition]
        tick = market.tick_size
        ask = (
            FAVOURITE_ASK
            if condition == favourite
            else max(tick * 2, (share / tick).to_integral_value(rounding=ROUND_FLOOR) * tick)
        )
        set_book(
            venue.market_data,
            market.yes_token,
            bids=[[str(ask - tick), "200"]],
            asks=[[str(ask), "200"]],
        )
    return favourite


@pytest.fixture(scope="module")
def spoiled() -> Iterator[Spoiled]:
    venue = SimVenue(
        SimConfig(seed=5, markets=120, enforce_rate_limits=False, book_epoch_seconds=0)
    )
    event, clean = complete_negrisk_events(venue)[:2]
    favourite = _price_legs(venue, event)
    plant_negrisk_arbitrage(venue, event=clean)
    with running_venue(venue) as running:
        answer = httpx.post(
            f"{running.clob_url}/_sim/incomplete-events", json={"event_id": event.event_id}
        )
        assert answer.json()["events"] == {event.event_id: [favourite]}  # the favourite
        yield Spoiled(running, event, favourite, clean)


def scan(spoiled: Spoiled) -> tuple[ScanOutcome, set[str], list[dict[str, object]]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'pm.db'}"
        engine = make_engine(url)
        upgrade(engine)
        config = Settings(  # type: ignore[call-arg]
            _env_file=None,
            clob_url=spoiled.running.clob_url,
            gamma_url=spoiled.running.gamma_url,
            database_url=url,
            data_dir=tmp,
            strategies=("negrisk_arbitrage",),
        )
        outcome = run_scan(open_context(config, engine, live=False))
        with session_scope(engine, read_only=True) as session:
            traded = {r.condition_id for r in intents_by_status(session, list(OrderStatus))}
            refusals = basket_refusals(session, "paper")
        engine.dispose()
    return outcome, traded, refusals


def test_the_emulator_leaves_the_favourite_out_of_the_event_only(spoiled: Spoiled) -> None:
    gamma = spoiled.running.gamma_url
    event = httpx.get(f"{gamma}/events/{spoiled.event.event_id}").json()
    listed = {m["conditionId"] for m in event["markets"]}
    assert listed == set(spoiled.event.condition_ids) - {spoiled.favourite}
    (market,) = httpx.get(
        f"{gamma}/markets/keyset", params={"condition_ids": spoiled.favourite}
    ).json()["markets"]
    assert market["negRiskMarketID"] == event["negRiskMarketID"]
    assert market["active"] and not market["closed"] and market["acceptingOrders"]


def test_a_basket_without_the_favourite_is_refused_and_the_scan_goes_on(
    spoiled: Spoiled,
) -> None:
    outcome, traded, refusals = scan(spoiled)
    legs = set(spoiled.event.condition_ids)
    catalogue = outcome.loaded.catalogue
    assert spoiled.favourite in catalogue.market_by_condition()  # the catalogue holds it
    assert not traded & legs
    assert not any(
        {leg.condition_id for leg in o.legs} & legs for o in outcome.report.opportunities
    )
    # the refusal names what is missing
    now = max(book.timestamp for book in outcome.books.books.values())
    found = NegRiskArbitrage(params()).find(catalogue, outcome.books.books, portfolio(), now)
    (reason,) = [s.reason for s in found.skipped if s.ident == spoiled.event.event_id]
    assert f"the event does not list: {spoiled.favourite}" in reason
    # ... and it is stored, once per event, with that reason
    (stored,) = [r for r in refusals if r["ident"] == spoiled.event.event_id]
    assert stored["reason"] == reason and stored["times"] == 1
    assert set(spoiled.clean.condition_ids) <= traded  # the clean basket still trades
