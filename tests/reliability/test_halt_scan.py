"""A paper scan halted mid-execution (15.5): the halt stops every later order of the run.

Two planted baskets are approved; the operator's halt is committed (another engine) right
after the executor sends the first order. The first basket's later legs are refused before they
are sent, its filled leg goes through the leg-risk policy (sell_back: unwound, recorded), and
the second basket is never started.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pm_lib.execution.base import Executor
from pm_lib.models import OrderBook, OrderRequest, OrderResult, OrderStatus
from pm_lib.pipeline.context import RunContext
from pm_lib.settings import Settings
from pm_lib.sim.scenarios import complete_negrisk_events, plant_negrisk_arbitrage
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import (
    halt,
    intents_for_run,
    leg_risks_for_run,
    make_engine,
    session_scope,
    upgrade,
)
from tests.reliability.scan import open_context, run_scan


@pytest.fixture
def two_baskets() -> Iterator[RunningVenue]:
    venue = SimVenue(
        SimConfig(seed=5, markets=100, enforce_rate_limits=False, book_epoch_seconds=0)
    )
    for event in complete_negrisk_events(venue)[:2]:
        plant_negrisk_arbitrage(venue, event=event)
    with running_venue(venue) as running:
        yield running


class HaltAfterFirstOrder:
    """The run's executor, with the operator halting (another connection) after its first order."""

    def __init__(self, inner: Executor, operator_url: str) -> None:
        self._inner = inner
        self._url = operator_url
        self.sent: list[str] = []

    def place(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        results = self._inner.place(requests)
        self.sent.extend(r.intent_key for r in requests)
        if len(self.sent) == 1:
            operator = make_engine(self._url)
            with session_scope(operator) as session:
                halt(session, "operator: halt --cancel-orders", "cli")
            operator.dispose()
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass(frozen=True)
class HaltingRun(RunContext):
    def executor(self, books: Mapping[str, OrderBook] | None = None) -> Executor:
        inner = super().executor(books)
        url = self.engine.url.render_as_string(hide_password=False)
        return HaltAfterFirstOrder(inner, url)  # type: ignore[return-value]


def test_a_halt_mid_scan_stops_the_rest_and_unwinds_the_half_sent_basket(
    two_baskets: RunningVenue, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        clob_url=two_baskets.clob_url,
        gamma_url=two_baskets.gamma_url,
        database_url=database_url,
        data_dir=tmp_path,
        strategies=["negrisk_arbitrage"],
        paper_balance="10000",
        unwind_policy="sell_back",
    )
    engine = make_engine(database_url)
    upgrade(engine)
    plain = open_context(settings, engine, live=False)
    ctx = HaltingRun(
        settings=settings,
        engine=engine,
        run_id=plain.run_id,
        flow_name=plain.flow_name,
        started_at=plain.started_at,
    )
    outcome = run_scan(ctx)
    approved = [d.opportunity_id for d in outcome.report.decisions if d.approved]
    assert len(approved) == 2
    with session_scope(engine, read_only=True) as session:
        intents = intents_for_run(session, ctx.run_id)
        risks = leg_risks_for_run(session, ctx.run_id)
    engine.dispose()
    legs = [i for i in intents if ":unwind:" not in i.intent_key]
    unwinds = [i for i in intents if ":unwind:" in i.intent_key]
    assert [i.status for i in legs] == [OrderStatus.MATCHED, OrderStatus.REJECTED]
    assert "trading halted" in (legs[1].error or "")
    assert len(unwinds) == 1 and unwinds[0].status is OrderStatus.MATCHED
    assert [(r.intent_key, r.status) for r in risks] == [(legs[0].intent_key, "unwound")]
    [(skipped_id, reason)] = outcome.execution.skipped
    assert skipped_id in approved and reason.startswith("trading halted: operator")
