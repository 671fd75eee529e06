"""Other runs' outstanding budget reservations count in every wallet rule (15.4).

Issue: two runs on one wallet, trading different markets, each passed the exposure check
against the same snapshot (75 + 53.7 = 128.7 pUSD against 100). The gate now adds what other
runs' reservations hold (``RiskContext.reserved``) to exposure, cash, open orders and the daily
loss; ``recheck_budget`` re-runs those rules on a fresh state under the wallet's lock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from pm_lib.models import OrderType
from pm_lib.risk import BUDGET_RULES, RiskContext, RunConsumption, decide, recheck_budget
from tests.risk.scenario import context, leg, limits, opportunity
from tests.strategy.builders import NOW, D, binary_market, book, ladder, portfolio

DEEP = ladder(("0.50", 1000), ("0.51", 1000))


def ctx(reserved: RunConsumption | None = None) -> RiskContext:
    base = context([binary_market()], [book("y1", DEEP, ladder(("0.49", 500)))])
    return replace(base, reserved=reserved or RunConsumption())


def others(total: str, *, fees: str = "0", open_orders: int = 0) -> RunConsumption:
    """What another run's reservation on another market (c9) holds."""
    return RunConsumption().add(
        by_market={"c9": D(total)},
        by_group={},
        total=D(total),
        fees=D(fees),
        open_orders=open_orders,
    )


def test_the_issue_75_plus_53_7_against_100_is_refused() -> None:
    # this run: 97 x 0.55 = 53.35; another run reserved 75 on another market
    opp = opportunity(leg(size=97))
    limit = limits(
        max_total_exposure=D(100), max_position_per_group=D(100), max_position_per_market=D(100)
    )
    alone = decide(opp, portfolio(), limit, NOW, ctx())
    shared = decide(opp, portfolio(), limit, NOW, ctx(others("75")))
    assert alone.approved
    assert shared.rule == "max_total_exposure"
    assert "reserved by other runs 75" in shared.reason and "128.35" in shared.reason
    assert shared.inputs["max_total_exposure.reserved_by_other_runs"] == "75"


def test_reservations_on_the_same_market_count_towards_its_limit() -> None:
    reserved = RunConsumption().add(
        by_market={"c1": D(245)}, by_group={}, total=D(245), fees=D(0), open_orders=0
    )
    decision = decide(opportunity(), portfolio(), limits(), NOW, ctx(reserved))
    assert decision.rule == "max_position_per_market"
    assert "reserved by other runs 245" in decision.reason


def test_reserved_notional_and_fees_are_not_free_cash() -> None:
    # cash 20; another run holds 9 + fees 0.5; this needs 11
    reserved = ctx(others("9", fees="0.5"))
    decision = decide(opportunity(), portfolio(cash=20), limits(), NOW, reserved)
    assert decision.rule == "sufficient_cash"
    assert "- reserved by other runs 9.5" in decision.reason


def test_reserved_resting_orders_count_as_open_orders() -> None:
    resting = opportunity(leg(order_type=OrderType.GTC))
    decision = decide(
        resting, portfolio(), limits(max_open_orders=3), NOW, ctx(others("1", open_orders=3))
    )
    assert decision.rule == "max_open_orders"
    assert "open + reserved by other runs 3" in decision.reason


def test_fees_other_runs_will_pay_count_towards_the_daily_loss() -> None:
    # realised loss 99.5 today; another run's reservation will pay 0.5 in fees: 100 reached
    state = portfolio(realised_pnl_today=D("-99.5"))
    assert decide(opportunity(), state, limits(), NOW, ctx()).approved
    decision = decide(opportunity(), state, limits(), NOW, ctx(others("1", fees="0.5")))
    assert decision.rule == "max_daily_loss"
    assert "fees reserved by other runs 0.5" in decision.reason


def test_the_recheck_runs_only_the_wallet_rules() -> None:
    names = [rule.__name__ for rule in BUDGET_RULES]
    assert names == [
        "kill_switch",
        "max_position_per_market",
        "max_position_per_group",
        "max_total_exposure",
        "sufficient_cash",
        "max_open_orders",
        "max_daily_loss",
    ]
    # an hour later the book is stale for book_fresh, but the recheck does not look at books
    later = NOW + timedelta(hours=1)
    state = portfolio(cash=10_000)
    assert decide(opportunity(), state, limits(), later, ctx()).rule == "book_fresh"
    assert recheck_budget(opportunity(), state, limits(), later, ctx()).approved
    decision = recheck_budget(opportunity(), state, limits(), later, ctx(others("1990")))
    assert decision.rule == "max_total_exposure"
