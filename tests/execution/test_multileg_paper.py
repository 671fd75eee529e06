"""Baskets on paper: a leg failing after another filled, under both unwind policies.

Leg A: BUY 10 YES_A, asks 0.40 x 10, bids 0.39 x 50 -> fills 4.00 + fee 10 x 0.04 x 0.24 = 0.096.
Leg B: BUY 10 YES_B FOK, asks 0.50 x 5 only -> refused. The basket is lopsided.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine

from pm_lib.execution.multileg import execute_opportunity, unwind_limit
from pm_lib.execution.paper import PaperExecutor
from pm_lib.models import OrderResult, OrderStatus, OrderType, Side
from pm_lib.settings import Settings
from pm_lib.store import leg_risks_for_run, session_scope
from tests.execution.builders import NOW, basket, book, market, request

COND_A, COND_B = "0x" + "a1" * 32, "0x" + "b2" * 32
MARKETS = {COND_A: market(COND_A, "11", "12"), COND_B: market(COND_B, "21", "22")}
BOOKS = {
    "11": book("11", asks=[("0.40", "10")], bids=[("0.39", "50")], condition=COND_A),
    "21": book("21", asks=[("0.50", "5")], bids=[("0.49", "50")], condition=COND_B),
}
OPPORTUNITY = basket("opp1", ("11", COND_A, "10", "0.40"), ("21", COND_B, "10", "0.50"))


def run(tmp_path: Path, engine: Engine, **limits: object) -> tuple[list[OrderResult], list[str]]:
    settings = Settings(_env_file=None, data_dir=tmp_path, paper_balance=Decimal(100), **limits)  # type: ignore[call-arg]
    executor = PaperExecutor(settings, engine, books=BOOKS, run_id="r1", clock=lambda: NOW)
    outcome = execute_opportunity(
        executor, OPPORTUNITY, MARKETS, BOOKS, settings=settings, engine=engine, run_id="r1"
    )
    with session_scope(engine) as session:
        risks = leg_risks_for_run(session, "r1")
    assert [r.intent_key for r in risks] == ["r1:opp1:0"]
    return list(outcome.results), [f"{r.policy}/{r.status}" for r in risks]


def test_sell_back_closes_the_filled_leg_at_the_bid(tmp_path: Path, engine: Engine) -> None:
    results, risks = run(tmp_path, engine, unwind_policy="sell_back")
    leg_a, leg_b, unwind = results
    assert (leg_a.status, leg_b.status) == (OrderStatus.MATCHED, OrderStatus.REJECTED)
    # 10 @ 0.39: proceeds 3.90, fee 10 x 0.04 x 0.39 x 0.61 = 0.09516
    assert (unwind.status, unwind.filled_size, unwind.fee) == (
        OrderStatus.MATCHED,
        Decimal("10"),
        Decimal("0.09516"),
    )
    assert risks == ["sell_back/unwound"]


def test_sell_back_holds_when_the_bid_would_lose_more_than_allowed(
    tmp_path: Path, engine: Engine
) -> None:
    # Budget 0.20: proceeds must reach 4.096 - 0.20 = 3.896 -> limit 0.40 (3.904 net); bid 0.39
    results, risks = run(tmp_path, engine, unwind_policy="sell_back", unwind_max_loss="0.2")
    unwind = results[-1]
    assert unwind.intent_key == "r1:opp1:unwind:0"
    assert (unwind.status, unwind.filled_size) == (OrderStatus.REJECTED, Decimal(0))
    assert risks == ["sell_back/held"]


def test_hold_keeps_the_filled_leg_and_flags_it(tmp_path: Path, engine: Engine) -> None:
    results, risks = run(tmp_path, engine, unwind_policy="hold")
    assert [r.status for r in results] == [OrderStatus.MATCHED, OrderStatus.REJECTED]
    assert risks == ["hold/held"]


def test_unwind_limit_is_the_lowest_price_within_the_loss_budget() -> None:
    leg = request("k", Side.BUY, "10", "0.40", OrderType.FOK)
    filled = OrderResult(
        intent_key="k",
        order_id="x",
        status=OrderStatus.MATCHED,
        filled_size=Decimal("10"),
        avg_price=Decimal("0.40"),
        fee=Decimal("0.096"),
    )
    # 0.39 nets 3.90 - 0.09516 = 3.80484 < 3.896; 0.40 nets 4.00 - 0.096 = 3.904
    assert unwind_limit(filled, leg, Decimal("0.2")) == Decimal("0.40")
    assert unwind_limit(filled, leg, Decimal("0.3")) == Decimal("0.39")
