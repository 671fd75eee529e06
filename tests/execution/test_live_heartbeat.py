"""Heartbeats have their own short timeout (issue 16.6): one hung beat never lets the venue's
window lapse and cancel every resting order of the account.

The emulator here cancels a wallet's orders after 2 s without a heartbeat (the live venue: 10 s
plus a buffer); beats go every 0.5 s with a 0.3 s timeout, while ordinary requests may take 3 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.models import OrderStatus, OrderType, Side
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue, running_venue
from tests.execution.builders import request
from tests.execution.conftest import connected
from tests.execution.emulator import COND, FEES, YES, control, make_venue, venue_orders

pytestmark = pytest.mark.slow  # waits out the venue heartbeat window


@pytest.fixture
def running() -> Iterator[RunningVenue]:
    with running_venue(make_venue(heartbeat_timeout_seconds=2.0)) as r:
        yield r


def test_a_hung_heartbeat_times_out_fast_and_the_beats_keep_the_orders_alive(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    settings = live_settings.model_copy(
        update={
            "http_timeout_seconds": 3.0,
            "heartbeat_interval_seconds": 0.5,
            "heartbeat_timeout_seconds": 0.3,
        }
    )
    executor = connected(settings, engine, credentials)
    gtc = request("r1:o:0", Side.BUY, "10", "0.40", OrderType.GTC, token=YES, condition=COND)
    [placed] = executor.place([gtc.model_copy(update={"fees": FEES})])
    assert placed.status is OrderStatus.LIVE and executor.heartbeat.running
    control(
        running,
        "POST",
        "/faults",
        {"kind": "timeout", "path": "/v1/heartbeats", "delay_seconds": 10, "count": 1},
    )
    time.sleep(3.5)  # the hung beat, then more than the venue's 2 s window
    beats, failures = executor.heartbeat.beats, executor.heartbeat.failures
    [order] = venue_orders(running, credentials.address)
    executor.close()  # (cancels what the run left resting)
    assert failures == 1  # the hung one, cut at 0.3 s
    assert beats >= 4
    assert order["status"] == "ORDER_STATUS_LIVE"  # the venue never saw a 2 s silence
