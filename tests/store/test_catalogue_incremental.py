"""Incremental catalogue saves: merged into the last full one, recorded with kind and watermark."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine

from pm_lib.models import Catalogue, CatalogueChanges
from pm_lib.store.catalogue import (
    catalogue_age,
    load_catalogue,
    refresh_state,
    save_catalogue,
    save_catalogue_changes,
    stored_market,
)
from pm_lib.store.engine import session_scope
from tests.store.samples import NOW, catalogue, event, market

LATER = NOW + timedelta(minutes=16)
WATERMARK = NOW - timedelta(minutes=1)


def _full(engine: Engine) -> None:
    fetched = catalogue(range(3), events=(event("ev-1", ("0xcond0000", "0xcond0001")),))
    with session_scope(engine) as session:
        save_catalogue(session, fetched.model_copy(update={"watermark": WATERMARK}))


def _merge(engine: Engine, changes: CatalogueChanges) -> Catalogue:
    with session_scope(engine) as session:
        save_catalogue_changes(session, changes, run_id="r2")
    with session_scope(engine, read_only=True) as session:
        loaded = load_catalogue(session)
    assert loaded is not None
    return loaded


def _changes(**fields: object) -> CatalogueChanges:
    return CatalogueChanges.model_validate(
        {"fetched_at": LATER, "watermark": LATER - timedelta(minutes=1), **fields}
    )


def test_nothing_is_stored_before_the_first_refresh(engine: Engine) -> None:
    with session_scope(engine, read_only=True) as session:
        assert refresh_state(session) is None


def test_full_save_records_a_full_refresh_with_its_watermark(engine: Engine) -> None:
    _full(engine)
    with session_scope(engine, read_only=True) as session:
        state = refresh_state(session)
    assert state is not None
    assert (state.kind, state.refreshed_at, state.full_at, state.watermark) == (
        "full",
        NOW,
        NOW,
        WATERMARK,
    )


def test_new_market_joins_the_cached_catalogue(engine: Engine) -> None:
    _full(engine)
    loaded = _merge(engine, _changes(markets=[market(7)]))
    assert [m.condition_id for m in loaded.markets] == [f"0xcond000{n}" for n in (0, 1, 2, 7)]


def test_changed_market_replaces_its_cached_version(engine: Engine) -> None:
    _full(engine)
    changed = market(1).model_copy(update={"tick_size": Decimal("0.01")})
    loaded = _merge(engine, _changes(markets=[changed]))
    assert loaded.market_by_condition()["0xcond0001"].tick_size == Decimal("0.01")


def test_removed_market_leaves_the_catalogue_and_is_kept_closed(engine: Engine) -> None:
    _full(engine)
    loaded = _merge(engine, _changes(removed_markets=["0xcond0002"]))
    assert "0xcond0002" not in loaded.market_by_condition()
    with session_scope(engine, read_only=True) as session:
        kept = stored_market(session, "0xcond0002")
    assert kept is not None and kept.closed and not kept.accepting_orders


def test_changed_and_removed_events_are_merged(engine: Engine) -> None:
    _full(engine)
    grown = event("ev-1", ("0xcond0000", "0xcond0001", "0xcond0007"))
    loaded = _merge(engine, _changes(events=[grown, event("ev-2")]))
    assert {e.event_id: e for e in loaded.events}["ev-1"] == grown
    loaded = _merge(engine, _changes(removed_events=["ev-1"]))
    assert [e.event_id for e in loaded.events] == ["ev-2"]


def test_incremental_refresh_dates_the_cache_but_not_the_last_full_listing(
    engine: Engine,
) -> None:
    _full(engine)
    _merge(engine, _changes(markets=[market(7)], removed_markets=["0xcond0002"]))
    with session_scope(engine, read_only=True) as session:
        state = refresh_state(session)
        age = catalogue_age(session, LATER)
    assert state is not None
    assert (state.kind, state.refreshed_at, state.full_at) == ("incremental", LATER, NOW)
    assert state.watermark == LATER - timedelta(minutes=1)
    assert age == timedelta(0)


def test_next_full_save_still_closes_markets_it_no_longer_lists(engine: Engine) -> None:
    _full(engine)
    _merge(engine, _changes(markets=[market(7)]))
    with session_scope(engine) as session:
        save_catalogue(session, catalogue([0, 7], fetched_at=LATER + timedelta(hours=1)))
        loaded = load_catalogue(session)
    assert loaded is not None
    assert [m.condition_id for m in loaded.markets] == ["0xcond0000", "0xcond0007"]
