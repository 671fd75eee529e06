"""Baskets posted together (``PM_BASKET_POSTING=batch``): one POST /orders, the single-order
guarantees leg by leg (intent stored before signing, signed once, hash stored before the post,
an ambiguous answer resolved by looking each leg up, never by posting again).

Neg-risk event (tests/execution/emulator.py): YES asks 0.30, 0.31, 0.32 (x 50 each).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.errors import VenueError
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.models import OrderStatus
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import halt, intents_for_run, leg_risks_for_run, session_scope
from pm_lib.venue.trading import SignedOrder, TradingClient
from pm_lib.venue.wire import PostOrderAck
from tests.execution.builders import basket
from tests.execution.conftest import connected
from tests.execution.emulator import MARKETS, NEG_RISK, control, venue_orders

(C1, Y1, _), (C2, Y2, _), (C3, Y3, _) = NEG_RISK
SENT: list[str] = []


class CountingClient(TradingClient):
    """The real adapter, noting each POST it makes."""

    def post(self, signed: SignedOrder) -> PostOrderAck:
        SENT.append(f"order {signed.request.intent_key}")
        return super().post(signed)

    def post_many(self, signed: Sequence[SignedOrder]) -> list[PostOrderAck | VenueError]:
        SENT.append("orders " + ",".join(s.request.intent_key for s in signed))
        return super().post_many(signed)


@pytest.fixture
def batch_settings(live_settings: Settings) -> Settings:
    SENT.clear()
    return live_settings.model_copy(update={"basket_posting": "batch"})


def _place(settings: Settings, engine: Engine, credentials: Credentials, *legs: Any) -> Any:
    executor = connected(settings, engine, credentials, CountingClient)
    try:
        return execute_opportunity(
            executor,
            basket("opp-b", *legs),
            MARKETS,
            {},
            settings=settings,
            engine=engine,
            run_id="r1",
        )
    finally:
        executor.close()


def test_a_basket_goes_in_one_post_and_fills_whole(
    batch_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    outcome = _place(
        batch_settings,
        engine,
        credentials,
        (Y1, C1, "10", "0.30"),
        (Y2, C2, "10", "0.31"),
        (Y3, C3, "10", "0.32"),
    )
    assert outcome.complete
    assert SENT == ["orders r1:opp-b:0,r1:opp-b:1,r1:opp-b:2"]
    with session_scope(engine) as session:
        intents = intents_for_run(session, "r1")
    assert {i.status for i in intents} == {OrderStatus.MATCHED}
    placed = venue_orders(running, credentials.address)
    assert {o["id"] for o in placed} == {i.venue_order_id for i in intents}


@pytest.mark.parametrize("kind", ["response_lost", "malformed"])
def test_a_lost_batch_answer_resolves_each_leg_by_lookup_and_never_posts_again(
    kind: str,
    batch_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    control(running, "POST", "/faults", {"kind": kind, "path": "/orders", "count": 1})
    outcome = _place(
        batch_settings,
        engine,
        credentials,
        (Y1, C1, "10", "0.30"),
        (Y2, C2, "10", "0.31"),
        (Y3, C3, "10", "0.32"),
    )
    assert len(SENT) == 1 and SENT[0].startswith("orders ")  # one post, no resend
    assert [r.status for r in outcome.results] == [OrderStatus.MATCHED] * 3  # by lookup
    assert len(venue_orders(running, credentials.address)) == 3
    with session_scope(engine) as session:
        assert {i.status for i in intents_for_run(session, "r1")} == {OrderStatus.MATCHED}


def test_a_batch_the_venue_never_took_stays_unknown_and_is_not_resent(
    batch_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    control(running, "POST", "/faults", {"kind": "error", "path": "/orders", "status": 503})
    outcome = _place(
        batch_settings, engine, credentials, (Y1, C1, "10", "0.30"), (Y2, C2, "10", "0.31")
    )
    assert len(SENT) == 1
    assert [r.status for r in outcome.results] == [OrderStatus.UNKNOWN] * 2  # within the grace
    assert venue_orders(running, credentials.address) == []
    with session_scope(engine) as session:
        intents = intents_for_run(session, "r1")
        risks = leg_risks_for_run(session, "r1")
    assert all(i.venue_order_id for i in intents)  # hashes stored before the post
    assert {r.status for r in risks} == {"open"}  # reconcile decides


def test_a_leg_the_venue_refuses_leaves_the_others_filled_and_the_policy_unwinds_them(
    batch_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    outcome = _place(
        batch_settings,
        engine,
        credentials,
        (Y1, C1, "10", "0.30"),
        (Y2, C2, "10", "0.29"),  # under the 0.31 ask: the FOK is killed
        (Y3, C3, "10", "0.32"),
    )
    assert SENT[1:] == ["order r1:opp-b:unwind:0", "order r1:opp-b:unwind:2"]  # sold back
    legs = outcome.results[:3]
    assert [r.status for r in legs] == [
        OrderStatus.MATCHED,
        OrderStatus.REJECTED,
        OrderStatus.MATCHED,
    ]
    with session_scope(engine) as session:
        risks = leg_risks_for_run(session, "r1")
    assert sorted((r.intent_key, r.status) for r in risks) == [
        ("r1:opp-b:0", "unwound"),
        ("r1:opp-b:2", "unwound"),
    ]


def test_nothing_is_sent_when_one_leg_cannot_be(
    batch_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    outcome = _place(
        batch_settings,
        engine,
        credentials,
        (Y1, C1, "10", "0.30"),
        (Y2, C2, "10", "0.315"),  # off the 0.01 tick: refused before signing
    )
    assert SENT == []
    assert [r.status for r in outcome.results] == [OrderStatus.REJECTED] * 2
    assert "not sent" in (outcome.results[0].error or "")
    assert venue_orders(running, credentials.address) == []


def test_a_halt_stops_the_whole_batch(
    batch_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    with session_scope(engine) as session:
        halt(session, "test: operator halt", "test")
    outcome = _place(
        batch_settings, engine, credentials, (Y1, C1, "10", "0.30"), (Y2, C2, "10", "0.31")
    )
    assert SENT == []
    assert all("trading halted" in (r.error or "") for r in outcome.results)
    assert venue_orders(running, credentials.address) == []


def test_a_batch_whose_intents_are_stored_is_not_sent_again(
    batch_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    legs = ((Y1, C1, "10", "0.30"), (Y2, C2, "10", "0.31"))
    first = _place(batch_settings, engine, credentials, *legs)
    again = _place(batch_settings, engine, credentials, *legs)  # a retried run
    assert first.complete and len(SENT) == 1
    assert [r.status for r in again.results] == [OrderStatus.MATCHED] * 2  # as stored
    assert len(venue_orders(running, credentials.address)) == 2
    assert Decimal(sum(r.filled_size for r in again.results)) == Decimal(20)
