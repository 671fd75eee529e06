"""The emulator's ASGI app: CLOB at the root, Gamma under ``/gamma``, control under ``/_sim``,
the chain's JSON-RPC at ``/rpc`` and the relayer under ``/relayer``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount

from pm_lib.sim.faults import FaultMiddleware
from pm_lib.sim.limits import TrafficMiddleware
from pm_lib.sim.routes_chain import chain_control_routes, chain_routes
from pm_lib.sim.routes_control import control_routes
from pm_lib.sim.routes_exchange_control import exchange_control_routes
from pm_lib.sim.routes_gamma import gamma_routes
from pm_lib.sim.routes_private import private_routes
from pm_lib.sim.routes_public import public_routes
from pm_lib.sim.routes_ws import ws_control_routes, ws_routes
from pm_lib.sim.venue import SimVenue

__all__ = ["create_app"]


def create_app(venue: SimVenue) -> Starlette:
    """Build the app serving ``venue``: one port for both CLOB and Gamma, as documented."""
    routes: list[BaseRoute] = [
        Mount("/gamma", routes=gamma_routes(venue)),
        Mount(
            "/_sim",
            routes=[
                *control_routes(venue),
                *exchange_control_routes(venue),
                *ws_control_routes(venue),
                *chain_control_routes(venue),
            ],
        ),
        *chain_routes(venue),
        *ws_routes(venue),
        *public_routes(venue),
        *private_routes(venue),
    ]
    # Outermost first: rate limits and stats (as Cloudflare sits in front), then faults.
    middleware = [
        Middleware(TrafficMiddleware, limiter=venue.limiter, stats=venue.stats),
        Middleware(FaultMiddleware, plan=venue.faults),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.venue = venue
    return app
