"""The cached catalogue is keyed to its venue: a run on another venue (another emulator size,
or the emulator after Polymarket) never reuses the cache of the first (issue 18 item 7)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from pm_lib.sim.server import running_venue
from pm_lib.store import catalogue_venue, load_catalogue, refresh_state, session_scope
from tests.pipeline.test_catalogue_refresh import T0, context, load_at
from tests.sim_data.conftest import frozen_venue


def test_switching_venues_lists_the_new_venue_instead_of_reusing_the_cache(
    engine: Engine,
) -> None:
    with (
        running_venue(frozen_venue(markets=120, enforce_rate_limits=False)) as big,
        running_venue(frozen_venue(markets=40, seed=5, enforce_rate_limits=False)) as small,
    ):
        first = load_at(context(big, engine), T0)
        # a minute later, well inside the cache's max age, on the other venue
        second = load_at(context(small, engine), T0 + timedelta(minutes=1))
        # and back: the first venue's rows were closed by the second's full listing
        third = load_at(context(big, engine), T0 + timedelta(minutes=2))

    assert first.refresh == "full"
    assert second.refresh == "full"
    small_ids = {m.condition_id for m in second.catalogue.markets}
    assert 0 < len(small_ids) <= 40
    assert small_ids.isdisjoint(m.condition_id for m in first.catalogue.markets)
    assert third.refresh == "full"
    assert len(third.catalogue.markets) == len(first.catalogue.markets)
    with session_scope(engine, read_only=True) as session:
        assert refresh_state(session, catalogue_venue(small.gamma_url, small.clob_url)) is None
        assert load_catalogue(session, catalogue_venue(small.gamma_url, small.clob_url)) is None
        here = catalogue_venue(big.gamma_url, big.clob_url)
        assert load_catalogue(session, here) is not None


def test_the_same_venue_keeps_using_its_cache(engine: Engine) -> None:
    with running_venue(frozen_venue(markets=40, enforce_rate_limits=False)) as served:
        load_at(context(served, engine), T0)
        again = load_at(context(served, engine), T0 + timedelta(minutes=1))

    assert again.refresh == "none"
