"""How the live executor reads the venue's answers about its own orders (issues 15.1 and 16.4).

- an unreadable answer is not a "no": a garbled 200 on ``GET /data/order/{id}`` (or on
  ``/data/orders``) never turns an intent into REJECTED; it stays as it was and reconcile
  reports it;
- a filled FOK whose lookup answers 404 or an empty body (as the venue does for some) is
  resolved from its trades, FAILED trades never counted;
- fills take their price from the trade's ``maker_orders`` (the row's top-level ``price`` is
  the taker's limit) and honour ``trader_side``.

Binary market (tests/execution/emulator.py): YES asks 0.55 x 100, 0.56 x 200; bids 0.50 x 100.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials, credentials_from_mapping
from pm_lib.errors import RetryableError
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderRequest, OrderStatus, OrderType, Side, TradeStatus
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import fills, intent_by_key, make_engine, session_scope, upgrade
from tests.execution.builders import request
from tests.execution.conftest import connected
from tests.execution.emulator import COND, FEES, NO, YES, control, venue_orders

LATER = timedelta(minutes=2)  # past the grace an in-flight order could still arrive in


def order(
    key: str, side: Side, size: str, price: str, kind: OrderType, token: str = YES
) -> OrderRequest:
    return request(key, side, size, price, kind, token=token, condition=COND, fees=FEES)


def fault(running: RunningVenue, kind: str, path: str, method: str = "GET", **rule: object) -> None:
    control(running, "POST", "/faults", {"kind": kind, "path": path, "method": method, **rule})


def no_retries(settings: Settings) -> Settings:
    """Reads sent once, so that one injected 5xx leaves a lookup failed (the adapter would
    otherwise retry it away, ``test_read_retries``)."""
    return settings.model_copy(update={"http_max_retries": 0})


def stored_status(engine: Engine, key: str) -> OrderStatus:
    with session_scope(engine) as session:
        row = intent_by_key(session, key)
    assert row is not None
    return row.status


# --- 15.1: an unreadable answer is not a "no" -------------------------------------------------


def test_garbled_lookup_of_a_resting_gtc_keeps_it_live_and_reconcile_reports_it(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    now = [datetime.now(UTC)]
    executor = connected(live_settings, engine, credentials, clock=lambda: now[0])
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.40", OrderType.GTC)])
    assert placed.status is OrderStatus.LIVE
    fault(running, "malformed", "/data/order/.*")
    now[0] += LATER
    report = reconcile(executor, engine, clock=lambda: now[0])
    assert stored_status(engine, "r1:o:0") is OrderStatus.LIVE  # was REJECTED: exposure lost
    assert not report.clean
    assert any("r1:o:0" in d and "unreadable" in d for d in report.discrepancies), (
        report.discrepancies
    )
    [resting] = venue_orders(running, credentials.address)
    assert resting["status"] == "ORDER_STATUS_LIVE"
    executor.close()


def test_garbled_lookup_of_an_unknown_post_leaves_it_unknown(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    now = [datetime.now(UTC)]
    executor = connected(live_settings, engine, credentials, clock=lambda: now[0])
    fault(running, "response_lost", "/order", "POST", count=1)
    fault(running, "malformed", "/data/order/.*")
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.40", OrderType.GTC)])
    assert placed.status is OrderStatus.UNKNOWN
    now[0] += LATER
    report = reconcile(executor, engine, clock=lambda: now[0])
    executor.close()
    assert stored_status(engine, "r1:o:0") is OrderStatus.UNKNOWN
    assert not report.clean


def test_not_found_but_listed_in_open_orders_is_not_rejected(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    """A 404 alone never rejects: the open orders must confirm it (here they list it)."""
    now = [datetime.now(UTC)]
    executor = connected(no_retries(live_settings), engine, credentials, clock=lambda: now[0])
    fault(running, "response_lost", "/order", "POST", count=1)
    fault(running, "error", "/data/order/.*", status=503, count=1)
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.40", OrderType.GTC)])
    assert placed.status is OrderStatus.UNKNOWN
    fault(running, "error", "/data/order/.*", status=404, count=1)
    now[0] += LATER
    reconcile(executor, engine, clock=lambda: now[0])
    assert stored_status(engine, "r1:o:0") is OrderStatus.LIVE
    executor.close()


def test_garbled_open_orders_never_confirm_a_not_found(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    now = [datetime.now(UTC)]
    executor = connected(live_settings, engine, credentials, clock=lambda: now[0])
    fault(running, "error", "/order", "POST", status=503, count=1)  # never reached the book
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.40", OrderType.GTC)])
    assert placed.status is OrderStatus.UNKNOWN
    fault(running, "malformed", "/data/orders")
    now[0] += LATER
    with pytest.raises(RetryableError, match="unreadable answer"):
        executor.resolve("r1:o:0")  # the 404 is not confirmed by the open orders
    assert stored_status(engine, "r1:o:0") is OrderStatus.UNKNOWN
    control(running, "DELETE", "/faults")
    reconcile(executor, engine, clock=lambda: now[0])
    assert stored_status(engine, "r1:o:0") is OrderStatus.REJECTED  # a clear, confirmed no
    executor.close()


def test_garbled_trades_fail_the_reconcile_loudly_and_change_nothing(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    now = [datetime.now(UTC)]
    executor = connected(live_settings, engine, credentials, clock=lambda: now[0])
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.40", OrderType.GTC)])
    assert placed.status is OrderStatus.LIVE
    fault(running, "malformed", "/data/trades")
    now[0] += LATER
    with pytest.raises(RetryableError, match="trades: unreadable answer"):
        reconcile(executor, engine, clock=lambda: now[0])
    assert stored_status(engine, "r1:o:0") is OrderStatus.LIVE
    executor.close()


# --- filled orders the venue's lookup does not find --------------------------------------------


@pytest.mark.parametrize("answer", ["404", "empty"])
def test_filled_fok_whose_lookup_misses_is_matched_from_its_trades(
    answer: str,
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    control(running, "POST", "/filled-lookup-misses", {"rate": 1.0, "answer": answer})
    now = [datetime.now(UTC)]
    executor = connected(live_settings, engine, credentials, clock=lambda: now[0])
    fault(running, "response_lost", "/order", "POST", count=1)
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.55", OrderType.FOK)])
    assert placed.status is OrderStatus.MATCHED
    assert placed.filled_size == Decimal("10")
    report = reconcile(executor, engine, clock=lambda: now[0])
    executor.close()
    assert report.clean, report.discrepancies


def test_failed_trade_of_a_fok_whose_lookup_misses_is_not_counted(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    control(running, "POST", "/filled-lookup-misses", {"rate": 1.0})
    now = [datetime.now(UTC)]
    executor = connected(no_retries(live_settings), engine, credentials, clock=lambda: now[0])
    fault(running, "response_lost", "/order", "POST", count=1)
    fault(running, "error", "/data/order/.*", status=503, count=1)  # the first lookup fails
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.55", OrderType.FOK)])
    assert placed.status is OrderStatus.UNKNOWN
    [trade] = control(running, "GET", f"/trades?address={credentials.address}")
    control(running, "POST", f"/trades/{trade['id']}/status", {"status": "TRADE_STATUS_FAILED"})
    now[0] += LATER
    reconcile(executor, engine, clock=lambda: now[0])
    executor.close()
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:o:0")
        [fill] = fills(session, "live")
    assert fill.status is TradeStatus.FAILED
    assert row is not None and row.status is OrderStatus.MATCHED  # as the venue says
    assert row.filled_size == Decimal(0)  # but the one trade failed on chain
    assert row.avg_price is None


def test_failed_trade_is_not_counted_when_the_lookup_finds_the_order(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    now = [datetime.now(UTC)]
    executor = connected(no_retries(live_settings), engine, credentials, clock=lambda: now[0])
    fault(running, "response_lost", "/order", "POST", count=1)
    fault(running, "error", "/data/order/.*", status=503, count=1)
    [placed] = executor.place([order("r1:o:0", Side.BUY, "10", "0.55", OrderType.FOK)])
    assert placed.status is OrderStatus.UNKNOWN
    [trade] = control(running, "GET", f"/trades?address={credentials.address}")
    control(running, "POST", f"/trades/{trade['id']}/status", {"status": "TRADE_STATUS_FAILED"})
    reconcile(executor, engine, clock=lambda: now[0])
    executor.close()
    with session_scope(engine) as session:
        row = intent_by_key(session, "r1:o:0")
    assert row is not None and row.filled_size == Decimal(0)


# --- 16.4: a trade's own fields -------------------------------------------------------------


def test_taker_fill_is_priced_from_the_maker_orders_not_the_limit(
    live: LiveExecutor, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    # 100 at 0.55 and 50 at 0.56 under a 0.56 limit: VWAP 83/150 = 0.553333...
    [result] = live.place([order("r1:o:0", Side.BUY, "150", "0.56", OrderType.FOK)])
    assert result.status is OrderStatus.MATCHED
    [row] = control(running, "GET", f"/trades?address={credentials.address}")
    assert row["price"] == "0.56"  # the venue's top-level price: the taker's limit
    with session_scope(engine) as session:
        [fill] = fills(session, "live")
    assert fill.price == Decimal("0.553333")
    assert result.avg_price == Decimal("0.553333")
    # fee: per maker order, 0.04 x 100 x 0.55 x 0.45 + 0.04 x 50 x 0.56 x 0.44
    assert fill.fee == Decimal("0.99") + Decimal("0.4928")


def test_maker_fill_on_the_complementary_token_is_ours_at_our_price(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    """We rest BUY NO at 0.47 (= YES ask 0.53); another account buys YES at limit 0.55."""
    maker = connected(live_settings, engine, credentials)
    [resting] = maker.place([order("r1:o:0", Side.BUY, "10", "0.47", OrderType.GTC, token=NO)])
    assert resting.status is OrderStatus.LIVE
    other = credentials_from_mapping({"POLYMARKET_PRIVATE_KEY": "0x" + "44" * 32})
    taker_settings = live_settings.model_copy(update={"data_dir": live_settings.data_dir / "b"})
    (taker_settings.data_dir).mkdir()
    taker_engine = make_engine(f"sqlite:///{taker_settings.data_dir / 'pm_agent.db'}")
    upgrade(taker_engine)
    taker = connected(taker_settings, taker_engine, other, run_id="t1")
    [took] = taker.place([order("t1:o:0", Side.BUY, "10", "0.55", OrderType.FOK)])
    taker.close()
    assert took.status is OrderStatus.MATCHED
    assert took.avg_price == Decimal("0.53")  # 1 - the maker's 0.47, not the 0.55 limit
    seen = maker.sync_fills()
    maker.close()
    assert [(f.token_id, f.side, f.size, f.price, f.is_taker) for f in seen] == [
        (NO, Side.BUY, Decimal("10"), Decimal("0.47"), False)
    ]
    taker_engine.dispose()
