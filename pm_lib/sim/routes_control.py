"""Emulator control routes under ``/_sim`` (market-data side). Documented in docs/EMULATOR.md.

POST /reset                 rebuild the seeded universe (optionally another seed/size)
GET  /universe              counts, seed, current book generation
POST /book                  set a token's book (levels in that token's terms); pins the market
POST /markets               add a market;  PATCH /markets/{condition_id}  modify one
POST /markets/{condition_id}/resolve  resolve a market {"outcome": "Yes"} (neg-risk: siblings No)
GET|POST /clock             read; advance / set / freeze / unfreeze the venue clock
GET|POST|DELETE /faults     list, inject, clear faults;  DELETE /faults/{id}  remove one
GET|POST /rate-limits       read; enable/disable and change limits by name
GET|DELETE /stats           requests by endpoint, statuses, 429s by limit; reset counters
GET|POST|DELETE /incomplete-events  events whose nested ``markets`` list leaves legs out
Control routes are never rate limited nor faulted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pm_lib.sim.market_admin import (
    AdminError,
    add_market,
    clock_state,
    modify_market,
    move_clock,
    set_book,
    touch_every_listing,
)
from pm_lib.sim.resolution import resolve_market
from pm_lib.sim.venue import SimVenue

__all__ = ["control_routes"]

Handler = Callable[[Request], Awaitable[Response]]


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body, default=str), status_code=status, media_type="application/json"
    )


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise AdminError("body is not JSON") from e
    if not isinstance(data, dict):
        raise AdminError("body must be a JSON object")
    return data


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except (AdminError, ValueError, KeyError, TypeError) as e:
            return _json({"error": str(e)}, 400)

    return run


class _Control:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.md = venue.market_data

    def _universe(self) -> dict[str, Any]:
        state = self.venue.state
        gen = self.md.books.generation() if self.md.books else None
        markets = state.markets.values()
        return {
            "seed": self.md.universe_seed,
            "markets": len(state.markets),
            "events": len(state.events),
            "neg_risk_markets": sum(1 for m in markets if m.neg_risk),
            "open_markets": sum(1 for m in markets if not m.closed),
            "books_in_memory": len(state.ladders),
            "pinned_books": len(self.md.books.pinned) if self.md.books else 0,
            "generation": asdict(gen) if gen else None,
        }

    async def reset(self, request: Request) -> Response:
        body = await _body(request)
        cfg = self.venue.config
        cfg.seed = int(body.get("seed", cfg.seed))
        cfg.markets = int(body.get("markets", cfg.markets))
        with self.venue.state.lock:
            self.md.install(self.md.build_universe())
            touch_every_listing(self.md)  # a cached catalogue must see the whole new universe
            reset_exchange = getattr(self.venue.exchange, "reset", None)
            if callable(reset_exchange):
                reset_exchange()
            self.venue.chain.reset()
            self.venue.relayer.reset()
        return _json(self._universe())

    async def universe(self, request: Request) -> Response:
        return _json(self._universe())

    async def book(self, request: Request) -> Response:
        body = await _body(request)
        market = set_book(
            self.md,
            str(body.get("token_id", "")),
            body.get("bids", []),
            body.get("asks", []),
            body.get("last_trade_price"),
        )
        return Response(
            self.md.book_body(market, body.get("token_id") == market.yes_token),
            media_type="application/json",
        )

    async def add_market(self, request: Request) -> Response:
        market = add_market(self.md, await _body(request))
        return _json(self._market(market.condition_id), 201)

    async def modify_market(self, request: Request) -> Response:
        cond = request.path_params["condition_id"]
        modify_market(self.md, cond, await _body(request))
        return _json(self._market(cond))

    async def resolve_market(self, request: Request) -> Response:
        cond = request.path_params["condition_id"]
        resolved = resolve_market(self.venue, cond, str((await _body(request)).get("outcome")))
        markets = self.venue.state.markets
        return _json(
            {
                "resolved": [{"condition_id": c, "winner": markets[c].winner} for c in resolved],
                "market": self._market(cond),
            }
        )

    def _market(self, condition_id: str) -> dict[str, Any]:
        m = self.venue.state.markets[condition_id]
        return {
            "condition_id": m.condition_id,
            "market_id": m.market_id,
            "event_id": m.event_id,
            "token_ids": list(m.token_ids),
            "tick_size": str(m.tick_size),
            "neg_risk": m.neg_risk,
            "closed": m.closed,
            "winner": m.winner,
            "active": m.active,
            "accepting_orders": m.accepting_orders,
            "end_date": m.end_date.isoformat() if m.end_date else None,
            "fees_enabled": m.fees_enabled,
            "fee_type": m.fee_type,
            "fee_rate": str(m.fee_rate),
            "fee_exponent": str(m.fee_exponent),
        }

    async def clock(self, request: Request) -> Response:
        clock = self.venue.state.clock
        if request.method == "POST":
            move_clock(clock, await _body(request))
        body = clock_state(clock)
        if self.md.books is not None:
            body["generation"] = asdict(self.md.books.generation())
        return _json(body)

    async def faults(self, request: Request) -> Response:
        plan = self.venue.faults
        if request.method == "POST":
            rule = plan.add(**await _body(request))
            return _json(rule.as_json(), 201)
        if request.method == "DELETE":
            plan.clear()
        return _json([r.as_json() for r in plan.rules])

    async def remove_fault(self, request: Request) -> Response:
        if not self.venue.faults.remove(request.path_params["rule_id"]):
            return _json({"error": "no such fault"}, 404)
        return _json([r.as_json() for r in self.venue.faults.rules])

    async def rate_limits(self, request: Request) -> Response:
        limiter = self.venue.limiter
        if request.method == "POST":
            body = await _body(request)
            if "enabled" in body:
                limiter.enabled = bool(body["enabled"])
            limiter.set_limits({str(k): int(v) for k, v in body.get("limits", {}).items()})
        return _json(
            {
                "enabled": limiter.enabled,
                "limits": {
                    lim.name: {
                        "method": lim.method,
                        "path": lim.path,
                        "limit": lim.limit,
                        "window_seconds": lim.window_seconds,
                    }
                    for lim in limiter.limits.values()
                },
            }
        )

    async def incomplete_events(self, request: Request) -> Response:
        omissions = self.md.omissions
        if request.method == "POST":
            body = await _body(request)
            if "rate" in body:
                rate = float(body["rate"])
                if not 0 <= rate <= 1:
                    raise AdminError(f"rate {rate} is not within [0, 1]")
                omissions.rate = rate
            if "event_id" in body:
                omissions.omit(*self._omitted_legs(str(body["event_id"]), body.get("omit")))
        elif request.method == "DELETE":
            omissions.clear()
        return _json(omissions.as_json(self.venue.state.events))

    def _omitted_legs(self, event_id: str, omit: Any) -> tuple[str, frozenset[str]]:
        """The legs to leave out of ``event_id``: ``omit``, or by default its favourite."""
        event = self.venue.state.events.get(event_id)
        if event is None:
            raise AdminError(f"no event {event_id}")
        if omit is None:
            markets = self.venue.state.markets
            tops = {c: self.md.top_of_book(markets[c]) for c in event.condition_ids}
            priced = {c: t.ask for c, t in tops.items() if t is not None and t.ask is not None}
            if not priced:
                raise AdminError(f"event {event_id} has no quoted leg to leave out")
            return event_id, frozenset({max(priced, key=lambda c: priced[c])})
        if not isinstance(omit, list) or not all(c in event.condition_ids for c in omit):
            raise AdminError(f"omit must list condition ids of event {event_id}")
        return event_id, frozenset(str(c) for c in omit)

    async def stats(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.venue.stats.clear()
        return _json(self.venue.stats.snapshot())


def control_routes(venue: SimVenue) -> list[BaseRoute]:
    """The market-data control routes of ``venue`` (mount under ``/_sim``)."""
    c = _Control(venue)
    return [
        Route("/reset", _guarded(c.reset), methods=["POST"]),
        Route("/universe", _guarded(c.universe), methods=["GET"]),
        Route("/book", _guarded(c.book), methods=["POST"]),
        Route("/markets", _guarded(c.add_market), methods=["POST"]),
        Route("/markets/{condition_id}", _guarded(c.modify_market), methods=["PATCH"]),
        Route("/markets/{condition_id}/resolve", _guarded(c.resolve_market), methods=["POST"]),
        Route("/clock", _guarded(c.clock), methods=["GET", "POST"]),
        Route("/faults", _guarded(c.faults), methods=["GET", "POST", "DELETE"]),
        Route("/faults/{rule_id}", _guarded(c.remove_fault), methods=["DELETE"]),
        Route("/rate-limits", _guarded(c.rate_limits), methods=["GET", "POST"]),
        Route("/stats", _guarded(c.stats), methods=["GET", "DELETE"]),
        Route(
            "/incomplete-events",
            _guarded(c.incomplete_events),
            methods=["GET", "POST", "DELETE"],
        ),
    ]
