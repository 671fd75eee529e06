"""Accounts, orders, matching and trade lifecycle of the emulated venue (being built)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pm_lib.sim.state import VenueState

if TYPE_CHECKING:
    from pm_lib.sim.venue import SimConfig

__all__ = ["Exchange"]


class Exchange:
    """The trading side of the venue."""

    def __init__(self, state: VenueState, config: SimConfig) -> None:
        self.state = state
        self.config = config
