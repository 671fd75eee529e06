"""Event-driven trading: a planted neg-risk dip reaches the venue through the one scan, only
the changed event is evaluated, and the kill switch stops it within a second."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pm_lib.pipeline.context import RunContext, new_run_id
from pm_lib.pipeline.scan import ScanVenue
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue
from pm_lib.store import (
    get_run,
    halt,
    intents_for_run,
    make_engine,
    resume,
    session_scope,
    start_run,
    upgrade,
)
from pm_lib.stream.trader import StreamTrader
from tests.reliability.scan import open_context
from tests.stream.conftest import eventually, stream_settings, streaming

pytestmark = pytest.mark.slow  # a streaming window of several seconds


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


def _tokens(running: RunningVenue) -> list[str]:
    return [t for m in running.venue.state.markets.values() if not m.closed for t in m.token_ids]


def test_a_planted_dip_is_traded_through_the_scan_and_only_its_event_is_evaluated(
    stream_venue: RunningVenue, tmp_path: Path
) -> None:
    settings = stream_settings(stream_venue, tmp_path)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    event = complete_negrisk_events(stream_venue.venue)[0]

    async def go() -> StreamTrader:
        async with streaming(settings, _tokens(stream_venue)) as (stream, client):
            trader = StreamTrader(
                open_context(settings, engine, live=False), stream, ScanVenue(client), _next
            )
            window = asyncio.create_task(trader.run(time.monotonic() + 20))
            await asyncio.sleep(0.3)
            stream.books.drain_changed()
            plant_negrisk_arbitrage(stream_venue.venue, event=event)
            await eventually(lambda: trader.report.orders > 0, timeout=15)
            window.cancel()
            return trader

    trader = asyncio.run(go())
    with session_scope(engine, read_only=True) as session:
        placed = {r: intents_for_run(session, r) for r in trader.report.run_ids}
        [(run_id, intents)] = [(r, i) for r, i in placed.items() if i]  # one run traded
        run = get_run(session, run_id)
    assert run is not None and run.status == "completed"
    assert run.books == 2 * len(event.condition_ids)  # the event's books, not the universe's
    assert len(intents) == len(event.condition_ids)  # one FOK buy per leg, paper
    assert {i.status.value for i in intents} == {"MATCHED"}


def test_the_kill_switch_stops_evaluation_within_a_second_and_resume_trades(
    stream_venue: RunningVenue, tmp_path: Path
) -> None:
    settings = stream_settings(stream_venue, tmp_path)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    event = complete_negrisk_events(stream_venue.venue)[0]

    async def go() -> StreamTrader:
        async with streaming(settings, _tokens(stream_venue)) as (stream, client):
            trader = StreamTrader(
                open_context(settings, engine, live=False), stream, ScanVenue(client), _next
            )
            window = asyncio.create_task(trader.run(time.monotonic() + 20))
            with session_scope(engine) as session:
                halt(session, "test: operator halt", "test")
            await asyncio.sleep(1.0)  # within a second the trader has read the flag
            plant_negrisk_arbitrage(stream_venue.venue, event=event)
            await asyncio.sleep(1.0)
            assert trader.report.orders == 0
            assert trader.report.evaluations == 0  # nothing evaluated while halted
            with session_scope(engine) as session:
                resume(session, "test: resume", "test")
            await eventually(lambda: trader.report.orders > 0, timeout=15)
            window.cancel()
            return trader

    asyncio.run(go())
