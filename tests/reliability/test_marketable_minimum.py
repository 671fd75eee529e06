"""Issue 16.5: a basket whose middle leg the venue would refuse is refused whole, before signing.

The venue's $1 minimum for marketable orders is on what the order executes along the book, not
on ``size x limit``. One neg-risk event on the emulator is priced so that a 20-share basket's
middle leg, FOK BUY 20 @ 0.06, signs 1.20 pUSD but executes 18 @ 0.03 + 2 @ 0.06 = 0.66 pUSD: the
emulator refuses it, as the venue does, while the other legs would fill. A live run (the real
SDK) must send no leg of that basket: the strategy does not propose it, and the risk gate, which
walks its own books, refuses a basket that a strategy would propose with its limit as its VWAP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import pytest

from pm_lib.models import Catalogue, Leg, Opportunity, OrderBook, OrderType, Side
from pm_lib.pipeline.decisions import Signals, find_signals, portfolio_state, risk_decisions
from pm_lib.pipeline.market_data import load_books, load_market_catalogue
from pm_lib.pipeline.trading import execute_approved
from pm_lib.settings import Settings
from pm_lib.sim.market_admin import set_book
from pm_lib.sim.scenarios import complete_negrisk_events
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import SimEvent
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import make_engine, upgrade
from pm_lib.venue.http import open_venue_client
from tests.reliability.scan import open_context

KEY = "0x" + "45" * 32  # a throw-away test key, never funded anywhere real
SIZE = Decimal(20)
MIDDLE = (("0.03", "18"), ("0.06", "100"))  # 20 shares walk 0.66 pUSD, size x limit 1.20


@dataclass(frozen=True)
class Priced:
    running: RunningVenue
    event: SimEvent
    middle: str  # the condition id of the leg under $1


@pytest.fixture
def priced() -> Iterator[Priced]:
    venue = SimVenue(
        SimConfig(seed=5, markets=120, enforce_rate_limits=False, book_epoch_seconds=0)
    )
    event = min(
        (e for e in complete_negrisk_events(venue) if len(e.condition_ids) <= 17),
        key=lambda e: len(e.condition_ids),
    )
    middle = event.condition_ids[len(event.condition_ids) // 2]
    others = len(event.condition_ids) - 1
    for condition in event.condition_ids:
        market = venue.state.markets[condition]
        tick = market.tick_size
        if condition == middle:
            asks = [list(level) for level in MIDDLE]
        else:  # the others' asks sum to at most 0.80, 20 shares each, each worth at least $1
            share = (Decimal("0.80") / others / tick).to_integral_value(rounding=ROUND_FLOOR)
            price = max(Decimal("0.05"), share * tick)
            asks = [[str(price), str(SIZE)]]
        set_book(venue.market_data, market.yes_token, bids=[["0.01", "100"]], asks=asks)
    with running_venue(venue) as running:
        yield Priced(running, event, middle)


def live_settings(priced: Priced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", KEY)
    url = f"sqlite:///{tmp_path / 'pm.db'}"
    upgrade(make_engine(url))
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        mode="live",
        clob_url=priced.running.clob_url,
        gamma_url=priced.running.gamma_url,
        database_url=url,
        data_dir=str(tmp_path),
        strategies=("negrisk_arbitrage",),
    )


def basket_at_limits(priced: Priced, books: dict[str, OrderBook], now: datetime) -> Opportunity:
    """The 10-share basket as a strategy reporting each limit as its VWAP would propose it."""
    state = priced.running.venue.state
    legs = []
    for condition in priced.event.condition_ids:
        token = state.markets[condition].yes_token
        limit = (
            books[token].asks[-1].price
            if condition == priced.middle
            else books[token].asks[0].price
        )
        legs.append(
            Leg(
                token_id=token,
                condition_id=condition,
                side=Side.BUY,
                size=SIZE,
                limit_price=limit,
                expected_vwap=limit,
                order_type=OrderType.FOK,
            )
        )
    cost = sum((leg.size * leg.limit_price for leg in legs), Decimal(0))
    return Opportunity(
        id="basket-at-limits",
        strategy="negrisk_arbitrage",
        market=str(priced.event.neg_risk_market_id),
        legs=tuple(legs),
        edge=SIZE - cost,
        cost=cost,
        fees=Decimal(0),
        payout=SIZE,
        reason="the basket a strategy that reports its limits as VWAPs proposes",
        created_at=now,
    )


def test_no_leg_of_a_basket_with_a_leg_under_a_dollar_reaches_the_venue(
    priced: Priced, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = live_settings(priced, tmp_path, monkeypatch)
    ctx = open_context(settings, make_engine(settings.resolved_database_url), live=True)

    async def market_data() -> tuple[Catalogue, dict[str, OrderBook]]:
        async with open_venue_client(ctx.settings) as client:
            loaded = await load_market_catalogue(ctx, client)
            books = await load_books(ctx, client, loaded.catalogue)
        return loaded.catalogue, dict(books.books)

    catalogue, books = asyncio.run(market_data())
    portfolio = portfolio_state(ctx, books, catalogue)
    legs = set(priced.event.condition_ids)

    # the strategy does not propose it
    found = find_signals(ctx, catalogue, books, portfolio)
    assert not any({leg.condition_id for leg in o.legs} & legs for o in found.opportunities)
    (reason,) = [s.reason for s in found.skipped if s.ident == priced.event.event_id]
    assert "a leg spends 0.66 pUSD along its book (size x limit 1.2" in reason

    # the gate refuses the basket whole when a strategy does propose it
    basket = basket_at_limits(priced, books, datetime.now(UTC))
    decided = risk_decisions(ctx, catalogue, books, portfolio, Signals(opportunities=(basket,)))
    (decision,) = decided.decisions
    assert (decision.approved, decision.rule) == (False, "venue_rules")
    assert "executes 0.66 pUSD along the book (size x limit 1.2" in decision.reason
    execution = execute_approved(ctx, catalogue, books, decided)
    assert execution.results == ()
    assert priced.running.venue.exchange.orders == {}  # no leg was sent
