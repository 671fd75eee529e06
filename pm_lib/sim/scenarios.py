"""Scripted market situations for tests and demos, set through the control path (set_book).

The generated universe mispries neg-risk baskets at random (seeded) moments, as the live venue
does; a test that must see a trade plants one instead, so it never depends on timing.
"""

from __future__ import annotations

from decimal import Decimal

from pm_lib.sim.market_admin import set_book
from pm_lib.sim.state import SimEvent
from pm_lib.sim.venue import SimVenue

__all__ = ["complete_negrisk_events", "dip_ask", "plant_negrisk_arbitrage"]


def complete_negrisk_events(venue: SimVenue) -> list[SimEvent]:
    """Neg-risk events whose every leg is listed, open and accepting orders (not augmented)."""
    state = venue.state
    out = []
    for event in state.events.values():
        if not event.neg_risk or event.neg_risk_augmented or event.closed:
            continue
        legs = [state.markets.get(c) for c in event.condition_ids]
        if len(legs) >= 2 and all(
            m is not None and m.active and not m.closed and m.accepting_orders for m in legs
        ):
            out.append(event)
    return sorted(out, key=lambda e: e.event_id)


def dip_ask(share: Decimal, tick: Decimal) -> Decimal:
    """A planted leg's ask: ``share`` rounded down to ``tick``, at least two ticks."""
    return max(tick * 2, (share / tick).to_integral_value(rounding="ROUND_FLOOR") * tick)


def plant_negrisk_arbitrage(
    venue: SimVenue,
    *,
    total_ask: Decimal = Decimal("0.90"),
    size: Decimal = Decimal(200),
    event: SimEvent | None = None,
) -> SimEvent:
    """Set every YES book of one complete neg-risk event so the best asks sum to ``total_ask``.

    Each leg gets an ask of ``total_ask / n`` rounded down to its tick (at least two ticks) for
    ``size`` shares and a bid one tick lower, so the asks sum to at most ``total_ask`` (plus two
    ticks a leg on huge events). Returns the event it used.
    """
    target = event or complete_negrisk_events(venue)[0]
    markets = [venue.state.markets[c] for c in target.condition_ids]
    share = total_ask / len(markets)
    for market in markets:
        tick = market.tick_size
        ask = dip_ask(share, tick)
        set_book(
            venue.market_data,
            market.yes_token,
            bids=[[str(ask - tick), str(size)]],
            asks=[[str(ask), str(size)]],
        )
    return target
