"""Emulator routes: public side (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from pm_lib.sim.venue import SimVenue

__all__ = ["public_routes"]


def public_routes(venue: SimVenue) -> list[BaseRoute]:
    """The public routes of ``venue``."""
    return []
