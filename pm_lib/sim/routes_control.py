"""Emulator routes: control side (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from pm_lib.sim.venue import SimVenue

__all__ = ["control_routes"]


def control_routes(venue: SimVenue) -> list[BaseRoute]:
    """The control routes of ``venue``."""
    return []
