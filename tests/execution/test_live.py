"""The live executor on the emulator with the real SDK: the order lifecycle, fills and fees.

Binary market (tests/execution/emulator.py): YES asks 0.55 x 100, 0.56 x 200; bids 0.50 x 100,
0.49 x 200; taker fee rate 0.04. The wallet starts with 10,000 pUSD (autofund).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.execution.base import calls_in_place, run_off_loop
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderRequest, OrderStatus, OrderType, Side
from pm_lib.portfolio import read_portfolio
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import fills, intent_by_key, session_scope
from pm_lib.store.account import stored_balance
from pm_lib.venue.trading import SignedOrder, TradingClient, derive_api_credentials
from pm_lib.venue.wire import PostOrderAck, normalise_order_status
from tests.execution.builders import request
from tests.execution.conftest import connected
from tests.execution.emulator import COND, FEES, YES, control, venue_orders

START = Decimal("10000")


def buy_yes(key: str, size: str, price: str, order_type: OrderType) -> OrderRequest:
    return request(key, Side.BUY, size, price, order_type, token=YES, condition=COND, fees=FEES)


def test_fok_buy_fills_and_stores_fill_fee_and_intent(live: LiveExecutor, engine: Engine) -> None:
    [result] = live.place([buy_yes("r1:o:0", "10", "0.55", OrderType.FOK)])
    # 10 @ 0.55 = 5.50; fee 10 x 0.04 x 0.55 x 0.45 = 0.099
    assert (result.status, result.filled_size, result.fee) == (
        OrderStatus.MATCHED,
        Decimal("10"),
        Decimal("0.099"),
    )
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:o:0")
        stored = fills(session, "live")
    assert row is not None and row.venue_order_id == result.order_id
    assert [(f.size, f.price, f.fee) for f in stored] == [
        (Decimal("10"), Decimal("0.55"), Decimal("0.099"))
    ]
    assert live.balance() == START - Decimal("5.599")


def test_fok_that_cannot_fill_is_rejected_with_the_venue_text(
    live: LiveExecutor, engine: Engine
) -> None:
    [result] = live.place([buy_yes("r1:o:0", "400", "0.56", OrderType.FOK)])  # 300 to 0.56
    assert result.status is OrderStatus.REJECTED
    assert result.error is not None and "FOK orders are fully filled or killed" in result.error
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:o:0")
        assert fills(session, "live") == []
    assert row is not None and row.venue_order_id is not None  # signed (and stored) before post


def test_the_hash_is_stored_before_the_order_is_posted(
    live_settings: Settings, engine: Engine, credentials: Credentials
) -> None:
    seen: list[tuple[str | None, str | None]] = []

    class Witness(TradingClient):
        def post(self, signed: SignedOrder) -> PostOrderAck:
            with session_scope(engine) as session:
                row = intent_by_key(session, signed.request.intent_key)
            seen.append((row.status.value if row else None, row.venue_order_id if row else None))
            return super().post(signed)

    executor = connected(live_settings, engine, credentials, Witness)
    [result] = executor.place([buy_yes("r1:o:0", "10", "0.55", OrderType.FOK)])
    assert seen == [("SIGNED", result.order_id)]


def test_a_stored_intent_is_never_sent_twice(
    live: LiveExecutor, running: RunningVenue, credentials: Credentials
) -> None:
    order = buy_yes("r1:o:0", "10", "0.55", OrderType.FOK)
    [first] = live.place([order])
    [again] = live.place([order])
    assert again.error == "intent already exists: not sent again"
    assert again.order_id == first.order_id
    assert len(venue_orders(running, credentials.address)) == 1


def test_gtc_rests_with_heartbeats_and_cancel_reaches_db_and_venue(
    live: LiveExecutor, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    [result] = live.place([buy_yes("r1:o:0", "10", "0.40", OrderType.GTC)])
    assert result.status is OrderStatus.LIVE
    assert live.heartbeat.running and live.heartbeat.beats >= 1
    [resting] = live.open_orders()
    assert (resting.order_id, resting.intent_key) == (result.order_id, "r1:o:0")
    assert live.cancel(result.order_id or "") is True
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:o:0")
    assert row is not None and row.status is OrderStatus.CANCELED
    [at_venue] = venue_orders(running, credentials.address)
    assert normalise_order_status(at_venue["status"]) is OrderStatus.CANCELED


def test_sdk_float_rounding_cannot_change_the_signed_size(live: LiveExecutor) -> None:
    # floor(0.29 * 100) / 100 == 0.28 in floats; 10.29 x 0.55 is a valid GTC amount (5.6595).
    [result] = live.place([buy_yes("r1:o:0", "10.29", "0.40", OrderType.GTC)])
    assert result.status is OrderStatus.LIVE
    [resting] = live.open_orders()
    assert resting.original_size == Decimal("10.29")


def test_orders_the_venue_cancels_when_heartbeats_stop_are_marked_by_reconcile(
    live: LiveExecutor,
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    [result] = live.place([buy_yes("r1:o:0", "10", "0.40", OrderType.GTC)])
    live.heartbeat.stop()  # heartbeats stop, as when the process dies (close() would cancel)
    control(running, "POST", "/clock", {"advance": 11})  # past the venue's 10 s window
    report = reconcile(connected(live_settings, engine, credentials, run_id="r2"), engine)
    assert report.canceled_at_venue == ("r1:o:0",)
    assert report.clean, report.discrepancies
    assert result.status is OrderStatus.LIVE


def test_a_stale_heartbeat_id_is_answered_with_the_expected_one(
    live_settings: Settings, credentials: Credentials
) -> None:
    api = derive_api_credentials(live_settings.clob_url, live_settings.chain_id, credentials)
    client = TradingClient(
        live_settings.clob_url, live_settings.chain_id, credentials.with_api(api)
    )
    first = client.heartbeat("")
    second = client.heartbeat(first)
    assert client.heartbeat("stale-id") == second  # refused with 400, resynchronised


def test_blocking_calls_run_off_the_event_loop(live: LiveExecutor) -> None:
    loop_thread = threading.get_ident()

    async def main() -> tuple[Decimal, int]:
        def call() -> tuple[Decimal, int]:
            return live.balance(), threading.get_ident()

        return await run_off_loop(call)

    balance, worker_thread = asyncio.run(main())
    assert balance == START and worker_thread != loop_thread

    async def in_place() -> int:
        with calls_in_place():  # a replay's stages: on the caller's thread
            return await run_off_loop(threading.get_ident)

    assert asyncio.run(in_place()) == loop_thread


def test_partly_filled_fak_is_reported_cancelled_with_what_filled(live: LiveExecutor) -> None:
    [result] = live.place([buy_yes("r1:o:0", "150", "0.55", OrderType.FAK)])  # 100 at 0.55
    # fee 100 x 0.04 x 0.55 x 0.45 = 0.99
    assert (result.status, result.filled_size, result.fee) == (
        OrderStatus.CANCELED,
        Decimal("100"),
        Decimal("0.99"),
    )


def test_gtd_order_rests_until_its_expiry(live: LiveExecutor) -> None:
    expiry = datetime.now(UTC) + timedelta(minutes=3)
    gtd = buy_yes("r1:o:0", "10", "0.40", OrderType.GTD).model_copy(update={"expiration": expiry})
    [result] = live.place([gtd])
    assert result.status is OrderStatus.LIVE
    assert [o.order_id for o in live.open_orders()] == [result.order_id]


def test_post_only_order_that_would_cross_is_refused_by_the_venue(live: LiveExecutor) -> None:
    crossing = buy_yes("r1:o:0", "10", "0.56", OrderType.GTC).model_copy(update={"post_only": True})
    [result] = live.place([crossing])
    assert result.status is OrderStatus.REJECTED
    assert result.error == "post order: invalid post-only order: order crosses book"


def test_reading_the_balance_writes_nothing_and_reconcile_stores_it_for_the_portfolio(
    live: LiveExecutor, live_settings: Settings, engine: Engine
) -> None:
    assert live.balance() == START
    with session_scope(engine, read_only=True) as session:
        assert stored_balance(session, "live") is None
        before = read_portfolio(session, "live", datetime.now(UTC), live_settings)
    assert (before.cash, before.cash_source) == (None, "unknown (no reconcile yet)")

    report = reconcile(live, engine)

    with session_scope(engine, read_only=True) as session:
        stored = stored_balance(session, "live")
        after = read_portfolio(session, "live", datetime.now(UTC), live_settings)
    assert stored is not None and stored[0] == report.balance == START
    assert after.cash == START and after.cash_source.startswith("venue at ")
