"""The catalogue cache: round trip, removal of vanished markets, and the refresh decision."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from pm_lib.models import Catalogue
from pm_lib.store.catalogue import (
    cached_catalogue,
    catalogue_age,
    load_catalogue,
    save_catalogue,
    stored_market,
)
from pm_lib.store.engine import session_scope
from tests.store.samples import NOW, catalogue, event, market


def _save(engine: Engine, fetched: Catalogue, *, full: bool = True) -> None:
    with session_scope(engine) as session:
        save_catalogue(session, fetched, full=full)


def _load(engine: Engine) -> Catalogue | None:
    with session_scope(engine, read_only=True) as session:
        return load_catalogue(session)


def test_nothing_is_cached_before_the_first_save(engine: Engine) -> None:
    assert _load(engine) is None


def test_saved_catalogue_loads_back_equal(engine: Engine) -> None:
    fetched = catalogue(range(3), events=(event("ev-1", ("0xcond0000", "0xcond0001")),))
    _save(engine, fetched)
    assert _load(engine) == fetched


def test_loaded_market_keeps_fee_schedule_and_aware_end_date(engine: Engine) -> None:
    _save(engine, catalogue([7]))
    loaded = _load(engine)
    assert loaded is not None
    assert loaded.markets[0].fees == market(7).fees
    assert loaded.markets[0].end_date == NOW + timedelta(days=7)


def test_market_missing_from_a_full_fetch_leaves_the_catalogue(engine: Engine) -> None:
    _save(engine, catalogue(range(3)))
    _save(engine, catalogue([0, 2], fetched_at=NOW + timedelta(minutes=20)))
    loaded = _load(engine)
    assert loaded is not None
    assert [m.condition_id for m in loaded.markets] == ["0xcond0000", "0xcond0002"]


def test_market_missing_from_a_full_fetch_is_kept_closed(engine: Engine) -> None:
    _save(engine, catalogue(range(3)))
    _save(engine, catalogue([0, 2], fetched_at=NOW + timedelta(minutes=20)))
    with session_scope(engine, read_only=True) as session:
        gone = stored_market(session, "0xcond0001")
    assert gone is not None
    assert (gone.closed, gone.accepting_orders) == (True, False)


def test_event_missing_from_a_full_fetch_leaves_the_catalogue(engine: Engine) -> None:
    _save(engine, catalogue([0], events=(event("ev-1"), event("ev-2"))))
    _save(engine, catalogue([0], fetched_at=NOW + timedelta(minutes=1), events=(event("ev-2"),)))
    loaded = _load(engine)
    assert loaded is not None
    assert [e.event_id for e in loaded.events] == ["ev-2"]


def test_partial_save_updates_without_dropping_other_markets(engine: Engine) -> None:
    _save(engine, catalogue(range(3)))
    _save(engine, catalogue([1], fetched_at=NOW + timedelta(minutes=1)), full=False)
    loaded = _load(engine)
    assert loaded is not None
    assert len(loaded.markets) == 3


def test_partial_save_does_not_make_the_cache_younger(engine: Engine) -> None:
    _save(engine, catalogue(range(3)))
    _save(engine, catalogue([1], fetched_at=NOW + timedelta(minutes=5)), full=False)
    with session_scope(engine, read_only=True) as session:
        assert catalogue_age(session, NOW + timedelta(minutes=10)) == timedelta(minutes=10)


def test_market_listed_twice_in_one_fetch_is_stored_once(engine: Engine) -> None:
    _save(engine, catalogue([4, 4, 5]))
    loaded = _load(engine)
    assert loaded is not None
    assert [m.condition_id for m in loaded.markets] == ["0xcond0004", "0xcond0005"]


def test_age_is_unknown_before_the_first_save(engine: Engine) -> None:
    with session_scope(engine, read_only=True) as session:
        assert catalogue_age(session, NOW) is None


def test_age_is_measured_from_the_fetch_time(engine: Engine) -> None:
    _save(engine, catalogue(range(2)))
    with session_scope(engine, read_only=True) as session:
        assert catalogue_age(session, NOW + timedelta(seconds=90)) == timedelta(seconds=90)


class _Gamma:
    """Counts refreshes and returns a fixed catalogue."""

    def __init__(self, fetched: Catalogue) -> None:
        self.fetched = fetched
        self.calls = 0

    def __call__(self) -> Catalogue:
        self.calls += 1
        return self.fetched


def test_cached_catalogue_fetches_when_nothing_is_stored(engine: Engine) -> None:
    gamma = _Gamma(catalogue(range(2)))
    result, refreshed = cached_catalogue(engine, 900, NOW, gamma)
    assert (refreshed, gamma.calls, result) == (True, 1, gamma.fetched)


def test_cached_catalogue_reuses_a_fresh_one(engine: Engine) -> None:
    _save(engine, catalogue(range(2)))
    gamma = _Gamma(catalogue(range(5)))
    result, refreshed = cached_catalogue(engine, 900, NOW + timedelta(seconds=899), gamma)
    assert (refreshed, gamma.calls, len(result.markets)) == (False, 0, 2)


def test_cached_catalogue_refreshes_a_stale_one(engine: Engine) -> None:
    _save(engine, catalogue(range(2)))
    later = NOW + timedelta(seconds=900)
    gamma = _Gamma(catalogue(range(5), fetched_at=later))
    result, refreshed = cached_catalogue(engine, 900, later, gamma)
    assert (refreshed, gamma.calls, len(result.markets)) == (True, 1, 5)


def test_cached_catalogue_stores_what_it_refreshed(engine: Engine) -> None:
    gamma = _Gamma(catalogue(range(3)))
    cached_catalogue(engine, 900, NOW, gamma)
    assert _load(engine) == gamma.fetched
