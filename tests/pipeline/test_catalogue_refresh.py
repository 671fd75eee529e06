"""load_market_catalogue against the emulator over HTTP: none, incremental and full refreshes.

The emulator's clock stands still and the run's clock is set by the test, so which refresh a run
does depends only on the ages the test sets up. Request counts come from the client's counters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from pm_lib.errors import VenueError
from pm_lib.models import Catalogue, SkippedItem
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.market_data import CatalogueLoad, load_market_catalogue
from pm_lib.settings import Settings
from pm_lib.sim.scenarios import complete_negrisk_events
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.store import load_catalogue, refresh_state, session_scope, stored_market
from pm_lib.venue.http import open_venue_client
from tests.sim_data.conftest import frozen_venue

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PAGE = 20  # small pages, so that the whole 300-market universe is many of them


@dataclass(frozen=True)
class ClockedContext(RunContext):
    """A run context whose ``now`` is the last time the test pushed."""

    times: list[datetime] = field(default_factory=lambda: [T0])

    def now(self) -> datetime:
        return self.times[-1]


@pytest.fixture
def served() -> Iterator[RunningVenue]:
    """A fresh 300-market emulator per test (tests change its markets), rate limits off."""
    with running_venue(frozen_venue(enforce_rate_limits=False)) as rv:
        yield rv


@pytest.fixture
def control(served: RunningVenue) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.clob_url, timeout=10) as client:
        yield client
        client.delete("/_sim/faults")


def context(served: RunningVenue, engine: Engine, **overrides: Any) -> ClockedContext:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        gamma_url=served.gamma_url,
        clob_url=served.clob_url,
        gamma_page_size=PAGE,
        http_max_retries=1,
        **overrides,
    )
    return ClockedContext(settings=settings, engine=engine, run_id="r1", flow_name="test")


def load_at(ctx: ClockedContext, at: datetime) -> CatalogueLoad:
    ctx.times.append(at)

    async def run() -> CatalogueLoad:
        async with open_venue_client(ctx.settings) as client:
            return await load_market_catalogue(ctx, client)

    return asyncio.run(run())


def after_max_age(ctx: ClockedContext) -> datetime:
    return ctx.times[-1] + timedelta(seconds=ctx.settings.catalogue_max_age_seconds + 1)


def open_market(served: RunningVenue, index: int) -> str:
    markets = [m for m in served.venue.state.markets.values() if m.active and not m.closed]
    return sorted(m.condition_id for m in markets if m.enable_order_book)[index]


def test_empty_cache_is_filled_by_a_full_listing(served: RunningVenue, engine: Engine) -> None:
    ctx = context(served, engine)
    loaded = load_at(ctx, T0)
    assert loaded.refresh == "full" and loaded.refreshed
    assert loaded.requests > 300 // PAGE  # every market page, and the event pages
    with session_scope(engine) as session:
        state = refresh_state(session)
    assert state is not None and state.kind == "full" and state.watermark is not None


def test_cache_younger_than_the_max_age_is_used_as_it_is(
    served: RunningVenue, engine: Engine
) -> None:
    ctx = context(served, engine)
    full = load_at(ctx, T0)
    again = load_at(ctx, T0 + timedelta(seconds=60))
    assert again.refresh == "none" and not again.refreshed and again.requests == 0
    assert again.catalogue.market_by_condition() == full.catalogue.market_by_condition()


def test_incremental_refresh_brings_new_closed_and_changed_markets_in_two_requests(
    served: RunningVenue, engine: Engine, control: httpx.Client
) -> None:
    ctx = context(served, engine)
    full = load_at(ctx, T0)
    closing, retick = open_market(served, 0), open_market(served, 1)
    assert control.patch(f"/_sim/markets/{closing}", json={"closed": True}).status_code == 200
    tick = (
        Decimal("0.01")
        if served.venue.state.markets[retick].tick_size != Decimal("0.01")
        else Decimal("0.001")
    )
    patched = control.patch(f"/_sim/markets/{retick}", json={"tick_size": str(tick)})
    assert patched.status_code == 200
    added = control.post("/_sim/markets", json={"price": "0.4"}).json()

    loaded = load_at(ctx, after_max_age(ctx))

    assert loaded.refresh == "incremental" and loaded.refreshed
    assert loaded.requests == 2  # one market page and one event page, not the universe
    by_condition = loaded.catalogue.market_by_condition()
    assert added["condition_id"] in by_condition
    assert closing not in by_condition
    assert by_condition[retick].tick_size == tick
    assert len(by_condition) == len(full.catalogue.markets)  # one in, one out
    with session_scope(engine) as session:
        gone = stored_market(session, closing)
        state = refresh_state(session)
        assert load_catalogue(session) == loaded.catalogue.model_copy(update={"skipped": ()})
    assert gone is not None and gone.closed and not gone.accepting_orders
    assert state is not None and state.kind == "incremental" and state.full_at == T0


def test_incremental_refresh_brings_a_new_leg_of_a_neg_risk_event(
    served: RunningVenue, engine: Engine, control: httpx.Client
) -> None:
    ctx = context(served, engine)
    load_at(ctx, T0)
    event = complete_negrisk_events(served.venue)[0]
    added = control.post("/_sim/markets", json={"event_id": event.event_id}).json()

    loaded = load_at(ctx, after_max_age(ctx))

    assert loaded.refresh == "incremental"
    events = {e.event_id: e for e in loaded.catalogue.events}
    assert added["condition_id"] in events[event.event_id].market_condition_ids


def test_full_listing_again_once_the_last_one_is_older_than_the_full_refresh_age(
    served: RunningVenue, engine: Engine
) -> None:
    ctx = context(served, engine, catalogue_full_refresh_seconds=1800)
    load_at(ctx, T0)
    assert load_at(ctx, T0 + timedelta(seconds=901)).refresh == "incremental"

    later = T0 + timedelta(seconds=1802)  # the incremental one is older than the max age
    loaded = load_at(ctx, later)

    assert loaded.refresh == "full"
    with session_scope(engine) as session:
        state = refresh_state(session)
    assert state is not None and state.full_at == later


def test_incremental_listing_longer_than_the_page_limit_falls_back_to_full(
    served: RunningVenue, engine: Engine, control: httpx.Client
) -> None:
    ctx = context(served, engine, catalogue_incremental_max_pages=2)
    full = load_at(ctx, T0)
    assert control.post("/_sim/reset").status_code == 200  # every listing changes

    loaded = load_at(ctx, after_max_age(ctx))

    assert loaded.refresh == "full"
    assert loaded.requests == full.requests + 2  # the two abandoned pages, then everything


def test_bad_page_keeps_the_cache_as_it_was(
    served: RunningVenue, engine: Engine, control: httpx.Client
) -> None:
    ctx = context(served, engine)
    load_at(ctx, T0)
    closing = open_market(served, 0)
    assert control.patch(f"/_sim/markets/{closing}", json={"closed": True}).status_code == 200
    with session_scope(engine) as session:
        before = load_catalogue(session), refresh_state(session)
    fault = {"kind": "error", "path": "/gamma/events/keyset", "status": 503}
    assert control.post("/_sim/faults", json=fault).status_code == 201

    with pytest.raises(VenueError):
        load_at(ctx, after_max_age(ctx))

    with session_scope(engine) as session:
        assert (load_catalogue(session), refresh_state(session)) == before
        market = stored_market(session, closing)
    assert market is not None and not market.closed  # the market page was not half-saved


def load_holding(ctx: ClockedContext, at: datetime, held: Catalogue) -> CatalogueLoad:
    ctx.times.append(at)

    async def run() -> CatalogueLoad:
        async with open_venue_client(ctx.settings) as client:
            return await load_market_catalogue(ctx, client, held=held)

    return asyncio.run(run())


def test_a_held_catalogue_younger_than_the_max_age_is_used_without_the_db(
    served: RunningVenue, engine: Engine
) -> None:
    ctx = context(served, engine)
    held = load_at(ctx, T0).catalogue.model_copy(
        update={"skipped": (SkippedItem(kind="market", ident="m1", reason="no tokens"),)}
    )

    again = load_holding(ctx, T0 + timedelta(seconds=60), held)

    assert again.refresh == "none" and again.requests == 0
    assert again.catalogue.markets is held.markets, "the held markets, not a DB read-back"
    assert again.catalogue.skipped == (), "skips were reported when it was fetched"


def test_a_held_catalogue_past_the_max_age_is_refreshed(
    served: RunningVenue, engine: Engine, control: httpx.Client
) -> None:
    ctx = context(served, engine)
    held = load_at(ctx, T0).catalogue
    closing = open_market(served, 0)
    assert control.patch(f"/_sim/markets/{closing}", json={"closed": True}).status_code == 200

    again = load_holding(ctx, after_max_age(ctx), held)

    assert again.refresh == "incremental" and again.requests == 2
    assert closing not in again.catalogue.market_by_condition()
