"""Ambiguous submits and crashes on the emulator: never a duplicate, always found by reconcile.

Faults come from the emulator's control API (``POST /_sim/faults``): ``response_lost`` runs the
route (the order is placed) and cuts the answer; ``error`` and ``timeout`` answer without
running it. The order in every test is a FOK BUY of 10 YES at 0.55 (one ask level of 100).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import OrderStatus, OrderType, Side, TradeStatus
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import fills, intent_by_key, make_engine, session_scope
from pm_lib.venue.trading import SignedOrder, TradingClient
from pm_lib.venue.wire import PostOrderAck
from tests.execution.builders import request
from tests.execution.conftest import connected, db_url
from tests.execution.emulator import COND, FEES, YES, control, venue_orders, venue_wallet

ORDER = request(
    "r1:o:0", Side.BUY, "10", "0.55", OrderType.FOK, token=YES, condition=COND, fees=FEES
)


def inject(running: RunningVenue, kind: str, **rule: object) -> None:
    control(
        running,
        "POST",
        "/faults",
        {"kind": kind, "path": "/order", "method": "POST", "count": 1, **rule},
    )


def test_accepted_but_response_lost_is_resolved_to_the_one_order_at_the_venue(
    live: LiveExecutor, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    inject(running, "response_lost")
    [result] = live.place([ORDER])
    assert result.status is OrderStatus.MATCHED  # UNKNOWN, then resolved by the hash
    [at_venue] = venue_orders(running, credentials.address)
    assert at_venue["id"] == result.order_id
    report = reconcile(live, engine)
    assert report.clean, report.discrepancies
    with session_scope(engine) as session:
        [fill] = fills(session, "live")
    assert (fill.order_id, fill.size, fill.fee) == (
        result.order_id,
        Decimal("10"),
        Decimal("0.099"),
    )


@pytest.mark.parametrize("kind", ["error", "timeout"])
def test_5xx_or_timeout_leaves_no_order_and_no_duplicate(
    kind: str,
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    settings = live_settings.model_copy(update={"http_timeout_seconds": 0.5})
    now = [datetime.now(UTC)]
    executor = connected(settings, engine, credentials, clock=lambda: now[0])
    inject(running, kind, status=503, delay_seconds=2.0)
    [first] = executor.place([ORDER])
    [again] = executor.place([ORDER])  # a retried run: the intent key stops a second send
    assert first.status is OrderStatus.UNKNOWN
    assert again.error == "intent already exists: not sent again"
    assert venue_orders(running, credentials.address) == []
    now[0] += timedelta(minutes=2)  # past the grace an in-flight order could still arrive in
    report = reconcile(executor, engine, clock=lambda: now[0])
    executor.close()
    assert [(c.before, c.after) for c in report.changes] == [
        (OrderStatus.UNKNOWN, OrderStatus.REJECTED)
    ]
    assert venue_orders(running, credentials.address) == []


def test_process_killed_between_post_and_store_is_found_by_a_fresh_reconcile(
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
    tmp_path: Path,
) -> None:
    class KilledAfterPost(TradingClient):
        def post(self, signed: SignedOrder) -> PostOrderAck:
            super().post(signed)
            raise SystemExit("killed after the post, before the answer was stored")

    doomed = connected(live_settings, engine, credentials, KilledAfterPost)
    with pytest.raises(SystemExit):
        doomed.place([ORDER])
    with session_scope(engine) as session:
        row = intent_by_key(session, ORDER.intent_key)
    assert row is not None and row.status is OrderStatus.SIGNED
    engine.dispose()

    fresh_engine = make_engine(db_url(tmp_path))
    fresh = connected(live_settings, fresh_engine, credentials, run_id="r2")
    report = reconcile(fresh, fresh_engine)
    fresh.close()
    assert [(c.intent_key, c.before, c.after) for c in report.changes] == [
        (ORDER.intent_key, OrderStatus.SIGNED, OrderStatus.MATCHED)
    ]
    assert report.clean, report.discrepancies
    assert len(venue_orders(running, credentials.address)) == 1
    fresh_engine.dispose()


def test_ghost_fill_is_reversed_in_position_and_pnl(
    live: LiveExecutor, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    [result] = live.place([ORDER])
    assert live.positions()[YES].size == Decimal("10")
    [trade] = control(running, "GET", f"/trades?address={credentials.address}")
    control(running, "POST", f"/trades/{trade['id']}/status", {"status": "TRADE_STATUS_FAILED"})
    report = reconcile(live, engine)
    assert report.clean, report.discrepancies  # the venue undid it too: shares 0 both sides
    with session_scope(engine) as session:
        [fill] = fills(session, "live")
    assert fill.status is TradeStatus.FAILED
    position = live.positions().get(YES)
    assert position is None or position.size == Decimal(0)
    assert Decimal(venue_wallet(running, credentials.address)["pusd"]) == Decimal(10_000_000_000)
    assert report.balance == Decimal("10000")
    assert result.order_id == fill.order_id
