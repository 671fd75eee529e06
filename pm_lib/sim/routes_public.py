"""Emulator routes: the public CLOB (books, prices, market parameters), at the venue root.

Shapes and error bodies as live (docs/VENUE.md 2.4, 3.5, 4.3): books best-price-last with the
genuine hash; ``POST /books`` and the other batch reads take at most 500 ids (else 400) and
leave unknown tokens out; an unknown token is 404 ``{"error": "No orderbook exists for the
requested token id"}``, a malformed one 400 ``{"error": "Invalid token id"}``.
``/price`` follows the live probe, not the docs: ``side=BUY`` answers the best *bid* and
``side=SELL`` the best *ask* (docs/VENUE.md 2.3). Closed markets have no order book.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from pm_lib.sim.state import SimMarket
from pm_lib.sim.venue import SimVenue
from pm_lib.sim.wire_gamma import iso_s, question_id
from pm_lib.sim.wire_out import (
    TokenTop,
    clob_market,
    clob_market_info,
    decimal_str,
)

__all__ = ["public_routes"]

MAX_BATCH = 500
NO_BOOK = {"error": "No orderbook exists for the requested token id"}
INVALID_TOKEN = {"error": "Invalid token id"}
_END_CURSOR = "LTE="
ONE = Decimal(1)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


class _BadRequest(Exception):
    def __init__(self, status: int, body: dict[str, str]) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(handler: Handler) -> Handler:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except _BadRequest as e:
            return _json(e.body, e.status)

    return run


class _Public:
    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.md = venue.market_data

    # --- lookups -----------------------------------------------------------------------------
    def _token(self, token_id: str | None) -> tuple[SimMarket, bool]:
        if not token_id or not token_id.isdigit():
            raise _BadRequest(400, INVALID_TOKEN)
        hit = self.md.market_for_token(token_id)
        if hit is None or not self.md.has_book(hit[0]):
            raise _BadRequest(404, NO_BOOK)
        return hit

    def _top(self, market: SimMarket, is_yes: bool) -> TokenTop:
        # Read-only: from the top of book, so price reads never build a ladder.
        top = self.md.top_of_book(market)
        if top is None:
            return TokenTop(None, None)
        if is_yes:
            return TokenTop(top.bid, top.ask)
        return TokenTop(
            ONE - top.ask if top.ask is not None else None,
            ONE - top.bid if top.bid is not None else None,
        )

    def _batch(self, raw: bytes) -> list[dict[str, Any]]:
        try:
            items = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError as e:
            raise _BadRequest(400, {"error": "Invalid payload"}) from e
        if not isinstance(items, list) or not all(isinstance(x, dict) for x in items):
            raise _BadRequest(400, {"error": "Invalid payload"})
        if len(items) > MAX_BATCH:
            raise _BadRequest(400, {"error": f"Too many token ids, max {MAX_BATCH}"})
        return items

    def _known(self, item: dict[str, Any]) -> tuple[str, SimMarket, bool] | None:
        token = item.get("token_id")
        if not isinstance(token, str):
            return None
        hit = self.md.market_for_token(token)
        if hit is None or not self.md.has_book(hit[0]):
            return None
        return token, hit[0], hit[1]

    # --- health and parameters ---------------------------------------------------------------
    async def ok(self, request: Request) -> Response:
        return _json("OK")

    async def time(self, request: Request) -> Response:
        return _json(int(self.venue.state.clock.now()))

    async def version(self, request: Request) -> Response:
        return _json({"version": 2})

    async def tick_size(self, request: Request) -> Response:
        market, _ = self._token(request.query_params.get("token_id"))
        return _json({"minimum_tick_size": float(market.tick_size)})

    async def neg_risk(self, request: Request) -> Response:
        market, _ = self._token(request.query_params.get("token_id"))
        return _json({"neg_risk": market.neg_risk})

    async def fee_rate(self, request: Request) -> Response:
        market, _ = self._token(request.query_params.get("token_id"))
        bps = int(market.fee_rate * 10_000) if market.fees_enabled else 0
        return _json({"base_fee": bps})

    # --- books -----------------------------------------------------------------------------
    async def book(self, request: Request) -> Response:
        market, is_yes = self._token(request.query_params.get("token_id"))
        body = self.md.book_body(market, is_yes)
        return Response(body, media_type="application/json")

    async def books(self, request: Request) -> Response:
        items = self._batch(await request.body())
        tokens = [(known[1], known[2]) for item in items if (known := self._known(item))]
        parts = self.md.book_bodies(tokens)
        return Response(b"[" + b",".join(parts) + b"]", media_type="application/json")

    # --- prices ------------------------------------------------------------------------------
    async def midpoint(self, request: Request) -> Response:
        market, is_yes = self._token(request.query_params.get("token_id"))
        return _json({"mid": decimal_str(self._top(market, is_yes).midpoint)})

    async def spread(self, request: Request) -> Response:
        market, is_yes = self._token(request.query_params.get("token_id"))
        return _json({"spread": decimal_str(self._top(market, is_yes).spread)})

    async def price(self, request: Request) -> Response:
        market, is_yes = self._token(request.query_params.get("token_id"))
        side = (request.query_params.get("side") or "").upper()
        if side not in ("BUY", "SELL"):
            return _json({"error": "Invalid side"}, 400)
        return _json({"price": _side_price(self._top(market, is_yes), side)})

    async def last_trade_price(self, request: Request) -> Response:
        market, is_yes = self._token(request.query_params.get("token_id"))
        return _json(self._last_trade(market, is_yes))

    def _last_trade(self, market: SimMarket, is_yes: bool) -> dict[str, str]:
        top = self.md.top_of_book(market)
        ltp = top.last_trade if top is not None else None
        if ltp is None:
            return {"price": "0.5", "side": ""}
        return {"price": decimal_str(ltp if is_yes else ONE - ltp), "side": "BUY"}

    async def midpoints(self, request: Request) -> Response:
        out = {}
        for item in self._batch(await request.body()):
            if (known := self._known(item)) is not None:
                out[known[0]] = decimal_str(self._top(known[1], known[2]).midpoint)
        return _json(out)

    async def spreads(self, request: Request) -> Response:
        out = {}
        for item in self._batch(await request.body()):
            if (known := self._known(item)) is not None:
                out[known[0]] = decimal_str(self._top(known[1], known[2]).spread)
        return _json(out)

    async def prices(self, request: Request) -> Response:
        out: dict[str, dict[str, str]] = {}
        for item in self._batch(await request.body()):
            side = str(item.get("side", "")).upper()
            if (known := self._known(item)) is not None and side in ("BUY", "SELL"):
                top = self._top(known[1], known[2])
                out.setdefault(known[0], {})[side] = _side_price(top, side)
        return _json(out)

    async def last_trades_prices(self, request: Request) -> Response:
        out = []
        for item in self._batch(await request.body()):
            if (known := self._known(item)) is not None:
                out.append({"token_id": known[0], **self._last_trade(known[1], known[2])})
        return _json(out)

    # --- markets -----------------------------------------------------------------------------
    def _condition(self, request: Request) -> SimMarket:
        market = self.venue.state.markets.get(request.path_params["condition_id"])
        if market is None:
            raise _BadRequest(404, {"error": "market not found"})  # GUESS body
        return market

    def _accepting_since(self, market: SimMarket) -> str:
        profile = self.md.profiles.get(market.condition_id)
        start = profile.start_ts if profile else self.venue.state.clock.now()
        return str(market.extra.get("acceptingOrdersTimestamp") or iso_s(start))

    async def market(self, request: Request) -> Response:
        market = self._condition(request)
        since = self._accepting_since(market)
        qid = question_id(market, self.md.profiles.get(market.condition_id))
        return _json(clob_market(market, self.md.yes_price(market), since, qid))

    async def clob_market_info(self, request: Request) -> Response:
        market = self._condition(request)
        return _json(clob_market_info(market, self._accepting_since(market)))

    async def markets_by_token(self, request: Request) -> Response:
        token = request.path_params["token_id"]
        if not token.isdigit():
            return _json(INVALID_TOKEN, 400)
        hit = self.md.market_for_token(token)
        if hit is None:
            return _json({"error": "market not found"}, 404)  # GUESS body
        market = hit[0]
        return _json(
            {
                "condition_id": market.condition_id,
                "primary_token_id": market.yes_token,
                "secondary_token_id": market.no_token,
            }
        )

    async def markets(self, request: Request) -> Response:
        """GET /markets?next_cursor= (CLOB listing; cursor = base64 of an offset)."""
        cursor = request.query_params.get("next_cursor") or "MA=="
        if cursor == _END_CURSOR:
            return _json({"limit": 0, "count": 0, "next_cursor": _END_CURSOR, "data": []})
        try:
            offset = int(base64.b64decode(cursor).decode())
        except ValueError:
            return _json({"error": "invalid next_cursor"}, 400)
        index = self.md.index()
        window = index.markets[offset : offset + 500]
        data = [
            clob_market(
                m,
                self.md.yes_price(m),
                self._accepting_since(m),
                question_id(m, self.md.profiles.get(m.condition_id)),
            )
            for m in window
        ]
        end = offset + len(window)
        following = base64.b64encode(str(end).encode()).decode()
        return _json(
            {
                "limit": 500,
                "count": len(data),
                "next_cursor": following if end < len(index.markets) else _END_CURSOR,
                "data": data,
            }
        )


def _side_price(top: TokenTop, side: str) -> str:
    # Live probe (docs/VENUE.md 2.3): BUY -> best bid, SELL -> best ask. An empty side reads as
    # 0 (bids) / 1 (asks), as the venue does for /midpoint. GUESS for the empty case.
    if side == "BUY":
        return decimal_str(top.bid) if top.bid is not None else "0"
    return decimal_str(top.ask) if top.ask is not None else "1"


def public_routes(venue: SimVenue) -> list[BaseRoute]:
    """The public CLOB routes of ``venue``."""
    p = _Public(venue)
    get, post = ["GET"], ["POST"]
    return [
        Route("/ok", _guarded(p.ok), methods=get),
        Route("/time", _guarded(p.time), methods=get),
        Route("/version", _guarded(p.version), methods=get),
        Route("/book", _guarded(p.book), methods=get),
        Route("/books", _guarded(p.books), methods=post),
        Route("/tick-size", _guarded(p.tick_size), methods=get),
        Route("/neg-risk", _guarded(p.neg_risk), methods=get),
        Route("/fee-rate", _guarded(p.fee_rate), methods=get),
        Route("/midpoint", _guarded(p.midpoint), methods=get),
        Route("/midpoints", _guarded(p.midpoints), methods=post),
        Route("/price", _guarded(p.price), methods=get),
        Route("/prices", _guarded(p.prices), methods=post),
        Route("/spread", _guarded(p.spread), methods=get),
        Route("/spreads", _guarded(p.spreads), methods=post),
        Route("/last-trade-price", _guarded(p.last_trade_price), methods=get),
        Route("/last-trades-prices", _guarded(p.last_trades_prices), methods=post),
        Route("/markets-by-token/{token_id}", _guarded(p.markets_by_token), methods=get),
        Route("/clob-markets/{condition_id}", _guarded(p.clob_market_info), methods=get),
        Route("/markets/{condition_id}", _guarded(p.market), methods=get),
        Route("/markets", _guarded(p.markets), methods=get),
    ]
