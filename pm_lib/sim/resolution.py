"""Resolving markets: ``POST /_sim/markets/{condition_id}/resolve`` with ``{"outcome": "Yes"}``.

What the live venue shows once UMA resolved a market, and so what the emulator serves:

- the market is closed: ``closed: true``, ``acceptingOrders: false``; its books are gone (404
  on ``/book``, left out of ``/books``); every resting order in it is cancelled as
  ``ORDER_STATUS_CANCELED_MARKET_RESOLVED`` (docs/VENUE.md 2.4's status enum);
- Gamma lists ``umaResolutionStatus: "resolved"`` and the final ``outcomePrices`` ("1" for the
  winning outcome, "0" for the other); the CLOB market's ``tokens[].winner`` flags the winner;
- in a neg-risk event exactly one outcome wins: resolving one market "Yes" resolves every
  sibling "No" (a sibling may not already have resolved "Yes").

Wallet positions are not touched: the tokens stay in the wallet until redeemed on chain, through
the emulator's chain side (``pm_lib.sim.chain_calls``: ``redeemPositions`` on a collateral
adapter, by JSON-RPC or the relayer; docs/EMULATOR.md "Chain side").
"""

from __future__ import annotations

from pm_lib.sim.market_admin import AdminError, modify_market
from pm_lib.sim.venue import SimVenue

__all__ = ["resolve_market"]


def resolve_market(venue: SimVenue, condition_id: str, outcome: str) -> list[str]:
    """Resolve ``condition_id`` to ``outcome`` (and, in a neg-risk event, its siblings to the
    other outcome when ``outcome`` is the first one); the condition ids resolved, in order.

    Resolving again to the same outcome changes nothing; to another outcome is refused."""
    state = venue.state
    market = state.markets.get(condition_id)
    if market is None:
        raise AdminError(f"unknown market {condition_id}")
    if outcome not in market.outcomes:
        raise AdminError(f"outcome must be one of {list(market.outcomes)}, not {outcome!r}")
    plan = [(market, outcome)]
    event = state.events.get(market.event_id or "")
    if market.neg_risk and event is not None and outcome == market.outcomes[0]:
        for cond in event.condition_ids:
            sibling = state.markets[cond]
            if cond != condition_id:
                plan.append((sibling, sibling.outcomes[1]))
    with state.lock:
        for m, wins in plan:
            if m.winner is not None and m.winner != wins:
                raise AdminError(f"market {m.condition_id} already resolved {m.winner!r}")
        resolved = []
        for m, wins in plan:
            if m.winner == wins:
                continue
            m.winner = wins
            modify_market(venue.market_data, m.condition_id, {"closed": True})
            venue.exchange.cancel_resolved(m.condition_id)
            resolved.append(m.condition_id)
        return resolved
