"""A stream window's shared pieces: one SDK client for every evaluation (closed when the window
is cancelled), baskets posted together, the account kept between evaluations and re-read when
it changes, and the kill switch still honoured within a second."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pm_lib.pipeline.context import RunContext, new_run_id
from pm_lib.pipeline.scan import ScanVenue
from pm_lib.settings import Settings
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue
from pm_lib.store import (
    halt,
    intents_for_run,
    make_engine,
    resume,
    session_scope,
    start_run,
    upgrade,
)
from pm_lib.stream.trader import StreamTrader
from tests.execution.emulator import KEY, NEG_RISK, venue_orders
from tests.reliability.scan import open_context
from tests.stream.conftest import eventually, stream_settings, streaming

pytestmark = pytest.mark.slow  # streaming windows of several seconds


def _next(ctx: RunContext) -> RunContext:
    nxt = replace(ctx, run_id=new_run_id(), started_at=ctx.now())
    with session_scope(ctx.engine) as session:
        start_run(
            session,
            run_id=nxt.run_id,
            flow_name=nxt.flow_name,
            mode=nxt.mode,
            flow_run_id=None,
            started_at=nxt.started_at,
        )
    return nxt


def test_a_live_window_shares_one_client_posts_baskets_together_and_closes_it_on_cancel(
    live_settings: Settings,
    running: RunningVenue,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POLYMARKET_PRIVATE_KEY", KEY)
    settings = live_settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'live.db'}",
            "strategies": ["negrisk_arbitrage"],
            "basket_posting": "batch",
        }
    )
    engine: Engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    tokens = [t for m in running.venue.state.markets.values() for t in m.token_ids]

    async def go() -> StreamTrader:
        async with streaming(settings, tokens) as (stream, client):
            trader = StreamTrader(
                open_context(settings, engine, live=True), stream, ScanVenue(client), _next
            )
            window = asyncio.create_task(trader.run(time.monotonic() + 30))
            # The event's YES asks sum to 0.93 from the start: the first evaluation trades it.
            await eventually(lambda: trader.report.orders >= len(NEG_RISK), timeout=15)
            await eventually(lambda: trader.report.evaluations >= 2, timeout=10)  # its fills
            assert trader.window is not None and trader.window.client_open
            window.cancel()
            with pytest.raises(asyncio.CancelledError):
                await window
            return trader

    trader = asyncio.run(go())
    window = trader.window
    assert window is not None
    assert window.connects == 1  # one client for every evaluation of the window
    assert window.closed and not window.client_open  # closed with the window
    with session_scope(engine, read_only=True) as session:
        placed = [i for r in trader.report.run_ids for i in intents_for_run(session, r)]
    assert {i.status.value for i in placed} == {"MATCHED"}
    assert len(placed) == len(NEG_RISK)  # the basket, once
    address = window.keys.address if window.keys is not None else ""
    assert len(venue_orders(running, address)) == len(NEG_RISK)
    assert trader.account.counters.reads >= 1


def test_a_halt_after_the_account_was_kept_still_stops_trading_within_a_second(
    stream_venue: RunningVenue, tmp_path: Path
) -> None:
    settings = stream_settings(stream_venue, tmp_path, basket_posting="batch")
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    event = complete_negrisk_events(stream_venue.venue)[0]
    tokens = [t for m in stream_venue.venue.state.markets.values() for t in m.token_ids]

    async def go() -> StreamTrader:
        async with streaming(settings, tokens) as (stream, client):
            trader = StreamTrader(
                open_context(settings, engine, live=False), stream, ScanVenue(client), _next
            )
            window = asyncio.create_task(trader.run(time.monotonic() + 30))
            await eventually(lambda: trader.account.counters.reads >= 1)  # a kept account
            assert trader.account.fresh
            with session_scope(engine) as session:
                halt(session, "test: operator halt", "test")
            await asyncio.sleep(1.0)  # within a second the trader has read the flag
            evaluated = trader.report.evaluations
            plant_negrisk_arbitrage(stream_venue.venue, event=event)
            await asyncio.sleep(1.0)
            assert trader.report.orders == 0
            assert trader.report.evaluations == evaluated  # nothing evaluated while halted
            with session_scope(engine) as session:
                resume(session, "test: resume", "test")
            # The kept account showed the halt: it is read again before trading resumes.
            await eventually(lambda: trader.report.orders > 0, timeout=15)
            window.cancel()
            return trader

    trader = asyncio.run(go())
    assert trader.account.counters.reads >= 2
