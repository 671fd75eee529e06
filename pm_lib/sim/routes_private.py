"""Emulator routes: private side (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from pm_lib.sim.venue import SimVenue

__all__ = ["private_routes"]


def private_routes(venue: SimVenue) -> list[BaseRoute]:
    """The private routes of ``venue``."""
    return []
