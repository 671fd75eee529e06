"""Signals then risk, as a run does them: pure functions end to end."""

from __future__ import annotations

from pm_lib.risk import RiskContext, apply_risk
from pm_lib.strategy import ComplementArbitrage, NegRiskArbitrage, Strategy, find_opportunities
from tests.risk.scenario import limits
from tests.strategy.builders import (
    NOW,
    POLITICS_FEES,
    binary_market,
    book,
    books_by_token,
    catalogue,
    ladder,
    neg_risk_event,
    params,
    portfolio,
)


def test_strategy_opportunities_pass_the_gate_on_the_same_books() -> None:
    plain = binary_market(fees=POLITICS_FEES)
    outcomes = [
        binary_market(f"c{i}", f"y{i}", f"n{i}", neg_risk=True, neg_risk_market_id="g")
        for i in (2, 3)
    ]
    cat = catalogue([plain, *outcomes], [neg_risk_event("e", outcomes, neg_risk_market_id="g")])
    books = books_by_token(
        book("y1", ladder(("0.45", 100))),
        book("n1", ladder(("0.50", 100))),
        book("y2", ladder(("0.40", 60)), condition_id="c2"),
        book("y3", ladder(("0.55", 60)), condition_id="c3"),
    )
    strategies: list[Strategy] = [ComplementArbitrage(params()), NegRiskArbitrage(params())]
    found = find_opportunities(cat, books, portfolio(), strategies, NOW)
    decisions = apply_risk(
        found.opportunities, portfolio(), limits(), NOW, RiskContext.from_catalogue(cat, books)
    )
    assert len(found.opportunities) == 2
    assert [d.rule for d in decisions] == ["approved", "approved"]
