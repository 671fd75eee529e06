"""Emulator control routes for the exchange side (wallets, orders, trades) (being built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from pm_lib.sim.venue import SimVenue

__all__ = ["exchange_control_routes"]


def exchange_control_routes(venue: SimVenue) -> list[BaseRoute]:
    """Control routes (under ``/_sim``) that fund wallets and inspect orders, trades, balances."""
    return []
