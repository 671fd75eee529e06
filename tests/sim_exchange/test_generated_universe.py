"""The exchange on a generated universe, whose background books evolve with the venue clock."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgs, OrderType, PartialCreateOrderOptions

from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimMarket
from pm_lib.sim.venue import SimConfig, SimVenue
from tests.sim_exchange.emulated_venue import authed_client

SIZE = 20  # whole tens keep a FOK's pUSD amount at 2 decimals for every tick size


@pytest.fixture
def generated() -> Iterator[RunningVenue]:
    with running_venue(SimVenue(SimConfig(markets=12, seed=7))) as r:
        yield r


def _tradable(venue: SimVenue) -> SimMarket:
    """The first market whose best YES ask holds SIZE shares worth at least $1."""
    for cond, market in venue.state.markets.items():
        _, asks = venue.state.ladders[cond].token_levels(True)
        if market.accepting_orders and asks and asks[0][1] >= SIZE and asks[0][0] * SIZE >= 1:
            return market
    raise AssertionError("no tradable market in the generated universe")


def _options(market: SimMarket) -> PartialCreateOrderOptions:
    return PartialCreateOrderOptions(tick_size=str(market.tick_size), neg_risk=market.neg_risk)


def _best(client: ClobClient, token: str, side: str) -> Decimal:
    levels = client.get_order_book(token)["asks" if side == "ask" else "bids"]
    prices = [Decimal(level["price"]) for level in levels]
    return min(prices) if side == "ask" else max(prices)


def test_marketable_buy_fills_at_the_best_ask(generated: RunningVenue) -> None:
    market = _tradable(generated.venue)
    client = authed_client(generated)
    ask = _best(client, market.yes_token, "ask")

    response = client.create_and_post_order(
        OrderArgs(token_id=market.yes_token, price=float(ask), size=SIZE, side="BUY"),
        _options(market),
        order_type=OrderType.FOK,
    )

    assert response["status"] == "matched"
    assert client.get_trades()[0]["price"] == format(ask.normalize(), "f")


def test_resting_order_survives_the_background_moving(generated: RunningVenue) -> None:
    venue = generated.venue
    market = _tradable(venue)
    client = authed_client(generated)
    bid = _best(client, market.yes_token, "bid")
    order_id = client.create_and_post_order(
        OrderArgs(token_id=market.yes_token, price=float(bid), size=SIZE, side="BUY"),
        _options(market),
    )["orderID"]

    venue.state.clock.advance(2 * venue.config.book_epoch_seconds + 1)
    book = client.get_order_book(market.yes_token)

    assert client.get_order(order_id)["status"] == "ORDER_STATUS_LIVE"
    ours = [Decimal(lv["size"]) for lv in book["bids"] if Decimal(lv["price"]) == bid]
    assert ours and ours[0] >= SIZE
    assert all(Decimal(lv["price"]) > bid for lv in book["asks"])
