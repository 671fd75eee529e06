"""Order outcomes the venue answers in more than one step, through the real SDK on the emulator.

Binary market (tests/execution/emulator.py): YES asks 0.55 x 100, 0.56 x 200; bids 0.50 x 100.
Neg-risk event: YES asks 0.30, 0.31, 0.32 (x 50 each), YES bids 0.28 x 50 each.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderRequest, OrderStatus, OrderType, Side
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import intent_by_key, open_intents, session_scope
from pm_lib.venue.wire import normalise_order_status
from tests.execution.builders import request
from tests.execution.conftest import connected
from tests.execution.emulator import COND, FEES, YES, control, venue_orders


def buy_yes(key: str, size: str, price: str, order_type: OrderType) -> OrderRequest:
    return request(key, Side.BUY, size, price, order_type, token=YES, condition=COND, fees=FEES)


def _open_at_venue(running: RunningVenue, address: str) -> set[str]:
    return {
        o["id"]
        for o in venue_orders(running, address)
        if normalise_order_status(o["status"]) is OrderStatus.LIVE
    }


def test_a_marketable_gtc_that_fills_in_part_rests_its_remainder_and_stays_open(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    executor = connected(live_settings, engine, credentials)
    # 100 cross at 0.55; the other 50 rest at 0.55 (the next ask is 0.56).
    gtc = buy_yes("r1:fv:0", "150", "0.55", OrderType.GTC)
    [result] = executor.place([gtc])
    assert (result.status, result.filled_size) == (OrderStatus.LIVE, Decimal("100"))
    assert result.avg_price == Decimal("0.55")
    assert executor.heartbeat.running  # the resting remainder is covered
    [at_venue] = venue_orders(running, credentials.address)
    assert normalise_order_status(at_venue["status"]) is OrderStatus.LIVE
    assert Decimal(at_venue["size_matched"]) == Decimal("100")
    with session_scope(engine) as session:
        assert [r.intent_key for r in open_intents(session, "live")] == ["r1:fv:0"]
    # The DB's open orders equal the venue's, and reconcile keeps it open (not terminal).
    report = reconcile(executor, engine)
    assert report.clean, report.discrepancies
    assert report.still_open == ("r1:fv:0",)
    assert _open_at_venue(running, credentials.address) == {result.order_id}

    # The run ends: its resting orders are cancelled and the DB says so, filled part kept.
    executor.cancel_all()
    executor.close()
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:fv:0")
    assert row is not None
    assert (row.status, row.filled_size) == (OrderStatus.CANCELED, Decimal("100"))
    assert _open_at_venue(running, credentials.address) == set()
    assert reconcile(executor, engine).clean


def test_a_resting_remainder_left_by_a_dead_run_is_cancelled_by_the_venue_and_reconciled(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    executor = connected(live_settings, engine, credentials)
    [result] = executor.place([buy_yes("r1:fv:0", "150", "0.55", OrderType.GTC)])
    assert result.status is OrderStatus.LIVE
    executor.heartbeat.stop()  # the run dies: no more heartbeats
    control(running, "POST", "/clock", {"advance": 11})  # past the venue's heartbeat timeout
    later = connected(live_settings, engine, credentials, run_id="r2")
    report = reconcile(later, engine)
    later.close()
    assert [(c.intent_key, c.after) for c in report.changes] == [("r1:fv:0", OrderStatus.CANCELED)]
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:fv:0")
    assert row is not None and row.filled_size == Decimal("100")
    assert _open_at_venue(running, credentials.address) == set()
