"""Tick-size changes inside a run (issue 16.7).

The venue moves a market to tick 0.001 once its price passes 0.96 (or drops under 0.04); the SDK
caches a token's tick per client, so without care every later order of the run on that token
is refused ("invalid tick size (0.001), minimum for the market is 0.01"). An order priced on a
grid the market no longer has is refused once, with the venue's reason, never retried.

The binary market's YES book is set to bids 0.95 x 100, asks 0.97 x 100 (tick 0.01).
"""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import Engine

from pm_lib.execution.live import LiveExecutor
from pm_lib.models import OrderRequest, OrderStatus, OrderType, Side
from pm_lib.sim.server import RunningVenue
from tests.execution.builders import request
from tests.execution.emulator import COND, FEES, YES, control


def buy_yes(key: str, size: str, price: str, kind: OrderType, tick: str) -> OrderRequest:
    order = request(key, Side.BUY, size, price, kind, token=YES, condition=COND, fees=FEES)
    return order.model_copy(update={"tick_size": Decimal(tick)})


def venue_tick(running: RunningVenue) -> str:
    answer = httpx.get(f"{running.clob_url}/tick-size", params={"token_id": YES}, timeout=5)
    return str(answer.json()["minimum_tick_size"])


def posts(running: RunningVenue) -> int:
    stats = control(running, "GET", "/stats")
    return sum(n for name, n in stats["requests"].items() if name == "POST /order")


def near_the_top(running: RunningVenue) -> None:
    book = {"token_id": YES, "bids": [["0.95", "100"]], "asks": [["0.97", "100"]]}
    control(running, "POST", "/book", book)


def test_a_trade_past_096_moves_the_market_to_tick_0001_and_later_orders_go_through(
    live: LiveExecutor, running: RunningVenue
) -> None:
    near_the_top(running)
    [first] = live.place([buy_yes("r1:o:0", "10", "0.97", OrderType.FOK, "0.01")])
    assert first.status is OrderStatus.MATCHED  # the SDK has now cached tick 0.01
    assert venue_tick(running) == "0.001"  # traded at 0.97: the venue changed the tick
    book = httpx.get(f"{running.clob_url}/book", params={"token_id": YES}, timeout=5).json()
    assert book["tick_size"] == "0.001"
    [later] = live.place([buy_yes("r1:o:1", "10", "0.955", OrderType.GTC, "0.001")])
    assert later.status is OrderStatus.LIVE, later.error
    [again] = live.place([buy_yes("r1:o:2", "10", "0.956", OrderType.GTC, "0.001")])
    assert again.status is OrderStatus.LIVE, again.error


def test_an_order_priced_on_a_grid_the_market_left_is_refused_once_with_the_reason(
    live: LiveExecutor, running: RunningVenue, engine: Engine
) -> None:
    control(running, "PATCH", f"/markets/{COND}", {"tick_size": "0.001"})
    [fine] = live.place([buy_yes("r1:o:0", "10", "0.455", OrderType.GTC, "0.001")])
    assert fine.status is OrderStatus.LIVE  # the SDK has now cached tick 0.001
    control(running, "PATCH", f"/markets/{COND}", {"tick_size": "0.01"})
    before = posts(running)
    [stale] = live.place([buy_yes("r1:o:1", "10", "0.465", OrderType.GTC, "0.001")])
    assert stale.status is OrderStatus.REJECTED
    assert stale.error is not None and "tick size" in stale.error
    assert posts(running) == before + 1  # sent once, refused by the venue, not retried
    # The SDK now knows the tick is 0.01: another off-grid price is refused before sending.
    [unsent] = live.place([buy_yes("r1:o:2", "10", "0.475", OrderType.GTC, "0.001")])
    assert unsent.status is OrderStatus.REJECTED
    assert unsent.error is not None and "0.01" in unsent.error and "not sent" in unsent.error
    assert posts(running) == before + 1
    # Priced for 0.001 but on the 0.01 grid: valid at the venue, so it goes through.
    [on_grid] = live.place([buy_yes("r1:o:3", "10", "0.46", OrderType.GTC, "0.001")])
    assert on_grid.status is OrderStatus.LIVE, on_grid.error
    [right] = live.place([buy_yes("r1:o:4", "10", "0.47", OrderType.GTC, "0.01")])
    assert right.status is OrderStatus.LIVE, right.error
