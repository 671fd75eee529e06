"""Emulator routes: gamma side (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from pm_lib.sim.venue import SimVenue

__all__ = ["gamma_routes"]


def gamma_routes(venue: SimVenue) -> list[BaseRoute]:
    """The gamma routes of ``venue``."""
    return []
