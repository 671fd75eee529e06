"""The emulator's ASGI app: CLOB at the root, Gamma under ``/gamma``, control under ``/_sim``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from pm_lib.sim.routes_control import control_routes
from pm_lib.sim.routes_exchange_control import exchange_control_routes
from pm_lib.sim.routes_gamma import gamma_routes
from pm_lib.sim.routes_private import private_routes
from pm_lib.sim.routes_public import public_routes
from pm_lib.sim.venue import SimVenue

__all__ = ["create_app"]


def create_app(venue: SimVenue) -> Starlette:
    """Build the app serving ``venue``: one port for both CLOB and Gamma, as documented."""
    routes: list[BaseRoute] = [
        Mount("/gamma", routes=gamma_routes(venue)),
        Mount("/_sim", routes=[*control_routes(venue), *exchange_control_routes(venue)]),
        *public_routes(venue),
        *private_routes(venue),
    ]
    app = Starlette(routes=routes)
    app.state.venue = venue
    return app
