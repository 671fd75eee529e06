"""sufficient_cash: a BUY is approved only when its legs and fees fit the uncommitted cash."""

from __future__ import annotations

from pm_lib.risk import apply_risk, decide
from tests.risk.scenario import leg, limits, opportunity
from tests.risk.test_gate import ctx
from tests.strategy.builders import NOW, D, portfolio


def test_buy_that_cash_cannot_pay_is_rejected_with_the_numbers() -> None:
    # 20 x 0.55 = 11.00 at the limit + fees 0 > cash 15 - open orders 5 = 10 free
    state = portfolio(cash=15, open_order_notional=D(5))
    decision = decide(opportunity(leg()), state, limits(), NOW, ctx())
    assert (decision.approved, decision.rule) == (False, "sufficient_cash")
    assert decision.inputs["sufficient_cash.needed"] == "11.00"
    assert "only 10 is free" in decision.reason


def test_buy_that_fits_exactly_is_approved() -> None:
    # needed 11.00 == free 11
    decision = decide(opportunity(leg()), portfolio(cash=11), limits(), NOW, ctx())
    assert decision.approved


def test_earlier_approvals_of_the_run_consume_cash() -> None:
    # each opportunity needs 11.00; cash 20 pays for the first only
    first = opportunity(leg(), ident="a", edge="2.01")
    second = opportunity(leg(), ident="b", edge="2.00")
    decisions = apply_risk([first, second], portfolio(cash=20), limits(), NOW, ctx())
    assert [(d.opportunity_id, d.approved, d.rule) for d in decisions] == [
        ("a", True, "approved"),
        ("b", False, "sufficient_cash"),
    ]
