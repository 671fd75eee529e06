"""A halt committed while a scan is executing stops every later order (15.5).

Issue: ``pm-agent halt --cancel-orders`` during an executing scan; 14 of 16 FOK orders went out
after the halt was committed, a whole second basket among them. Here the halt is committed from
another connection right after the venue took the first leg of the first basket (the real SDK,
the emulator): nothing after it may reach the venue but the unwind of the leg already filled,
which the leg-risk policy (``PM_UNWIND_POLICY``) decides and records.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderStatus
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import halt, leg_risks_for_run, make_engine, session_scope
from pm_lib.venue.trading import SignedOrder, TradingClient
from pm_lib.venue.wire import PostOrderAck
from tests.execution.builders import basket
from tests.execution.conftest import connected
from tests.execution.emulator import MARKETS, NEG_RISK, venue_orders, venue_wallet

ASKS = ("0.30", "0.31", "0.32")
LEGS = tuple((yes, cond, "10", ask) for (cond, yes, _), ask in zip(NEG_RISK, ASKS, strict=True))


@pytest.mark.parametrize(
    ("policy", "risk_status", "venue_orders_sent", "yes_held"),
    [("sell_back", "unwound", 2, Decimal(0)), ("hold", "held", 1, Decimal(10))],
)
def test_a_halt_during_a_basket_stops_every_later_order_and_closes_the_basket(
    policy: str,
    risk_status: str,
    venue_orders_sent: int,
    yes_held: Decimal,
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    operator = make_engine(engine.url.render_as_string(hide_password=False))
    posts: list[str] = []

    class HaltAfterFirstPost(TradingClient):
        def post(self, signed: SignedOrder) -> PostOrderAck:
            ack = super().post(signed)
            posts.append(signed.request.intent_key)
            if len(posts) == 1:  # the operator halts from another connection meanwhile
                with session_scope(operator) as session:
                    halt(session, "operator: halt --cancel-orders", "cli")
            return ack

    settings = live_settings.model_copy(update={"unwind_policy": policy})
    executor = connected(settings, engine, credentials, HaltAfterFirstPost)
    first = execute_opportunity(
        executor, basket("opp-1", *LEGS), MARKETS, {}, settings=settings, engine=engine, run_id="r1"
    )
    second = execute_opportunity(
        executor, basket("opp-2", *LEGS), MARKETS, {}, settings=settings, engine=engine, run_id="r1"
    )
    report = reconcile(executor, engine)
    executor.close()
    operator.dispose()

    assert [r.status for r in first.results[:2]] == [OrderStatus.MATCHED, OrderStatus.REJECTED]
    assert "not sent: trading halted: operator: halt --cancel-orders" in (
        first.results[1].error or ""
    )
    if policy == "hold":  # the held leg keeps the group from buying: not even attempted
        assert second.results == () and "is held" in (second.refused or "")
    else:
        assert [r.status for r in second.results] == [OrderStatus.REJECTED]
    assert posts[0] == "r1:opp-1:0" and all(":unwind:" in key for key in posts[1:])
    assert len(venue_orders(running, credentials.address)) == venue_orders_sent
    with session_scope(engine, read_only=True) as session:
        risks = leg_risks_for_run(session, "r1")
    assert [(r.intent_key, r.policy, r.status) for r in risks] == [
        ("r1:opp-1:0", policy, risk_status)
    ]
    # a held basket is reported until an operator closes it (15.6); an unwound one is done
    assert report.clean == (policy == "sell_back"), report.discrepancies
    [(_, first_yes, _), *_] = NEG_RISK
    wallet = venue_wallet(running, credentials.address)
    assert Decimal(wallet["positions"].get(first_yes, "0")) / 1_000_000 == yes_held
