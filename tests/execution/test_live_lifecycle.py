"""Order outcomes the venue answers in more than one step, through the real SDK on the emulator.

Binary market (tests/execution/emulator.py): YES asks 0.55 x 100, 0.56 x 200; bids 0.50 x 100.
Neg-risk event: YES asks 0.30, 0.31, 0.32 (x 50 each), YES bids 0.28 x 50 each.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pm_lib.auth import Credentials
from pm_lib.cli import app
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.execution.reconcile import reconcile
from pm_lib.models import Catalogue, Opportunity, OrderRequest, OrderStatus, OrderType, Side
from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import (
    intent_by_key,
    leg_risks_for_run,
    open_intents,
    record_opportunities,
    save_catalogue,
    session_scope,
    start_run,
)
from pm_lib.venue.trading import SignedOrder, TradingClient
from pm_lib.venue.wire import PostOrderAck, normalise_order_status
from tests.execution.builders import basket, request
from tests.execution.conftest import connected, db_url
from tests.execution.emulator import (
    COND,
    FEES,
    MARKETS,
    NEG_RISK,
    NEG_RISK_ASKS,
    YES,
    control,
    venue_orders,
    venue_trades,
    venue_wallet,
)


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

    # The run ends: its resting remainder is cancelled and the DB says so, filled part kept.
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


def test_a_resting_order_whose_fill_failed_on_chain_keeps_only_the_fills_that_did_not_fail(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    executor = connected(live_settings, engine, credentials)
    control(running, "POST", "/ghost-fills", {"token_id": YES, "count": 1})
    [result] = executor.place([buy_yes("r1:fv:0", "150", "0.55", OrderType.GTC)])
    assert (result.status, result.filled_size) == (OrderStatus.LIVE, Decimal("100"))
    control(running, "POST", "/clock", {"advance": 4})  # the trade goes FAILED on chain
    [at_venue] = venue_orders(running, credentials.address)
    assert Decimal(at_venue["size_matched"]) == Decimal("100")  # the venue still counts it
    for later in (timedelta(0), timedelta(minutes=20), timedelta(minutes=40)):  # past the overlap
        reconcile(executor, engine, clock=lambda later=later: datetime.now(UTC) + later)
        with session_scope(engine) as session:
            row = intent_by_key(session, "r1:fv:0")
        assert row is not None and row.status is OrderStatus.LIVE
        assert (row.filled_size, row.fee) == (Decimal(0), Decimal(0))
    executor.close()


# --- baskets whose legs fail later, or whose run died half-way (issues 16.2, 15.6) ----------


def _negrisk_basket(opportunity_id: str, size: str = "10") -> Opportunity:
    return basket(
        opportunity_id,
        *((y, c, size, ask) for (c, y, _), ask in zip(NEG_RISK, NEG_RISK_ASKS, strict=True)),
    )


def _store_plan(engine: Engine, run_id: str, opportunity: Opportunity) -> None:
    """What a run stores before it executes: its opportunities (legs included)."""
    with session_scope(engine) as session:
        start_run(
            session,
            run_id=run_id,
            flow_name="scan",
            mode="live",
            flow_run_id=None,
            started_at=datetime.now(UTC),
        )
        record_opportunities(session, run_id, None, [opportunity])
        save_catalogue(
            session, Catalogue(markets=tuple(MARKETS.values()), fetched_at=datetime.now(UTC))
        )


def _positions(running: RunningVenue, address: str) -> dict[str, Decimal]:
    wallet = venue_wallet(running, address)
    return {t: Decimal(u) / 1_000_000 for t, u in wallet["positions"].items()}


def test_a_ghost_fill_on_one_leg_makes_the_complete_basket_a_leg_risk_that_reconcile_unwinds(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    executor = connected(live_settings, engine, credentials)
    opportunity = _negrisk_basket("opp-ghost")
    _store_plan(engine, "r1", opportunity)
    _, (_, y2, _), _ = NEG_RISK
    control(running, "POST", "/ghost-fills", {"token_id": y2, "count": 1})  # leg 1 will revert
    outcome = execute_opportunity(
        executor, opportunity, MARKETS, {}, settings=live_settings, engine=engine, run_id="r1"
    )
    assert outcome.complete  # judged complete: every leg answered "matched"
    control(running, "POST", "/clock", {"advance": 4})  # the ghost trade goes FAILED on chain
    [ghost] = [t for t in venue_trades(running, credentials.address) if t["ghost"]]
    assert ghost["asset_id"] == y2 and ghost["status"] == "TRADE_STATUS_FAILED"

    report = reconcile(executor, engine, settings=live_settings)
    executor.close()
    with session_scope(engine) as session:
        leg = intent_by_key(session, "r1:opp-ghost:1")
        risks = leg_risks_for_run(session, "r1")
    assert leg is not None and (leg.filled_size, leg.fee) == (Decimal(0), Decimal(0))
    assert [(r.intent_key, r.policy, r.status) for r in risks] == [
        ("r1:opp-ghost:0", "sell_back", "unwound"),
        ("r1:opp-ghost:2", "sell_back", "unwound"),
    ]
    assert not report.clean
    assert any("opp-ghost" in d and "incomplete" in d for d in report.discrepancies)
    assert not any(_positions(running, credentials.address).values())  # flat again
    again = reconcile(connected(live_settings, engine, credentials, run_id="r3"), engine)
    assert again.clean, again.discrepancies


class _DiesBeforePosting(TradingClient):
    """The process is killed (SIGKILL) right after leg ``dies_at`` is signed and stored."""

    dies_at = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.posts = 0

    def post(self, signed: SignedOrder) -> PostOrderAck:
        if self.posts == self.dies_at:
            raise _Killed
        self.posts += 1
        return super().post(signed)


class _Killed(BaseException):
    pass


@pytest.mark.parametrize(("policy", "risk_status"), [("sell_back", "unwound"), ("hold", "held")])
def test_reconcile_rebuilds_the_leg_risk_of_a_basket_whose_run_was_killed_half_way(
    policy: str,
    risk_status: str,
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
) -> None:
    settings = live_settings.model_copy(update={"unwind_policy": policy})
    executor = connected(settings, engine, credentials, _DiesBeforePosting)
    opportunity = _negrisk_basket("opp-kill")
    _store_plan(engine, "r1", opportunity)
    with pytest.raises(_Killed):
        execute_opportunity(
            executor, opportunity, MARKETS, {}, settings=settings, engine=engine, run_id="r1"
        )
    executor.heartbeat.stop()
    (_, y1, _), _, _ = NEG_RISK
    assert _positions(running, credentials.address) == {y1: Decimal(10)}  # 1 of 3 legs
    with session_scope(engine) as session:
        assert leg_risks_for_run(session, "r1") == []

    later = connected(settings, engine, credentials, run_id="r2", unknown_grace=timedelta(0))
    report = reconcile(later, engine, settings=settings)
    with session_scope(engine) as session:
        risks = leg_risks_for_run(session, "r1")
    assert [(r.intent_key, r.status) for r in risks] == [("r1:opp-kill:0", risk_status)]
    assert not report.clean
    assert any("opp-kill" in d and "incomplete" in d for d in report.discrepancies)
    again = reconcile(later, engine, settings=settings)
    later.close()
    if policy == "hold":  # held: loud until an operator acts
        assert _positions(running, credentials.address) == {y1: Decimal(10)}
        assert any("opp-kill" in d and "held" in d for d in again.discrepancies)
    else:
        assert not any(_positions(running, credentials.address).values())
        assert again.clean, again.discrepancies


# --- a "delayed" answer: a marketable order held in the venue's taker delay (issue 16.3) ----


def test_a_delayed_leg_is_awaited_and_the_basket_completes_without_unwinding(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    _, (c2, _, _), _ = NEG_RISK
    control(running, "PATCH", f"/markets/{c2}", {"taker_delay_seconds": 1})  # a sports market
    answers: list[str] = []

    class Watching(TradingClient):
        def post(self, signed: SignedOrder) -> PostOrderAck:
            ack = super().post(signed)
            [order] = [
                o for o in venue_orders(running, credentials.address) if o["id"] == ack.order_id
            ]
            answers.append(order["status"])
            if order["status"] == "ORDER_STATUS_DELAYED":  # it cannot be cancelled while held
                assert not executor.cancel(signed.order_id)
            return ack

    executor = connected(live_settings, engine, credentials, Watching)
    opportunity = _negrisk_basket("opp-delay")
    outcome = execute_opportunity(
        executor, opportunity, MARKETS, {}, settings=live_settings, engine=engine, run_id="r1"
    )
    executor.close()
    assert answers[1] == "ORDER_STATUS_DELAYED"
    assert outcome.complete, outcome.results
    assert [r.filled_size for r in outcome.results] == [Decimal(10)] * 3
    with session_scope(engine) as session:
        assert leg_risks_for_run(session, "r1") == []
    assert len(venue_orders(running, credentials.address)) == 3  # no unwind was sent
    report = reconcile(executor, engine, settings=live_settings)
    assert report.clean, report.discrepancies


def test_a_delayed_leg_killed_when_its_delay_ends_is_handled_with_the_truth_in_hand(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    _, (c2, y2, _), _ = NEG_RISK
    control(running, "PATCH", f"/markets/{c2}", {"taker_delay_seconds": 1})

    class BookMovesDuringTheDelay(TradingClient):
        def post(self, signed: SignedOrder) -> PostOrderAck:
            ack = super().post(signed)
            if signed.request.token_id == y2:  # another taker empties the ask while we wait
                control(running, "POST", "/book", {"token_id": y2, "bids": [], "asks": []})
            return ack

    executor = connected(live_settings, engine, credentials, BookMovesDuringTheDelay)
    opportunity = _negrisk_basket("opp-dead")
    outcome = execute_opportunity(
        executor, opportunity, MARKETS, {}, settings=live_settings, engine=engine, run_id="r1"
    )
    executor.close()
    assert [r.status for r in outcome.results[:2]] == [OrderStatus.MATCHED, OrderStatus.CANCELED]
    with session_scope(engine) as session:
        [risk] = leg_risks_for_run(session, "r1")
    assert (risk.intent_key, risk.status) == ("r1:opp-dead:0", "unwound")
    assert not any(_positions(running, credentials.address).values())


def test_a_held_basket_halts_new_buying_on_its_neg_risk_group_until_an_operator_closes_it(
    live_settings: Settings,
    engine: Engine,
    running: RunningVenue,
    credentials: Credentials,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = live_settings.model_copy(update={"unwind_policy": "hold"})
    executor = connected(settings, engine, credentials)
    (c1, y1, _), (c2, y2, _), _ = NEG_RISK
    lopsided = basket("opp-lop", (y1, c1, "10", "0.30"), (y2, c2, "10", "0.29"))  # ask is 0.31
    execute_opportunity(
        executor, lopsided, MARKETS, {}, settings=settings, engine=engine, run_id="r1"
    )
    placed = len(venue_orders(running, credentials.address))
    outcome = execute_opportunity(
        executor,
        _negrisk_basket("opp-next"),
        MARKETS,
        {},
        settings=settings,
        engine=engine,
        run_id="r1",
    )
    assert not outcome.complete and outcome.results == ()
    assert outcome.refused is not None and "r1:opp-lop:0" in outcome.refused
    assert len(venue_orders(running, credentials.address)) == placed  # nothing sent
    report = reconcile(executor, engine, settings=settings)
    assert any("opp-lop" in d and "held" in d for d in report.discrepancies)

    # The operator sells the leg by hand and closes the leg risk: clean, buying allowed again.
    monkeypatch.setenv("PM_DATABASE_URL", db_url(tmp_path))
    listed = CliRunner().invoke(app, ["leg-risks", "--json"])
    [held] = json.loads(listed.output)
    assert (held["intent_key"], held["status"]) == ("r1:opp-lop:0", "held")
    closed = CliRunner().invoke(app, ["close-leg-risk", held["id"], "--reason", "sold by hand"])
    assert closed.exit_code == 0, closed.output
    assert reconcile(executor, engine, settings=settings).clean
    again = execute_opportunity(
        executor,
        _negrisk_basket("opp-next"),
        MARKETS,
        {},
        settings=settings,
        engine=engine,
        run_id="r1",
    )
    executor.close()
    assert again.refused is None and again.complete


# --- the weekly matching-engine restart, then its post-only window ---------------------------


def test_orders_during_an_engine_restart_and_its_post_only_window_are_not_taken(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    executor = connected(live_settings, engine, credentials)
    control(running, "POST", "/engine-restart", {"restart_seconds": 90, "post_only_seconds": 120})
    [during] = executor.place([buy_yes("r1:a:0", "10", "0.55", OrderType.FOK)])
    assert during.status is OrderStatus.REJECTED and "restarting" in (during.error or "")
    control(running, "POST", "/clock", {"advance": 90})
    [taker] = executor.place([buy_yes("r1:b:0", "10", "0.55", OrderType.FOK)])
    assert taker.status is OrderStatus.REJECTED and "post-only" in (taker.error or "")
    maker = request("r1:c:0", Side.BUY, "10", "0.40", OrderType.GTC, token=YES, condition=COND)
    [resting] = executor.place([maker.model_copy(update={"post_only": True})])
    assert resting.status is OrderStatus.LIVE
    assert executor.cancel(resting.order_id or "")  # cancels are taken in the window
    control(running, "POST", "/clock", {"advance": 120})
    [after] = executor.place([buy_yes("r1:d:0", "10", "0.55", OrderType.FOK)])
    executor.close()
    assert after.status is OrderStatus.MATCHED
    assert len(venue_orders(running, credentials.address)) == 2  # the refused ones never existed
    assert reconcile(executor, engine).clean


def test_a_delayed_fak_that_fills_in_part_ends_cancelled_with_its_filled_part(
    live_settings: Settings, engine: Engine, running: RunningVenue, credentials: Credentials
) -> None:
    _, (c2, y2, _), _ = NEG_RISK
    control(running, "PATCH", f"/markets/{c2}", {"taker_delay_seconds": 1})
    executor = connected(live_settings, engine, credentials)
    fak = request("r1:fak:0", Side.BUY, "80", "0.31", OrderType.FAK, token=y2, condition=c2)
    [result] = executor.place([fak.model_copy(update={"neg_risk": True})])  # 50 are offered
    executor.close()
    assert (result.status, result.filled_size) == (OrderStatus.CANCELED, Decimal(50))
    assert reconcile(executor, engine).clean
