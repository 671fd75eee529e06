"""The user channel through the real SDK and the emulator: a live FOK fill arrives as trade and
order events and is stored as it happens; a ghost fill's FAILED reverses it without reconcile."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.execution.live import LiveExecutor
from pm_lib.models import OrderStatus, OrderType, Side, TradeStatus
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import fills, intent_by_key, session_scope
from pm_lib.stream.fills import UserStream
from pm_lib.venue.trading import TradingClient, derive_api_credentials
from tests.execution.builders import request
from tests.execution.emulator import COND, FEES, YES, control
from tests.stream.conftest import eventually

ORDER = request(
    "r1:o:0", Side.BUY, "10", "0.55", OrderType.FOK, token=YES, condition=COND, fees=FEES
)


@pytest.mark.slow
def test_fills_and_a_ghost_fill_arrive_through_the_user_channel(
    live_settings: Settings, engine: Engine, credentials: Credentials, running: RunningVenue
) -> None:
    api = derive_api_credentials(live_settings.clob_url, live_settings.chain_id, credentials)
    client = TradingClient.connect(live_settings, credentials.with_api(api))
    executor = LiveExecutor(live_settings, engine, client, run_id="r1")
    url = f"ws://{running.host}:{running.port}/ws/user"
    user = UserStream(url, client, api, engine, run_id="r1", markets=[COND])

    def stored() -> list[TradeStatus]:
        with session_scope(engine, read_only=True) as session:
            return [f.status for f in fills(session, "live")]

    async def go() -> None:
        task = asyncio.create_task(user.run())
        try:
            await asyncio.wait_for(user.connected.wait(), 5)
            await asyncio.sleep(0.2)
            [result] = await asyncio.to_thread(executor.place, [ORDER])
            assert result.status is OrderStatus.MATCHED
            await eventually(lambda: user.counters.trades >= 1 and user.counters.orders >= 1)
            [trade] = control(running, "GET", f"/trades?address={credentials.address}")
            control(
                running, "POST", f"/trades/{trade['id']}/status", {"status": "TRADE_STATUS_FAILED"}
            )
            # no reconcile, no REST read: the FAILED event itself reverses the fill
            await eventually(lambda: stored() == [TradeStatus.FAILED])
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    try:
        asyncio.run(go())
    finally:
        executor.close()
    position = executor.positions().get(YES)
    assert position is None or position.size == Decimal(0)
    with session_scope(engine, read_only=True) as session:
        row = intent_by_key(session, ORDER.intent_key)
    assert row is not None and row.status is OrderStatus.MATCHED
    assert user.counters.refused == 0


def test_wrong_credentials_are_refused(
    live_settings: Settings, engine: Engine, credentials: Credentials, running: RunningVenue
) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    async def go() -> None:
        url = f"ws://{running.host}:{running.port}/ws/user"
        async with connect(url) as ws:
            await ws.send(
                '{"auth": {"apiKey": "x", "secret": "y", "passphrase": "z"}, "type": "user"}'
            )
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    asyncio.run(go())
