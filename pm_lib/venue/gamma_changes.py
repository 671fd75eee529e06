"""Incremental catalogue refresh: only the markets and events Gamma changed since a watermark.

How (docs/VENUE.md 4.1): ``GET /markets/keyset`` and ``/events/keyset`` take ``order`` as a
camelCase JSON field name and ``ascending``; every recorded market and event carries
``updatedAt``. So both are listed with ``order=updatedAt&ascending=false`` (every filter re-sent
on every page, ``after_cursor`` chaining, as in ``pm_lib.venue.gamma``) and paging stops after the
first page that reaches rows older than ``watermark - WATERMARK_OVERLAP`` (the overlap absorbs
equal timestamps and the venue writing ``updatedAt`` slightly out of step with its ordering).

The listing has no ``closed`` filter on purpose: a market or event that closed (or stopped being
an open order-book market, or became bad data) since the watermark must be seen to be removed
from the cache; a ``closed=false`` listing would never show it.

NOT VERIFIED on the real Gamma: that ``order=updatedAt`` is honoured and that ``updatedAt`` moves
whenever a listed field changes. What this module does about it: a refused listing (4xx, e.g.
422 "order fields are not valid"), rows out of ``updatedAt`` order, or without one, raise
``FullListingNeeded``; so does a listing longer than
``PM_CATALOGUE_INCREMENTAL_MAX_PAGES`` pages (recorded live captures show ``updatedAt`` moving on
most active markets within minutes, so on the live venue a refresh may often be long and fall
back). A field changed without ``updatedAt`` moving is caught by the next full listing, at most
``PM_CATALOGUE_FULL_REFRESH_SECONDS`` later (``pm_lib.pipeline.market_data``).

The new watermark is the newest ``updatedAt`` seen minus the listing's duration (as for a full
listing, see ``pm_lib.venue.gamma``), or the old one when nothing newer was listed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import httpx

from pm_lib.errors import BadVenueData, FullListingNeeded, RejectedByVenue
from pm_lib.models import CatalogueChanges, SkippedItem
from pm_lib.settings import Settings
from pm_lib.venue.gamma import gamma_reader, keyset_pages, skip_item
from pm_lib.venue.http import RequestCounters, VenueReader
from pm_lib.venue.ratelimit import RateLimiter, Sleep
from pm_lib.venue.wire import (
    is_open_order_book_market,
    parse_gamma_event,
    parse_gamma_market,
    parse_gamma_updated_at,
)

__all__ = ["WATERMARK_OVERLAP", "fetch_catalogue_changes"]

logger = logging.getLogger(__name__)

WATERMARK_OVERLAP = timedelta(seconds=60)
T = TypeVar("T")


@dataclass
class _Listing:
    """The rows of one updatedAt-ordered listing down to the watermark, newest first."""

    rows: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    newest: datetime | None = None
    oldest: datetime | None = None  # the last row's updatedAt so far
    pages: int = 0


async def _changed_since(
    reader: VenueReader, url: str, kind: str, since: datetime, limit: int, max_pages: int
) -> _Listing:
    items_key = f"{kind}s"
    filters = {"limit": str(limit), "order": "updatedAt", "ascending": "false"}
    cutoff = since - WATERMARK_OVERLAP
    listing = _Listing()
    async with aclosing(keyset_pages(reader, url, items_key, filters)) as pages:
        try:
            async for page in pages:
                if _reached_the_watermark(page, kind, cutoff, listing, max_pages):
                    break
        except RejectedByVenue as e:
            # e.g. 422 "order fields are not valid": this Gamma does not list by updatedAt.
            raise FullListingNeeded(f"{items_key} by updatedAt refused: {e}") from e
    return listing


def _reached_the_watermark(
    page: list[Any], kind: str, cutoff: datetime, listing: _Listing, max_pages: int
) -> bool:
    """Add one page's rows to ``listing``; True once a row is older than ``cutoff``."""
    items_key = f"{kind}s"
    listing.pages += 1
    reached = False
    for raw in page:
        try:
            ident, updated = parse_gamma_updated_at(raw, kind)
        except BadVenueData as e:
            raise FullListingNeeded(f"{items_key} by updatedAt: {e}") from e
        if listing.oldest is not None and updated > listing.oldest:
            raise FullListingNeeded(f"{items_key} are not listed in updatedAt order")
        listing.oldest = updated
        listing.newest = listing.newest or updated
        reached = reached or updated < cutoff
        listing.rows.append((ident, raw))
    if not reached and listing.pages >= max_pages:
        raise FullListingNeeded(
            f"{items_key} changed since {cutoff.isoformat()} fill more than "
            f"{max_pages} pages (PM_CATALOGUE_INCREMENTAL_MAX_PAGES)"
        )
    return reached


def _newest_state(
    rows: list[tuple[str, Mapping[str, Any]]],
    tradable: Callable[[Mapping[str, Any]], bool],
    parse: Callable[[object], T],
    skipped: list[SkippedItem],
) -> tuple[dict[str, T], set[str]]:
    """Each id's newest row, parsed (listed) or not tradable / bad data (removed)."""
    listed: dict[str, T] = {}
    removed: set[str] = set()
    for ident, raw in reversed(rows):  # oldest first: the newest row of an id wins
        item: T | None = None
        if tradable(raw):
            try:
                item = parse(raw)
            except BadVenueData as e:
                # As in a full listing, an item that became bad data leaves the catalogue.
                skip_item(skipped, e)
        if item is None:
            removed.add(ident)
            listed.pop(ident, None)
        else:
            removed.discard(ident)
            listed[ident] = item
    return listed, removed


async def fetch_catalogue_changes(
    client: httpx.AsyncClient,
    settings: Settings,
    now: datetime,
    watermark: datetime,
    *,
    limiter: RateLimiter | None = None,
    counters: RequestCounters | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CatalogueChanges:
    """The markets and events Gamma changed since ``watermark`` (a previous refresh's).

    Raises ``FullListingNeeded`` when the listing is too long or not in ``updatedAt`` order,
    and the ``pm_lib.errors`` of a page that could not be read after retries; nothing is
    returned in part.
    """
    reader = gamma_reader(client, settings, limiter=limiter, counters=counters, sleep=sleep)
    started = clock()
    max_pages = settings.catalogue_incremental_max_pages
    base = settings.gamma_url
    market_rows = await _changed_since(
        reader, f"{base}/markets/keyset", "market", watermark, settings.gamma_page_size, max_pages
    )
    event_rows = await _changed_since(
        reader, f"{base}/events/keyset", "event", watermark, settings.gamma_page_size, max_pages
    )
    skipped: list[SkippedItem] = []
    markets, removed_markets = _newest_state(
        market_rows.rows, is_open_order_book_market, parse_gamma_market, skipped
    )
    # Only neg-risk groups are catalogued (see pm_lib.venue.gamma).
    neg_risk = [(i, raw) for i, raw in event_rows.rows if raw.get("negRisk") is True]
    events, removed_events = _newest_state(
        neg_risk, lambda raw: raw.get("closed") is not True, parse_gamma_event, skipped
    )
    newest = max((t for t in (market_rows.newest, event_rows.newest) if t), default=None)
    new_watermark = watermark
    if newest is not None:
        new_watermark = max(watermark, newest - timedelta(seconds=clock() - started))
    logger.info(
        "Gamma since %s: %d markets listed, %d removed; %d events listed, %d removed "
        "(%d + %d pages)",
        watermark.isoformat(),
        len(markets),
        len(removed_markets),
        len(events),
        len(removed_events),
        market_rows.pages,
        event_rows.pages,
    )
    return CatalogueChanges(
        markets=tuple(markets.values()),
        removed_markets=tuple(sorted(removed_markets)),
        events=tuple(events.values()),
        removed_events=tuple(sorted(removed_events)),
        fetched_at=now,
        watermark=new_watermark,
        skipped=tuple(skipped),
    )
