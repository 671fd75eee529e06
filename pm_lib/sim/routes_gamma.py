"""Emulator routes: the Gamma API, mounted under ``/gamma`` (PM_GAMMA_URL = <venue>/gamma).

GET /markets/keyset, /events/keyset (keyset paging, ``pm_lib.sim.gamma_query``),
GET /markets/{id}, /markets/slug/{slug}, /events/{id}, /events/slug/{slug}, and the deprecated
offset listings GET /markets and /events (bare arrays with the live ``Deprecation`` headers;
offsets above 2000 are refused with 422). Quotes in every market object (``bestBid``,
``bestAsk``, ``outcomePrices``...) come from the current books.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pm_lib.sim.gamma_query import (
    QueryError,
    SortedView,
    event_query,
    keyset_page,
    market_query,
)
from pm_lib.sim.state import SimEvent, SimMarket
from pm_lib.sim.venue import SimVenue
from pm_lib.sim.wire_gamma import gamma_event, gamma_event_summary, gamma_market, question_id

__all__ = ["gamma_routes"]

_MAX_LEGACY_OFFSET = 2000  # docs/VENUE.md 4.1: deeper offsets get 422 since mid-2026
_DEPRECATION = {
    "Deprecation": "true",
    "Sunset": "Fri, 01 May 2026 00:00:00 GMT",
    "Warning": '299 - "use /markets/keyset"',
}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def _invalid(message: str) -> Response:
    return _json({"type": "validation error", "error": message}, 422)


def _not_found(what: str) -> Response:
    return _json({"type": "not found error", "error": f"{what} not found"}, 404)  # GUESS body


class _Gamma:
    """Route handlers over one venue (views cached per order and catalogue version)."""

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.md = venue.market_data
        self._views: dict[tuple[Any, ...], SortedView[Any]] = {}

    # --- objects ---------------------------------------------------------------------------
    def _now(self) -> float:
        return self.venue.state.clock.now()

    def _markets_of(self, event: SimEvent) -> list[SimMarket]:
        markets = self.venue.state.markets
        return [markets[c] for c in event.condition_ids if c in markets]

    def _summary(self, event: SimEvent, now: float) -> dict[str, Any]:
        profile = self.md.event_profiles.get(event.event_id)
        return gamma_event_summary(event, profile, self._markets_of(event), now)

    def market(
        self,
        market: SimMarket,
        now: float,
        nested_events: bool,
        summaries: dict[str, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """One market object as Gamma lists it (``summaries``: event objects already built
        for this response, shared by the legs of one event)."""
        events = None
        if nested_events:
            event = self.venue.state.events.get(market.event_id or "")
            events = []
            if event is not None:
                summaries = {} if summaries is None else summaries
                if event.event_id not in summaries:
                    summaries[event.event_id] = self._summary(event, now)
                events = [summaries[event.event_id]]
        profile = self.md.profiles.get(market.condition_id)
        return gamma_market(market, profile, self.md.top_of_book(market), now, events)

    def event(self, event: SimEvent, now: float, single: bool) -> dict[str, Any]:
        """One event with its markets embedded (less the legs ``/_sim/incomplete-events`` hides,
        ``pm_lib.sim.gamma_omissions``)."""
        hidden = self.md.omissions.hidden(event)
        markets = [
            self.market(m, now, False)
            for m in self._markets_of(event)
            if m.condition_id not in hidden
        ]
        return gamma_event(self._summary(event, now), markets, single)

    def _view(self, kind: str, items: list[Any], query: Any) -> SortedView[Any]:
        key = (kind, query.order, query.ascending, self.md.catalogue_version, len(items))
        view = self._views.get(key)
        if view is None:
            if len(self._views) > 16:
                self._views.clear()
            view = SortedView(items, query.sort_key, query.ascending)
            self._views[key] = view
        return view

    def _token_market(self, token: str) -> SimMarket | None:
        hit = self.md.market_for_token(token)
        return hit[0] if hit else None

    # --- handlers ----------------------------------------------------------------------------
    async def markets_keyset(self, request: Request) -> Response:
        index = self.md.index()
        try:
            query = market_query(
                request.query_params,
                self._token_market,
                index.market_by_id,
                index.market_by_slug,
                self.venue.state.markets,
                lambda m: question_id(m, self.md.profiles.get(m.condition_id)),
            )
            view = None if query.candidates is not None else self._view("m", index.markets, query)
            page = keyset_page(query, view, request.query_params.get("after_cursor"))
        except QueryError as e:
            return _invalid(str(e))
        now = self._now()
        shared: dict[str, dict[str, Any]] = {}
        body: dict[str, Any] = {"markets": [self.market(m, now, True, shared) for m in page.items]}
        if page.next_cursor is not None:
            body["next_cursor"] = page.next_cursor
        return _json(body)

    async def events_keyset(self, request: Request) -> Response:
        index = self.md.index()
        by_id = self.venue.state.events
        try:
            query = event_query(request.query_params, by_id, index.event_by_slug, self._markets_of)
            view = None if query.candidates is not None else self._view("e", index.events, query)
            page = keyset_page(query, view, request.query_params.get("after_cursor"))
        except QueryError as e:
            return _invalid(str(e))
        now = self._now()
        body: dict[str, Any] = {"events": [self.event(e, now, False) for e in page.items]}
        if page.next_cursor is not None:
            body["next_cursor"] = page.next_cursor
        return _json(body)

    async def market_by_id(self, request: Request) -> Response:
        market = self.md.index().market_by_id.get(request.path_params["market_id"])
        return self._single_market(market)

    async def market_by_slug(self, request: Request) -> Response:
        market = self.md.index().market_by_slug.get(request.path_params["slug"])
        return self._single_market(market)

    def _single_market(self, market: SimMarket | None) -> Response:
        if market is None:
            return _not_found("market")
        body = {"$schema": "https://gamma-api.polymarket.com/schemas/Market.json"}
        body.update(self.market(market, self._now(), True))
        return _json(body)

    async def event_by_id(self, request: Request) -> Response:
        event = self.venue.state.events.get(request.path_params["event_id"])
        if event is None:
            return _not_found("event")
        return _json(self.event(event, self._now(), True))

    async def event_by_slug(self, request: Request) -> Response:
        event = self.md.index().event_by_slug.get(request.path_params["slug"])
        if event is None:
            return _not_found("event")
        return _json(self.event(event, self._now(), True))

    async def markets_legacy(self, request: Request) -> Response:
        return self._legacy(request, "markets")

    async def events_legacy(self, request: Request) -> Response:
        return self._legacy(request, "events")

    def _legacy(self, request: Request, kind: str) -> Response:
        params = request.query_params
        try:
            offset = int(params.get("offset", "0"))
            limit = min(max(int(params.get("limit", "20")), 1), 500)
        except ValueError:
            return _invalid("invalid limit or offset")
        if offset > _MAX_LEGACY_OFFSET:
            return _invalid(f"offset too large, use /{kind}/keyset for deeper pagination")
        closed = params.get("closed")
        index = self.md.index()
        now = self._now()
        items: list[Any] = index.markets if kind == "markets" else index.events
        if closed is not None:
            wanted = closed.lower() == "true"
            items = [x for x in items if x.closed == wanted]
        window = items[offset : offset + limit]
        if kind == "markets":
            body = [self.market(m, now, True) for m in window]
        else:
            body = [self.event(e, now, False) for e in window]
        return _json(body, headers=_DEPRECATION)


def gamma_routes(venue: SimVenue) -> list[BaseRoute]:
    """The Gamma routes of ``venue`` (mount under ``/gamma``)."""
    g = _Gamma(venue)
    return [
        Route("/markets/keyset", g.markets_keyset, methods=["GET"]),
        Route("/events/keyset", g.events_keyset, methods=["GET"]),
        Route("/markets/slug/{slug}", g.market_by_slug, methods=["GET"]),
        Route("/markets/{market_id}", g.market_by_id, methods=["GET"]),
        Route("/events/slug/{slug}", g.event_by_slug, methods=["GET"]),
        Route("/events/{event_id}", g.event_by_id, methods=["GET"]),
        Route("/markets", g.markets_legacy, methods=["GET"]),
        Route("/events", g.events_legacy, methods=["GET"]),
    ]
