"""The market catalogue from Gamma: every open order-book market, plus the neg-risk events.

Gamma facts this module relies on (docs/VENUE.md 4.1, 4.2; docs list-markets-keyset-pagination):
- list through ``GET /markets/keyset`` and ``GET /events/keyset``: ``limit`` (max 100) and
  ``after_cursor`` = the previous page's ``next_cursor``; no ``next_cursor`` means the last page.
  The cursor is tied to the query, so every filter is re-sent on every page;
- never ``offset``: the old offset listing is sunset and deep offsets answer 422;
- the answer is ``{"markets": [...], "next_cursor": "..."}`` (``"events"`` for events);
- Gamma's /markets budget is 300 requests per 10 s (``PM_GAMMA_RATE_LIMIT_PER_10S``), of which
  pm-agent uses ``PM_RATE_BUDGET_FRACTION``.

One bad market never fails a page: it is skipped with its reason (and a log line). Markets that
are closed, inactive or without an order book are not errors, just not listed. The database
cache of the catalogue lives in ``pm_lib.store``; this module only fetches.

A full listing also yields the catalogue's ``watermark`` for the next incremental refresh
(``pm_lib.venue.gamma_changes``): the newest ``updatedAt`` it saw minus the listing's duration, a
lower bound of the venue's time when the listing began (a change made while paging has a later
``updatedAt``), so nothing the listing may have missed is older than the watermark.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from pm_lib.errors import BadVenueData
from pm_lib.models import Catalogue, Event, Market, MarketResolution, SkippedItem
from pm_lib.settings import Settings
from pm_lib.venue.http import RequestCounters, RetryPolicy, VenueReader
from pm_lib.venue.ratelimit import RateLimiter, Sleep
from pm_lib.venue.wire import (
    is_open_order_book_market,
    parse_gamma_event,
    parse_gamma_market,
    parse_gamma_resolution,
    parse_gamma_updated_at,
    resolution_agrees_with_clob,
)

__all__ = [
    "RESOLUTIONS_BATCH",
    "fetch_catalogue",
    "fetch_resolutions",
    "gamma_reader",
    "keyset_pages",
    "skip_item",
]

logger = logging.getLogger(__name__)

EVENTS_PAGE_SIZE = 100
RESOLUTIONS_BATCH = 50  # condition ids per resolutions query (they ride in the URL)


async def keyset_pages(
    reader: VenueReader, url: str, items_key: str, filters: Mapping[str, str | Sequence[str]]
) -> AsyncGenerator[list[Any], None]:
    """Yield the ``items_key`` list of each Gamma keyset page until one has no ``next_cursor``.

    Raises ``BadVenueData`` for a page of the wrong shape or a cursor that repeats (which would
    loop forever); the caller keeps whatever catalogue it had.
    """
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        query: dict[str, str | Sequence[str]] = dict(filters)
        if cursor is not None:
            query["after_cursor"] = cursor
        page = await reader.get_json(url, query)
        where = cursor or "first page"
        if not isinstance(page, dict) or not isinstance(page.get(items_key), list):
            raise BadVenueData(f"{items_key} page", where, f"expected an object with {items_key!r}")
        yield page[items_key]
        next_cursor = page.get("next_cursor")
        if not next_cursor:
            return
        if not isinstance(next_cursor, str):
            raise BadVenueData(f"{items_key} page", where, f"next_cursor {next_cursor!r}")
        if next_cursor in seen:
            raise BadVenueData(f"{items_key} page", where, "next_cursor repeats: would loop")
        seen.add(next_cursor)
        cursor = next_cursor


def skip_item(skipped: list[SkippedItem], error: BadVenueData) -> None:
    """Record a bad item as skipped, with its reason (and a log line)."""
    skipped.append(SkippedItem(kind=error.kind, ident=error.ident, reason=error.reason))
    logger.info("skipped %s %s: %s", error.kind, error.ident, error.reason)


class _Newest:
    """The newest ``updatedAt`` among the rows it was shown (rows without one are ignored)."""

    def __init__(self) -> None:
        self.at: datetime | None = None

    def see(self, raw: Mapping[str, Any], kind: str) -> None:
        try:
            _, updated = parse_gamma_updated_at(raw, kind)
        except BadVenueData:
            return
        if self.at is None or updated > self.at:
            self.at = updated


async def _open_markets(
    reader: VenueReader, settings: Settings, skipped: list[SkippedItem], newest: _Newest
) -> tuple[Market, ...]:
    markets: dict[str, Market] = {}
    not_listed = 0
    filters = {"limit": str(settings.gamma_page_size), "closed": "false"}
    url = f"{settings.gamma_url}/markets/keyset"
    async for rows in keyset_pages(reader, url, "markets", filters):
        for raw in rows:
            if not isinstance(raw, Mapping):
                skip_item(skipped, BadVenueData("market", "?", "row is not a JSON object"))
                continue
            newest.see(raw, "market")
            if not is_open_order_book_market(raw):
                not_listed += 1
                continue
            try:
                market = parse_gamma_market(raw)
            except BadVenueData as e:
                skip_item(skipped, e)
                continue
            markets.setdefault(market.condition_id, market)
    logger.info("Gamma: %d open order-book markets, %d not listed", len(markets), not_listed)
    return tuple(markets.values())


async def _neg_risk_events(
    reader: VenueReader, settings: Settings, skipped: list[SkippedItem], newest: _Newest
) -> tuple[Event, ...]:
    events: dict[str, Event] = {}
    filters = {"limit": str(EVENTS_PAGE_SIZE), "closed": "false"}
    url = f"{settings.gamma_url}/events/keyset"
    async for rows in keyset_pages(reader, url, "events", filters):
        for raw in rows:
            if isinstance(raw, Mapping):
                newest.see(raw, "event")
            # Only neg-risk groups matter to strategies (basket completeness); the nested
            # ``markets`` list every leg, tradable or not.
            if not isinstance(raw, Mapping) or raw.get("negRisk") is not True:
                continue
            try:
                event = parse_gamma_event(raw)
            except BadVenueData as e:
                skip_item(skipped, e)
                continue
            events.setdefault(event.event_id, event)
    logger.info("Gamma: %d open neg-risk events", len(events))
    return tuple(events.values())


async def fetch_catalogue(
    client: httpx.AsyncClient,
    settings: Settings,
    now: datetime,
    *,
    limiter: RateLimiter | None = None,
    counters: RequestCounters | None = None,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Catalogue:
    """Fetch the tradable universe: open order-book markets and open neg-risk events.

    ``limiter`` defaults to the Gamma budget from ``settings``; pass ``counters`` to read how
    many requests, retries and 429s it took; ``clock`` (monotonic seconds) times the listing for
    the watermark. Raises the ``pm_lib.errors`` of a page that could not be read after
    retries.
    """
    reader = gamma_reader(client, settings, limiter=limiter, counters=counters, sleep=sleep)
    started = clock()
    skipped: list[SkippedItem] = []
    newest = _Newest()
    markets = await _open_markets(reader, settings, skipped, newest)
    events = await _neg_risk_events(reader, settings, skipped, newest)
    if skipped:
        logger.warning("Gamma: skipped %d items (see Catalogue.skipped)", len(skipped))
    watermark = None
    if newest.at is not None:
        watermark = newest.at - timedelta(seconds=clock() - started)
    return Catalogue(
        markets=markets,
        events=events,
        fetched_at=now,
        skipped=tuple(skipped),
        watermark=watermark,
    )


async def fetch_resolutions(
    client: httpx.AsyncClient,
    settings: Settings,
    condition_ids: Sequence[str],
    *,
    limiter: RateLimiter | None = None,
    sleep: Sleep = asyncio.sleep,
) -> tuple[list[MarketResolution], list[SkippedItem]]:
    """How the closed markets among ``condition_ids`` resolved (the ones still open, or closed
    but not yet resolved, are simply absent), and the rows skipped as malformed.

    Reads ``GET /markets/keyset?condition_ids=..&closed=true`` in batches of
    ``RESOLUTIONS_BATCH`` (the ids repeated as ``condition_ids``, as Gamma's array parameters
    are sent). A resolution is ``closed`` + ``umaResolutionStatus: "resolved"`` + the final
    ``outcomePrices`` (``pm_lib.venue.wire.parse_gamma_resolution``), confirmed by the CLOB's
    own ``GET /markets/{condition_id}`` (closed, ``tokens[].winner``): one that the CLOB does not
    confirm is skipped with the reason, and asked about again next time.
    """
    reader = gamma_reader(client, settings, limiter=limiter, sleep=sleep)
    url = f"{settings.gamma_url}/markets/keyset"
    wanted = list(dict.fromkeys(condition_ids))
    found: dict[str, MarketResolution] = {}
    skipped: list[SkippedItem] = []
    for start in range(0, len(wanted), RESOLUTIONS_BATCH):
        batch = wanted[start : start + RESOLUTIONS_BATCH]
        filters: dict[str, str | Sequence[str]] = {
            "limit": str(settings.gamma_page_size),
            "closed": "true",
            "condition_ids": batch,
        }
        async for rows in keyset_pages(reader, url, "markets", filters):
            for raw in rows:
                try:
                    resolution = parse_gamma_resolution(raw)
                except BadVenueData as e:
                    skip_item(skipped, e)
                    continue
                if resolution is not None and resolution.condition_id in batch:
                    found.setdefault(resolution.condition_id, resolution)
    clob = VenueReader(
        client,
        RateLimiter.for_budget(
            settings.clob_rate_limit_per_10s, settings.rate_budget_fraction, sleep=sleep
        ),
        RetryPolicy.from_settings(settings),
        sleep=sleep,
    )
    confirmed = []
    for condition_id in wanted:
        resolution = found.get(condition_id)
        if resolution is None:
            continue
        market = await clob.get_json(f"{settings.clob_url}/markets/{condition_id}")
        try:
            resolution_agrees_with_clob(resolution, market)
        except BadVenueData as e:
            skip_item(skipped, BadVenueData("resolution", condition_id, e.reason))
            continue
        confirmed.append(resolution)
    return confirmed, skipped


def gamma_reader(
    client: httpx.AsyncClient,
    settings: Settings,
    *,
    limiter: RateLimiter | None = None,
    counters: RequestCounters | None = None,
    sleep: Sleep = asyncio.sleep,
) -> VenueReader:
    """A reader of Gamma pages inside its budget (``limiter`` defaults to the settings')."""
    return VenueReader(
        client,
        limiter
        or RateLimiter.for_budget(
            settings.gamma_rate_limit_per_10s, settings.rate_budget_fraction, sleep=sleep
        ),
        RetryPolicy.from_settings(settings),
        sleep=sleep,
        counters=counters,
    )
