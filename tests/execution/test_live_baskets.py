"""Baskets on the emulator: a neg-risk arbitrage end to end, and lopsided baskets unwound.

Neg-risk event (tests/execution/emulator.py): YES asks 0.30, 0.31, 0.32 (x 50 each), YES bids
0.28 x 50 each; taker fee rate 0.04. The wallet starts with 10,000 pUSD.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import Catalogue, OrderStatus, PortfolioState
from pm_lib.portfolio.ledger import replay
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import (
    fills,
    intents_for_run,
    leg_risks_for_run,
    save_catalogue,
    session_scope,
)
from pm_lib.strategy.base import StrategyParams
from pm_lib.strategy.negrisk import NegRiskArbitrage
from pm_lib.venue.trading import SignedOrder, TradingClient
from pm_lib.venue.wire import PostOrderAck, normalise_order_status
from tests.execution.builders import NOW, basket
from tests.execution.conftest import connected
from tests.execution.emulator import (
    MARKETS,
    NEG_RISK,
    NEG_RISK_EVENT,
    control,
    fetch,
    venue_orders,
    venue_trades,
    venue_wallet,
)

START = Decimal("10000")
YES_TOKENS = [yes for _, yes, _ in NEG_RISK]


def test_negrisk_arbitrage_trades_end_to_end_and_the_venue_matches_the_db(
    live: LiveExecutor,
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    now = datetime.now(UTC)
    books = fetch(live_settings, YES_TOKENS)
    catalogue = Catalogue(
        markets=tuple(MARKETS[c] for c, _, _ in NEG_RISK),
        events=(NEG_RISK_EVENT,),
        fetched_at=now,
    )
    found = NegRiskArbitrage(StrategyParams.from_settings(live_settings)).find(
        catalogue, books, PortfolioState(as_of=now), now
    )
    [opportunity] = found.opportunities
    outcome = execute_opportunity(
        live, opportunity, MARKETS, books, settings=live_settings, engine=engine, run_id="r1"
    )
    assert outcome.complete and [r.status for r in outcome.results] == [OrderStatus.MATCHED] * 3

    report = reconcile(live, engine)
    assert report.clean, report.discrepancies

    address = credentials.address
    with session_scope(engine) as session:
        intents = intents_for_run(session, "r1")
        stored = fills(session, "live")
    at_venue = venue_orders(running, address)
    assert {o["id"] for o in at_venue} == {i.venue_order_id for i in intents}
    assert {normalise_order_status(o["status"]) for o in at_venue} == {OrderStatus.MATCHED}
    assert {t["id"] for t in venue_trades(running, address)} == {f.trade_id for f in stored}
    ledger = replay(stored)
    wallet = venue_wallet(running, address)
    assert Decimal(wallet["pusd"]) / 1_000_000 == START + ledger.cash_delta == report.balance
    for token in YES_TOKENS:
        assert Decimal(wallet["positions"][token]) / 1_000_000 == ledger.positions[token].size
    size = opportunity.legs[0].size
    assert ledger.cash_delta == -(opportunity.cost + opportunity.fees)
    assert all(ledger.positions[t].size == size for t in YES_TOKENS)


@pytest.mark.parametrize(
    ("policy", "risk_status", "yes_held"),
    [("sell_back", "unwound", Decimal(0)), ("hold", "held", Decimal(10))],
)
def test_a_leg_failing_after_another_filled_applies_the_unwind_policy(
    policy: str,
    risk_status: str,
    yes_held: Decimal,
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    settings = live_settings.model_copy(update={"unwind_policy": policy})
    executor = connected(settings, engine, credentials)
    (c1, y1, _), (c2, y2, _), _ = NEG_RISK
    lopsided = basket("opp-lop", (y1, c1, "10", "0.30"), (y2, c2, "10", "0.29"))  # ask is 0.31
    outcome = execute_opportunity(
        executor, lopsided, MARKETS, {}, settings=settings, engine=engine, run_id="r1"
    )
    with session_scope(engine) as session:
        [risk] = leg_risks_for_run(session, "r1")
    assert (risk.intent_key, risk.policy, risk.status) == ("r1:opp-lop:0", policy, risk_status)
    assert [r.status for r in outcome.results[:2]] == [OrderStatus.MATCHED, OrderStatus.REJECTED]
    report = reconcile(executor, engine, settings=settings)
    executor.close()
    if policy == "hold":  # a held basket stays incomplete: reported until an operator acts
        assert any("opp-lop" in d and "held" in d for d in report.discrepancies)
    else:
        assert report.clean, report.discrepancies
    wallet = venue_wallet(running, credentials.address)
    assert Decimal(wallet["positions"].get(y1, "0")) / 1_000_000 == yes_held


def test_a_leg_with_an_unknown_outcome_leaves_the_basket_open_for_reconcile(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    posts: list[str] = []

    class FaultOnSecondLeg(TradingClient):
        def post(self, signed: SignedOrder) -> PostOrderAck:
            posts.append(signed.request.intent_key)
            if len(posts) == 2:  # the venue answers 503 without taking the second leg
                control(
                    running,
                    "POST",
                    "/faults",
                    {"kind": "error", "path": "/order", "status": 503, "count": 1},
                )
            return super().post(signed)

    executor = connected(live_settings, engine, credentials, FaultOnSecondLeg)
    (c1, y1, _), (c2, y2, _), _ = NEG_RISK
    both = basket("opp-unk", (y1, c1, "10", "0.30"), (y2, c2, "10", "0.31"))
    outcome = execute_opportunity(
        executor, both, MARKETS, {}, settings=live_settings, engine=engine, run_id="r1"
    )
    executor.close()
    assert [r.status for r in outcome.results] == [OrderStatus.MATCHED, OrderStatus.UNKNOWN]
    with session_scope(engine) as session:
        risks = leg_risks_for_run(session, "r1")
    assert [(r.intent_key, r.status) for r in risks] == [
        ("r1:opp-unk:0", "open"),
        ("r1:opp-unk:1", "open"),
    ]
    assert len(venue_orders(running, credentials.address)) == 1  # nothing unwound, no resend

    # Reconcile decides: the second leg never reached the venue, so the first is sold back.
    with session_scope(engine) as session:
        save_catalogue(session, Catalogue(markets=tuple(MARKETS.values()), fetched_at=NOW))
    later = connected(live_settings, engine, credentials, run_id="r2", unknown_grace=timedelta(0))
    report = reconcile(later, engine, settings=live_settings)
    later.close()
    with session_scope(engine) as session:
        risks = leg_risks_for_run(session, "r1")
    assert [(r.intent_key, r.status) for r in risks] == [
        ("r1:opp-unk:0", "unwound"),
        ("r1:opp-unk:1", "unwound"),
    ]
    assert any("opp-unk" in d and "incomplete" in d for d in report.discrepancies)
    assert not any(int(u) for u in venue_wallet(running, credentials.address)["positions"].values())
