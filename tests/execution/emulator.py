"""A hand-built emulated venue for the live executor tests, and helpers to inspect it.

Markets (tick 0.01, min size 5, taker fee rate 0.04 exponent 1 everywhere):

- binary ``COND``: YES bids 0.50 x 100, 0.49 x 200; YES asks 0.55 x 100, 0.56 x 200
  (so NO asks 0.50 x 100, 0.51 x 200 and NO bids 0.45 x 100, 0.44 x 200);
- neg-risk event ``EVENT`` with three outcomes whose YES asks are 0.30, 0.31, 0.32 (x 50 each):
  the basket of one YES each costs 0.93 < 1, an arbitrage. YES bids 0.28 x 50 on each.

The real SDK talks to it over HTTP (``pm_lib.sim.server.running_venue``); the ``/_sim`` control
API is used to look at wallets, orders and trades, to inject faults and to move the clock.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from pm_lib.models import Event, FeeSchedule, Market, OrderBook, Outcome
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.sim.state import Ladder, RestingOrder, SimEvent, SimMarket, VenueState
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.venue.books import fetch_books

KEY = "0x" + "33" * 32  # a well-known test key, never funded anywhere real
FEES = FeeSchedule(rate=Decimal("0.04"), exponent=1)
COND = "0x" + "c1" * 32


def token(name: str) -> str:
    """A CTF-like 256-bit token id (decimal). Small ids would not do: the unified SDK reads an
    id whose bits 40-103 are all zero as a protocol-v2 position id and signs it for another
    exchange (``polymarket._internal.protocol.is_v2_position_id``)."""
    return str(int.from_bytes(hashlib.sha256(f"pm-agent-test/{name}".encode()).digest(), "big"))


YES, NO = token("9001"), token("9002")
EVENT = "ev-77"
GROUP = "0x" + "e7" * 32
NEG_RISK = [("0x" + f"d{i}" * 32, token(f"91{i}1"), token(f"91{i}2")) for i in (1, 2, 3)]
NEG_RISK_ASKS = ("0.30", "0.31", "0.32")


def _queue(order_id: str, yes_side: str, price: str, size: str) -> deque[RestingOrder]:
    return deque(
        [
            RestingOrder(
                order_id, yes_side=yes_side, yes_price=Decimal(price), remaining=Decimal(size)
            )
        ]
    )


def _ladder(name: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> Ladder:
    return Ladder(
        bids={Decimal(p): _queue(f"bg-{name}-b{p}", "BUY", p, s) for p, s in bids},
        asks={Decimal(p): _queue(f"bg-{name}-a{p}", "SELL", p, s) for p, s in asks},
    )


def _sim_market(condition: str, yes: str, no: str, **extra: Any) -> SimMarket:
    return SimMarket(
        condition_id=condition,
        market_id=condition[-4:],
        question=f"Outcome {condition[-4:]}?",
        slug=f"outcome-{condition[-4:]}",
        outcomes=("Yes", "No"),
        token_ids=(yes, no),
        tick_size=Decimal("0.01"),
        fees_enabled=True,
        fee_type="politics_fees",
        fee_rate=FEES.rate,
        fee_exponent=FEES.exponent,
        **extra,
    )


def make_venue(**config: Any) -> SimVenue:
    """The venue described in the module docstring (static books, no rate limits)."""
    state = VenueState()
    state.add_market(
        _sim_market(COND, YES, NO),
        _ladder("bin", [("0.50", "100"), ("0.49", "200")], [("0.55", "100"), ("0.56", "200")]),
    )
    for (condition, yes, no), ask in zip(NEG_RISK, NEG_RISK_ASKS, strict=True):
        state.add_market(
            _sim_market(
                condition, yes, no, neg_risk=True, neg_risk_market_id=GROUP, event_id=EVENT
            ),
            _ladder(condition[-4:], [("0.28", "50")], [(ask, "50")]),
        )
    state.events[EVENT] = SimEvent(
        event_id=EVENT,
        title="Who wins?",
        slug="who-wins",
        neg_risk=True,
        neg_risk_market_id=GROUP,
        condition_ids=[c for c, _, _ in NEG_RISK],
    )
    settings = {"enforce_rate_limits": False, **config}
    return SimVenue(SimConfig(**settings), state=state)


def market(condition: str, yes: str, no: str, *, neg_risk: bool = False) -> Market:
    """The domain market the emulator lists for ``condition``."""
    return Market(
        condition_id=condition,
        market_id=condition[-4:],
        question=f"Outcome {condition[-4:]}?",
        slug=f"outcome-{condition[-4:]}",
        outcomes=(Outcome(name="Yes", token_id=yes), Outcome(name="No", token_id=no)),
        neg_risk=neg_risk,
        neg_risk_market_id=GROUP if neg_risk else None,
        event_id=EVENT if neg_risk else None,
        tick_size=Decimal("0.01"),
        min_order_size=Decimal("5"),
        fees=FEES,
    )


MARKETS = {COND: market(COND, YES, NO)} | {
    c: market(c, y, n, neg_risk=True) for c, y, n in NEG_RISK
}
NEG_RISK_EVENT = Event(
    event_id=EVENT,
    title="Who wins?",
    slug="who-wins",
    neg_risk=True,
    neg_risk_market_id=GROUP,
    market_condition_ids=tuple(c for c, _, _ in NEG_RISK),
)


def control(running: RunningVenue, method: str, path: str, body: Any = None) -> Any:
    """Call the emulator's ``/_sim`` control API (never faulted, no auth)."""
    response = httpx.request(method, f"{running.clob_url}/_sim{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def venue_orders(running: RunningVenue, address: str) -> list[dict[str, Any]]:
    """Every order record of ``address`` at the venue (all statuses)."""
    return list(control(running, "GET", f"/orders?address={address}"))


def venue_trades(running: RunningVenue, address: str) -> list[dict[str, Any]]:
    """Every trade involving ``address`` at the venue."""
    return list(control(running, "GET", f"/trades?address={address}"))


def venue_wallet(running: RunningVenue, address: str) -> dict[str, Any]:
    """Balances (base units), positions, orders and trades of ``address``."""
    return dict(control(running, "GET", f"/wallets/{address}"))


def fetch(settings: Settings, token_ids: Sequence[str]) -> dict[str, OrderBook]:
    """The current books of ``token_ids`` from the emulator (POST /books, pm-agent's fetcher)."""

    async def go() -> dict[str, OrderBook]:
        async with httpx.AsyncClient(timeout=10) as client:
            batch = await fetch_books(client, settings, token_ids, datetime.now(UTC))
        return batch.books

    return asyncio.run(go())
