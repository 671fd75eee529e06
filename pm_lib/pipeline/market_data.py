"""Market-data stages: the catalogue (cached in the DB) and the order books of its tokens.

Which catalogue refresh a run does (``plan_refresh``, pure):

- none: the cache is younger than ``PM_CATALOGUE_MAX_AGE_SECONDS``;
- full (the whole universe from Gamma): nothing is cached (or only another venue's: the cache
  is keyed to the Gamma and CLOB URLs, ``pm_lib.store.catalogue``), the cache has no watermark,
  the last full listing is ``PM_CATALOGUE_FULL_REFRESH_SECONDS`` old or more, or a refresh is
  forced;
- incremental otherwise (``pm_lib.venue.gamma_changes``: only what changed since the watermark),
  falling back to full when Gamma's answer cannot be trusted or is too long.

A refresh is fetched with no DB transaction held, then saved in one transaction; a page that
fails leaves the cache as it was (nothing is saved in part) and raises its venue error.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict

from pm_lib.errors import FullListingNeeded
from pm_lib.models import Catalogue
from pm_lib.pipeline.context import RunContext
from pm_lib.settings import Settings
from pm_lib.store.catalogue import (
    RefreshState,
    catalogue_venue,
    load_catalogue,
    refresh_state,
    save_catalogue,
    save_catalogue_changes,
)
from pm_lib.store.engine import session_scope
from pm_lib.venue.books import BookBatch, ProgressCallback, fetch_books
from pm_lib.venue.gamma import fetch_catalogue
from pm_lib.venue.gamma_changes import fetch_catalogue_changes
from pm_lib.venue.http import RequestCounters
from pm_lib.venue.ratelimit import RateLimiter

__all__ = ["CatalogueLoad", "RefreshKind", "load_books", "load_market_catalogue", "plan_refresh"]

logger = logging.getLogger(__name__)

RefreshKind = Literal["none", "incremental", "full"]


class CatalogueLoad(BaseModel):
    """The catalogue a run uses, which refresh brought it (none, incremental, full) and what
    that cost in Gamma requests (an incremental attempt that fell back to full included)."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    catalogue: Catalogue
    refresh: RefreshKind
    requests: int = 0
    rate_limited: int = 0

    @property
    def refreshed(self) -> bool:
        """Whether anything was fetched from Gamma for this run."""
        return self.refresh != "none"


def plan_refresh(settings: Settings, state: RefreshState | None, now: datetime) -> RefreshKind:
    """The refresh a run needs, from the stored refresh state at ``now`` (see module doc)."""
    if state is None or state.full_at is None:
        return "full"
    if _fresh(settings, state.refreshed_at, now):
        return "none"
    full_age = now - state.full_at
    if state.watermark is None or full_age >= timedelta(
        seconds=settings.catalogue_full_refresh_seconds
    ):
        return "full"
    return "incremental"


def _fresh(settings: Settings, refreshed_at: datetime, now: datetime) -> bool:
    return now - refreshed_at < timedelta(seconds=settings.catalogue_max_age_seconds)


async def load_market_catalogue(
    ctx: RunContext,
    client: httpx.AsyncClient,
    *,
    force_refresh: bool = False,
    held: Catalogue | None = None,
) -> CatalogueLoad:
    """The stored catalogue while younger than ``PM_CATALOGUE_MAX_AGE_SECONDS``, else refreshed
    from Gamma (incrementally when it can be) and saved before it is returned.

    ``held`` is a catalogue this process already has (a scan loop's previous scan): while it is
    younger than the same age it is used as is, without reading the DB (its skipped items were
    reported when it was fetched and are not reported again).
    """
    now = ctx.now()
    if held is not None and not force_refresh and _fresh(ctx.settings, held.fetched_at, now):
        return CatalogueLoad(catalogue=held.model_copy(update={"skipped": ()}), refresh="none")
    venue = catalogue_venue(ctx.settings.gamma_url, ctx.settings.clob_url)
    with session_scope(ctx.engine, read_only=True) as session:
        # another venue's cache is no cache: the plan is a full listing (store.catalogue)
        state = refresh_state(session, venue)
        plan = "full" if force_refresh else plan_refresh(ctx.settings, state, now)
        if plan == "none":
            cached = load_catalogue(session, venue)
            if cached is not None:
                return CatalogueLoad(catalogue=cached, refresh="none")
            plan = "full"
    counters = RequestCounters()
    if plan == "incremental":
        assert state is not None and state.watermark is not None  # plan_refresh saw to it
        merged = await _incremental(ctx, client, now, state.watermark, counters, venue)
        if merged is not None:
            return CatalogueLoad(
                catalogue=merged,
                refresh="incremental",
                requests=counters.requests,
                rate_limited=counters.rate_limited,
            )
    fresh = await fetch_catalogue(client, ctx.settings, now, counters=counters)
    with session_scope(ctx.engine) as session:
        save_catalogue(session, fresh, run_id=ctx.run_id, flow_run_id=ctx.flow_run_id, venue=venue)
    return CatalogueLoad(
        catalogue=fresh,
        refresh="full",
        requests=counters.requests,
        rate_limited=counters.rate_limited,
    )


async def _incremental(
    ctx: RunContext,
    client: httpx.AsyncClient,
    now: datetime,
    watermark: datetime,
    counters: RequestCounters,
    venue: str,
) -> Catalogue | None:
    """The cache merged with Gamma's changes since ``watermark``; ``None``: list everything."""
    try:
        changes = await fetch_catalogue_changes(
            client, ctx.settings, now, watermark, counters=counters
        )
    except FullListingNeeded as e:
        logger.warning("incremental catalogue refresh abandoned, listing everything: %s", e)
        return None
    with session_scope(ctx.engine) as session:
        save_catalogue_changes(
            session, changes, run_id=ctx.run_id, flow_run_id=ctx.flow_run_id, venue=venue
        )
        merged = load_catalogue(session, venue)
    assert merged is not None  # a refresh row was just written
    return Catalogue(
        markets=merged.markets,
        events=merged.events,
        fetched_at=merged.fetched_at,
        skipped=changes.skipped,
        watermark=merged.watermark,
    )


async def load_books(
    ctx: RunContext,
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    on_progress: ProgressCallback | None = None,
    *,
    limiter: RateLimiter | None = None,
) -> BookBatch:
    """The current books of every token in ``catalogue`` (missing and bad books reported).

    ``limiter``: the /books budget to spend (default: a fresh one for this fetch). Scans that
    follow each other within seconds share one, so the venue's sliding window holds across them.
    """
    return await fetch_books(
        client,
        ctx.settings,
        catalogue.token_ids,
        ctx.now(),
        on_progress=on_progress,
        limiter=limiter,
    )
