"""plan_refresh: which catalogue refresh a run needs, from the stored refresh state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pm_lib.pipeline.market_data import plan_refresh
from pm_lib.settings import Settings
from pm_lib.store.catalogue import RefreshState

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SETTINGS = Settings(  # type: ignore[call-arg]
    _env_file=None, catalogue_max_age_seconds=900, catalogue_full_refresh_seconds=3600
)


def state(
    refreshed_ago: float, full_ago: float | None, watermark: datetime | None = NOW
) -> RefreshState:
    full_at = None if full_ago is None else NOW - timedelta(seconds=full_ago)
    kind = "full" if full_ago == refreshed_ago else "incremental"
    return RefreshState(NOW - timedelta(seconds=refreshed_ago), kind, watermark, full_at)


def test_empty_cache_needs_a_full_listing() -> None:
    assert plan_refresh(SETTINGS, None, NOW) == "full"


def test_cache_younger_than_the_max_age_needs_nothing() -> None:
    assert plan_refresh(SETTINGS, state(899, 3000), NOW) == "none"


def test_stale_cache_with_a_recent_full_listing_is_refreshed_incrementally() -> None:
    assert plan_refresh(SETTINGS, state(900, 1800), NOW) == "incremental"


def test_full_listing_as_old_as_the_full_refresh_age_is_listed_again() -> None:
    assert plan_refresh(SETTINGS, state(900, 3600), NOW) == "full"


def test_cache_without_a_watermark_is_listed_in_full() -> None:
    assert plan_refresh(SETTINGS, state(900, 900, watermark=None), NOW) == "full"


def test_full_refresh_age_zero_always_lists_in_full() -> None:
    always = SETTINGS.model_copy(update={"catalogue_full_refresh_seconds": 0})
    assert plan_refresh(always, state(900, 900), NOW) == "full"
