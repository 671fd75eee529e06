"""The portfolio state from the DB: the daily-loss breaker still holds after a restart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from pm_lib.execution.paper import PaperExecutor
from pm_lib.models import Leg, Market, Opportunity, OrderType, Outcome, Side
from pm_lib.portfolio import read_portfolio
from pm_lib.risk import RiskContext, RiskLimits, decide
from pm_lib.settings import Settings
from pm_lib.store import halt, make_engine, session_scope
from tests.execution.builders import COND, FEES, NO, NOW, YES, book, request
from tests.execution.conftest import db_url

BOOKS = {YES: book(YES, asks=[("0.50", "10"), ("0.51", "100")], bids=[("0.40", "10")])}
MARKET = Market(
    condition_id=COND,
    market_id="1",
    question="Will the breaker hold?",
    slug="breaker",
    outcomes=(Outcome(name="Yes", token_id=YES), Outcome(name="No", token_id=NO)),
    tick_size=Decimal("0.01"),
    min_order_size=Decimal("5"),
    fees=FEES,
)


def lose_money_today(settings: Settings, engine: Engine) -> None:
    """Buy 10 @ 0.50 (fee 0.1), sell 10 @ 0.40 (fee 0.096): realised -1.00, fees 0.196."""
    executor = PaperExecutor(settings, engine, books=BOOKS, run_id="r1", clock=lambda: NOW)
    executor.place(
        [
            request("r1:o:0", Side.BUY, "10", "0.50", OrderType.FOK),
            request("r1:o:1", Side.SELL, "10", "0.40", OrderType.FOK),
        ]
    )


def buy_opportunity() -> Opportunity:
    leg = Leg(
        token_id=YES,
        condition_id=COND,
        side=Side.BUY,
        size=Decimal("10"),
        limit_price=Decimal("0.51"),
        expected_vwap=Decimal("0.51"),
    )
    return Opportunity(
        id="opp-after-restart",
        strategy="fair_value",
        market=COND,
        legs=(leg,),
        edge=Decimal("1"),
        cost=Decimal("5.1"),
        fees=Decimal("0.1"),
        payout=Decimal("6.2"),
        reason="test",
        created_at=NOW,
    )


def test_todays_losses_are_read_back_from_a_fresh_engine(
    tmp_path: Path, engine: Engine, settings: Settings
) -> None:
    lose_money_today(settings, engine)
    engine.dispose()
    fresh = make_engine(db_url(tmp_path))
    try:
        with session_scope(fresh) as session:
            state = read_portfolio(session, "paper", NOW, settings, books=BOOKS).state()
    finally:
        fresh.dispose()
    assert (state.realised_pnl_today, state.fees_today) == (Decimal("-1.00"), Decimal("0.196"))
    assert state.cash == Decimal("98.804")  # 100 - 5.1 + 4.0 - 0.096
    assert state.positions == {}


def test_risk_gate_rejects_new_buys_after_a_restart_once_the_day_lost_too_much(
    tmp_path: Path, engine: Engine
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, paper_balance=Decimal("100"), max_daily_loss=Decimal(1)
    )
    lose_money_today(settings, engine)
    engine.dispose()
    fresh = make_engine(db_url(tmp_path))
    try:
        with session_scope(fresh) as session:
            state = read_portfolio(session, "paper", NOW, settings, books=BOOKS).state()
    finally:
        fresh.dispose()
    decision = decide(
        buy_opportunity(),
        state,
        RiskLimits.from_settings(settings),
        NOW,
        RiskContext(markets={COND: MARKET}, books=BOOKS),
    )
    assert (decision.approved, decision.rule) == (False, "max_daily_loss")


def test_kill_switch_and_resting_orders_are_in_the_state(
    engine: Engine, settings: Settings
) -> None:
    executor = PaperExecutor(settings, engine, books=BOOKS, run_id="r1", clock=lambda: NOW)
    executor.place([request("r1:o:0", Side.BUY, "10", "0.45", OrderType.GTC)])
    with session_scope(engine) as session:
        halt(session, "operator says stop", "test", at=NOW)
    with session_scope(engine) as session:
        state = read_portfolio(session, "paper", NOW, settings, books=BOOKS).state()
    assert (state.open_orders, state.open_order_notional) == (1, Decimal("4.50"))
    assert (state.halted, state.halted_reason) == (True, "operator says stop")
