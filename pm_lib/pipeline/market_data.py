"""Market-data stages: the catalogue (cached in the DB) and the order books of its tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from pydantic import BaseModel, ConfigDict

from pm_lib.models import Catalogue
from pm_lib.pipeline.context import RunContext
from pm_lib.store.catalogue import catalogue_age, load_catalogue, save_catalogue
from pm_lib.store.engine import session_scope
from pm_lib.venue.books import BookBatch, ProgressCallback, fetch_books
from pm_lib.venue.gamma import fetch_catalogue
from pm_lib.venue.http import RequestCounters

__all__ = ["CatalogueLoad", "load_books", "load_market_catalogue"]


class CatalogueLoad(BaseModel):
    """The catalogue a run uses, whether it came fresh from Gamma, and what that cost."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    catalogue: Catalogue
    refreshed: bool
    requests: int = 0
    rate_limited: int = 0


def _cached(ctx: RunContext, now: datetime) -> Catalogue | None:
    max_age = timedelta(seconds=ctx.settings.catalogue_max_age_seconds)
    with session_scope(ctx.engine) as session:
        age = catalogue_age(session, now)
        if age is None or age >= max_age:
            return None
        return load_catalogue(session)


async def load_market_catalogue(
    ctx: RunContext, client: httpx.AsyncClient, *, force_refresh: bool = False
) -> CatalogueLoad:
    """The stored catalogue while younger than ``PM_CATALOGUE_MAX_AGE_SECONDS``, else Gamma's.

    A fresh catalogue is saved before it is returned; no DB transaction is held while paging.
    """
    now = ctx.now()
    cached = None if force_refresh else _cached(ctx, now)
    if cached is not None:
        return CatalogueLoad(catalogue=cached, refreshed=False)
    counters = RequestCounters()
    fresh = await fetch_catalogue(client, ctx.settings, now, counters=counters)
    with session_scope(ctx.engine) as session:
        save_catalogue(session, fresh, run_id=ctx.run_id, flow_run_id=ctx.flow_run_id)
    return CatalogueLoad(
        catalogue=fresh,
        refreshed=True,
        requests=counters.requests,
        rate_limited=counters.rate_limited,
    )


async def load_books(
    ctx: RunContext,
    client: httpx.AsyncClient,
    catalogue: Catalogue,
    on_progress: ProgressCallback | None = None,
) -> BookBatch:
    """The current books of every token in ``catalogue`` (missing and bad books reported)."""
    return await fetch_books(
        client, ctx.settings, catalogue.token_ids, ctx.now(), on_progress=on_progress
    )
