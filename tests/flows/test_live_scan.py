"""An armed live scan_and_trade run through the real SDK against the emulator, end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from flows.reconcile import reconcile
from flows.scan_and_trade import scan_and_trade
from flows.settle import settle
from pm_lib.errors import ConfigurationError
from pm_lib.portfolio.ledger import replay
from pm_lib.sim.scenarios import plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store.engine import make_engine, session_scope
from pm_lib.store.trades import fills

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_api")]

TEST_KEY = "0x" + "44" * 32  # a well-known test key; the emulator auto-funds new wallets


@pytest.fixture()
def live_env(pm_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PM_MODE", "live")
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", TEST_KEY)
    return pm_env


@pytest.fixture()
def own_venue(live_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningVenue]:
    """A venue of this test's own: it resolves a whole event, which the session's shared venue
    must keep open for the tests after it (the scan tests count its books)."""
    with running_venue(SimVenue(SimConfig(seed=5, markets=150))) as running:
        monkeypatch.setenv("PM_CLOB_URL", running.clob_url)
        monkeypatch.setenv("PM_GAMMA_URL", running.gamma_url)
        yield running


def test_armed_live_run_trades_a_basket_and_reconciles_clean(
    live_env: Path, own_venue: RunningVenue
) -> None:
    flow_venue = own_venue
    event = plant_negrisk_arbitrage(flow_venue.venue)

    report = asyncio.run(scan_and_trade(live=True))

    assert report["mode"] == "live"
    approved = [d for d in report["decisions"] if d["approved"]]
    assert approved, [d["reason"] for d in report["decisions"]]
    filled = [o for o in report["orders"] if o["status"] == "MATCHED"]
    assert filled and all(o["venue_order_id"].startswith("0x") for o in filled)
    basket_tokens = {
        t for c in event.condition_ids for t in flow_venue.venue.state.markets[c].token_ids
    }
    assert {o["token_id"] for o in filled} <= basket_tokens
    after = asyncio.run(reconcile(live=True))
    assert after["discrepancies"] == []
    assert after["chain"]["differences"] == [] and after["chain"]["pusd"]  # wallet = ledger
    engine = make_engine(f"sqlite:///{live_env}")
    with session_scope(engine, read_only=True) as session:
        positions = replay(fills(session, "live")).positions
    held = {t: p.size for t, p in positions.items() if p.size}
    assert sum(held.values()) > 0

    # the event resolves: the armed settle flow redeems every market of the basket on chain
    winner = event.condition_ids[0]
    httpx.post(f"{flow_venue.clob_url}/_sim/markets/{winner}/resolve", json={"outcome": "Yes"})
    settled = asyncio.run(settle(live=True))

    assert settled["mode"] == "live" and settled["failed"] == [] and settled["open"] == []
    redeemed = {a["condition_id"] for a in settled["applied"]}
    assert redeemed == {
        c
        for c in event.condition_ids
        if any(flow_venue.venue.state.markets[c].token_ids[0] == t for t in held)
    }
    assert settled["reconcile"]["differences"] == []
    size = held[flow_venue.venue.state.markets[winner].token_ids[0]]
    assert Decimal(settled["proceeds"]) == size  # the winner pays 1 a share, the others 0
    with session_scope(engine, read_only=True) as session:
        assert all(p.size == 0 for p in replay(fills(session, "live")).positions.values())
    again = asyncio.run(settle(live=True))
    assert (again["applied"], again["open"], again["failed"]) == ([], [], [])


def test_armed_run_without_credentials_refuses_before_sending(
    pm_env: Path, monkeypatch: pytest.MonkeyPatch, flow_venue: RunningVenue
) -> None:
    monkeypatch.setenv("PM_MODE", "live")
    monkeypatch.delenv("POLYMARKET_PRIVATE_KEY", raising=False)
    before = flow_venue.venue.stats.snapshot()

    with pytest.raises(ConfigurationError, match="credentials"):
        asyncio.run(scan_and_trade(live=True))

    assert flow_venue.venue.stats.snapshot() == before, "nothing reached the venue"
