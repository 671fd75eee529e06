"""The emulator's WebSocket routes and their fault control (docs/EMULATOR.md).

``/ws/market`` is the market channel (``pm_lib.sim.ws_market``), ``/ws/user`` the user channel
(``pm_lib.sim.ws_user``). ``/_sim/ws-faults``: GET lists what was applied, POST adds a fault
(``{"kind": "drop"|"stall"|"gap"|"storm", "count": n, "seconds": s}``), DELETE clears them.
"""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from pm_lib.sim.venue import SimVenue
from pm_lib.sim.ws_faults import WsFault, WsFaults
from pm_lib.sim.ws_market import MarketFeed
from pm_lib.sim.ws_user import UserFeed

__all__ = ["ws_control_routes", "ws_routes"]


def _feeds(venue: SimVenue) -> tuple[MarketFeed, UserFeed, WsFaults]:
    found = venue.config.extra.get("_ws_feeds")
    if found is None:
        faults = WsFaults()
        found = (MarketFeed(venue, faults), UserFeed(venue, faults), faults)
        venue.config.extra["_ws_feeds"] = found
    return found  # type: ignore[return-value]


def market_feed(venue: SimVenue) -> MarketFeed:
    """The venue's market channel (created on first use)."""
    return _feeds(venue)[0]


def ws_routes(venue: SimVenue) -> list[BaseRoute]:
    market, user, _ = _feeds(venue)

    async def market_channel(ws: WebSocket) -> None:
        await market.serve(ws)

    async def user_channel(ws: WebSocket) -> None:
        await user.serve(ws)

    return [WebSocketRoute("/ws/market", market_channel), WebSocketRoute("/ws/user", user_channel)]


def ws_control_routes(venue: SimVenue) -> list[BaseRoute]:
    _, _, faults = _feeds(venue)

    async def ws_faults(request: Request) -> Response:
        if request.method == "DELETE":
            faults.clear()
        elif request.method == "POST":
            try:
                body = orjson.loads(await request.body() or b"{}")
                faults.add(
                    WsFault(
                        kind=str(body.get("kind", "")),
                        count=None if body.get("count") is None else int(body["count"]),
                        seconds=float(body.get("seconds", 0)),
                    )
                )
            except (ValueError, TypeError, AttributeError, orjson.JSONDecodeError) as e:
                return Response(orjson.dumps({"error": str(e)}), 400, media_type="application/json")
        return Response(
            orjson.dumps({"applied": faults.applied, "pending": len(faults.pending)}),
            media_type="application/json",
        )

    return [Route("/ws-faults", ws_faults, methods=["GET", "POST", "DELETE"])]
