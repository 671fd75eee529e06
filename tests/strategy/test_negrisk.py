"""Neg-risk arbitrage: complete baskets trade; incomplete, augmented or stale ones are skipped."""

from __future__ import annotations

from typing import Any

from pm_lib.models import Market, OrderType
from pm_lib.strategy import NegRiskArbitrage, StrategyResult
from tests.strategy.builders import (
    NOW,
    D,
    binary_market,
    book,
    books_by_token,
    catalogue,
    ladder,
    neg_risk_event,
    params,
    portfolio,
)

ASKS = {"c1": "0.30", "c2": "0.32", "c3": "0.33"}  # sum 0.95


def outcome(cid: str, **fields: Any) -> Market:
    fields.setdefault("neg_risk_market_id", "0xgroupe1")
    return binary_market(cid, f"y{cid}", f"n{cid}", neg_risk=True, event_id="e1", **fields)


def scan(
    markets: list[Market],
    *,
    listed: list[Market] | None = None,
    ages: dict[str, int] | None = None,
    asks: dict[str, str] = ASKS,
    **event_fields: Any,
) -> StrategyResult:
    event = neg_risk_event("e1", listed if listed is not None else markets, **event_fields)
    books = books_by_token(
        *(
            book(
                m.yes.token_id,
                ladder((asks[m.condition_id], 50)),
                condition_id=m.condition_id,
                age_seconds=(ages or {}).get(m.condition_id, 0),
            )
            for m in markets
        )
    )
    return NegRiskArbitrage(params()).find(catalogue(markets, [event]), books, portfolio(), NOW)


def test_complete_basket_below_one_is_an_opportunity() -> None:
    # 0.30 + 0.32 + 0.33 = 0.95 a basket; depth 50 each -> 50 baskets
    # cost 15.00 + 16.00 + 16.50 = 47.50; payout 50; edge 2.50
    (opp,) = scan([outcome("c1"), outcome("c2"), outcome("c3")]).opportunities
    assert (opp.cost, opp.payout, opp.edge) == (D("47.50"), D(50), D("2.50"))
    assert opp.market == "0xgroupe1"
    assert [(leg.token_id, leg.size, leg.limit_price) for leg in opp.legs] == [
        ("yc1", D(50), D("0.30")),
        ("yc2", D(50), D("0.32")),
        ("yc3", D(50), D("0.33")),
    ]
    assert all(leg.order_type is OrderType.FOK for leg in opp.legs)


def test_augmented_event_is_skipped_with_the_reason() -> None:
    result = scan([outcome("c1"), outcome("c2"), outcome("c3")], neg_risk_augmented=True)
    assert result.opportunities == ()
    assert "augmented" in result.skipped[0].reason and result.skipped[0].ident == "e1"


def test_a_closed_leg_makes_the_set_incomplete() -> None:
    result = scan([outcome("c1"), outcome("c2"), outcome("c3", closed=True)])
    assert result.opportunities == ()
    assert "incomplete outcome set: market c3 is closed" in result.skipped[0].reason


def test_a_leg_missing_from_the_catalogue_makes_the_set_incomplete() -> None:
    listed = [outcome("c1"), outcome("c2"), outcome("c3")]
    result = scan(listed[:2], listed=listed)
    assert "market c3 is not in the catalogue" in result.skipped[0].reason


def test_a_stale_leg_book_is_skipped() -> None:
    result = scan([outcome("c1"), outcome("c2"), outcome("c3")], ages={"c2": 90})
    assert "stale book for token yc2" in result.skipped[0].reason


def test_basket_at_or_above_one_is_quietly_ignored() -> None:
    # 0.30 + 0.32 + 0.33 + 0.40 = 1.35: no edge, and nothing to report
    markets = [outcome("c1"), outcome("c2"), outcome("c3"), outcome("c4")]
    assert scan(markets, asks={**ASKS, "c4": "0.40"}) == StrategyResult()


def test_an_outcome_the_event_leaves_out_refuses_the_basket() -> None:
    # Issue 15.2: the event's nested list leaves out the favourite (c4 at 0.90) that the
    # catalogue holds under the same negRiskMarketID; the listed long shots sum to 0.95
    markets = [outcome("c1"), outcome("c2"), outcome("c3"), outcome("c4")]
    result = scan(markets, listed=markets[:3], asks={**ASKS, "c4": "0.90"})
    assert result.opportunities == ()
    (skip,) = result.skipped
    assert skip.ident == "e1"
    assert (
        "incomplete outcome set: the catalogue holds 1 market(s) under negRiskMarketID "
        "0xgroupe1 that the event does not list: c4"
    ) in skip.reason


def test_a_listed_market_of_another_group_refuses_the_basket() -> None:
    markets = [outcome("c1"), outcome("c2"), outcome("c3", neg_risk_market_id="0xother")]
    result = scan(markets)
    assert result.opportunities == ()
    assert "market c3 is listed by the event but carries negRiskMarketID 0xother" in (
        result.skipped[0].reason
    )


def test_an_event_without_a_group_id_is_not_traded() -> None:
    markets = [outcome("c1"), outcome("c2"), outcome("c3")]
    result = scan(markets, neg_risk_market_id=None)
    assert result.opportunities == ()
    assert "no negRiskMarketID on the event" in result.skipped[0].reason


def test_an_outcome_without_a_book_refuses_the_basket() -> None:
    markets = [outcome("c1"), outcome("c2"), outcome("c3")]
    event = neg_risk_event("e1", markets)
    books = books_by_token(
        *(book(m.yes.token_id, ladder((ASKS[m.condition_id], 50))) for m in markets[:2])
    )
    result = NegRiskArbitrage(params()).find(catalogue(markets, [event]), books, portfolio(), NOW)
    assert result.opportunities == ()
    assert "yc3" in result.skipped[0].reason


def test_a_leg_walking_under_a_dollar_refuses_the_whole_basket() -> None:
    # Issue 16.5: 10 baskets; c2 walks 8 @ 0.05 + 2 @ 0.11 = 0.62 pUSD (size x limit 1.10)
    markets = [outcome("c1"), outcome("c2"), outcome("c3")]
    event = neg_risk_event("e1", markets)
    asks = {
        "yc1": ladder(("0.30", 10)),
        "yc2": ladder(("0.05", 8), ("0.11", 100)),
        "yc3": ladder(("0.30", 10)),
    }
    books = books_by_token(
        *(book(t, a, condition_id=t[1:]) for t, a in asks.items()),
    )
    result = NegRiskArbitrage(params()).find(catalogue(markets, [event]), books, portfolio(), NOW)
    assert result.opportunities == ()
    assert "a leg spends 0.62 pUSD along its book (size x limit 1.10)" in result.skipped[0].reason


def test_a_leg_not_accepting_orders_refuses_the_basket() -> None:
    result = scan([outcome("c1"), outcome("c2", accepting_orders=False), outcome("c3")])
    assert result.opportunities == ()
    assert "incomplete outcome set: market c2 is not accepting orders" in result.skipped[0].reason
