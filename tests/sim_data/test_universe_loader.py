"""``--universe FILE``: a recorded Gamma snapshot is served with its recorded quotes and fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.universe_loader import UniverseFileError, load_universe_file
from pm_lib.sim.venue import SimConfig, SimVenue
from tests.sim_data.conftest import RESOURCES, resource

SLICE = "2026-03-25_yingchen168_11__polymarket_markets.slice35.json"


@pytest.fixture(scope="module")
def loaded() -> Iterator[RunningVenue]:
    venue = SimVenue(SimConfig(universe_file=str(RESOURCES / SLICE), enforce_rate_limits=False))
    clock = venue.state.clock
    clock.frozen_at = clock.now() - clock.offset_seconds
    with running_venue(venue) as rv:
        yield rv


def _served(rv: RunningVenue) -> dict[str, dict[str, object]]:
    with httpx.Client(base_url=rv.gamma_url) as gamma:
        markets = gamma.get("/markets/keyset", params={"limit": 100}).json()["markets"]
    return {m["id"]: m for m in markets}


def test_every_recorded_market_is_served(loaded: RunningVenue) -> None:
    recorded = resource(SLICE)
    served = _served(loaded)
    assert set(served) == {m["id"] for m in recorded}
    for m in recorded:
        assert served[m["id"]]["clobTokenIds"] == m["clobTokenIds"]
        assert served[m["id"]]["question"] == m["question"]


def test_recorded_quotes_are_reproduced_at_epoch_zero(loaded: RunningVenue) -> None:
    served = _served(loaded)
    checked = 0
    for m in resource(SLICE):
        if m["bestAsk"] >= 1:  # an empty ask side is approximated by 1 - tick
            continue
        assert served[m["id"]]["bestAsk"] == m["bestAsk"]
        assert served[m["id"]].get("bestBid") == m.get("bestBid")
        checked += 1
    assert checked >= 30


def test_recorded_fee_schedule_and_tick_reach_the_clob(loaded: RunningVenue) -> None:
    feeing = next(m for m in resource(SLICE) if m["feesEnabled"])
    with httpx.Client(base_url=loaded.clob_url) as clob:
        info = clob.get(f"/clob-markets/{feeing['conditionId']}").json()
        book = clob.get("/book", params={"token_id": json.loads(feeing["clobTokenIds"])[0]})
    assert info["fd"] == {
        "r": feeing["feeSchedule"]["rate"],
        "e": feeing["feeSchedule"]["exponent"],
        "to": True,
    }
    assert Decimal(book.json()["tick_size"]) == Decimal(str(feeing["orderPriceMinTickSize"]))


def test_a_file_that_is_not_a_list_of_markets_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"markets": []}))
    with pytest.raises(UniverseFileError):
        load_universe_file(bad, seed=1, anchor=0.0)


def test_a_recorded_sports_market_holds_marketable_orders_for_its_seconds_delay() -> None:
    recorded = resource("sajiiid09-polywatch__gamma_markets_list.json")
    universe = load_universe_file(
        RESOURCES / "sajiiid09-polywatch__gamma_markets_list.json", seed=1, anchor=0.0
    )
    delays = {m.market_id: m.taker_delay_seconds for m in universe.markets}
    assert delays == {str(m["id"]): float(m["secondsDelay"]) for m in recorded}
    assert set(delays.values()) == {1.0}
