"""The risk gate: each rule rejects under its own name, with the numbers, in a fixed order."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from pm_lib.models import Level, OrderType, ProtocolVersion, Side
from pm_lib.portfolio import value_positions
from pm_lib.risk import RiskContext, apply_risk, decide
from tests.risk.scenario import context, leg, limits, opportunity
from tests.strategy.builders import (
    NOW,
    D,
    binary_market,
    book,
    ladder,
    portfolio,
    position,
)

THIN = ladder(("0.50", 5), ("0.70", 100))
DEEP = ladder(("0.50", 1000), ("0.51", 1000))


def ctx(asks: tuple[Level, ...] = DEEP, **market_fields: Any) -> RiskContext:
    return context([binary_market(**market_fields)], [book("y1", asks, ladder(("0.49", 500)))])


def test_thin_book_slippage_beyond_half_the_edge_is_rejected() -> None:
    # buy 20 at limit 0.55, edge 0.10 a share (2.00 pUSD)
    # VWAP: 5 @ 0.50 + 15 @ 0.70 = 13.00 / 20 = 0.65; slippage 13.00 - 20 * 0.55 = 2.00 = 0.10
    # a share > 0.5 * 0.10 = 0.05 a share allowed
    decision = decide(opportunity(leg()), portfolio(), limits(), NOW, ctx(THIN))
    assert (decision.approved, decision.rule) == (False, "slippage_guard")
    assert decision.inputs["slippage_guard.slippage"] == "2.00"
    assert decision.inputs["slippage_guard.allowed_slippage"] == "1.000"
    assert "VWAP 0.65" in decision.reason and "0.100000 a share" in decision.reason


def test_deep_book_at_the_limit_is_approved() -> None:
    # 20 @ 0.50 = 10.00 < 20 * 0.55 = 11.00: no slippage
    decision = decide(opportunity(leg()), portfolio(), limits(), NOW, ctx(DEEP))
    assert (decision.approved, decision.rule) == (True, "approved")
    assert decision.inputs["slippage_guard.slippage"] == "0"
    assert all(isinstance(v, str) for v in decision.inputs.values())


def test_kill_switch_rejects_everything() -> None:
    state = portfolio(halted=True, halted_reason="operator stop")
    decision = decide(opportunity(), state, limits(), NOW, ctx())
    assert (decision.rule, decision.reason) == ("kill_switch", "trading is halted: operator stop")


def test_closed_market_is_not_tradable() -> None:
    decision = decide(opportunity(), portfolio(), limits(), NOW, ctx(closed=True))
    assert (decision.rule, decision.reason) == ("market_tradable", "market c1 is closed")


def test_market_not_accepting_orders_is_not_tradable() -> None:
    decision = decide(opportunity(), portfolio(), limits(), NOW, ctx(accepting_orders=False))
    assert decision.rule == "market_tradable" and "not accepting orders" in decision.reason


def test_protocol_v2_market_is_not_tradable() -> None:
    decision = decide(opportunity(), portfolio(), limits(), NOW, ctx(version=ProtocolVersion.V2))
    assert decision.rule == "market_tradable" and "Protocol v2" in decision.reason


def test_market_ending_inside_the_buffer_is_not_tradable() -> None:
    # buffer 30 min: ending in 29 min is refused, ending in 31 min is fine
    soon = decide(
        opportunity(), portfolio(), limits(), NOW, ctx(end_date=NOW + timedelta(minutes=29))
    )
    later = decide(
        opportunity(), portfolio(), limits(), NOW, ctx(end_date=NOW + timedelta(minutes=31))
    )
    assert soon.rule == "market_tradable" and "within the 30 min buffer" in soon.reason
    assert later.approved


def test_market_missing_from_the_catalogue_is_not_tradable() -> None:
    decision = decide(opportunity(leg(condition_id="c9")), portfolio(), limits(), NOW, ctx())
    assert (decision.rule, decision.reason) == (
        "market_tradable",
        "market c9 is not in the catalogue",
    )


def test_missing_book_is_rejected_not_raised() -> None:
    decision = decide(opportunity(), portfolio(), limits(), NOW, context([binary_market()], []))
    assert (decision.rule, decision.reason) == ("book_fresh", "no book for token y1")


def test_stale_book_is_rejected() -> None:
    stale = context([binary_market()], [book("y1", DEEP, age_seconds=61)])
    decision = decide(opportunity(), portfolio(), limits(), NOW, stale)
    assert decision.rule == "book_fresh"
    assert decision.inputs["book_fresh.book_age_seconds"] == "61"


def test_price_off_the_tick_grid_is_a_venue_rule_failure() -> None:
    decision = decide(opportunity(leg(limit_price="0.555")), portfolio(), limits(), NOW, ctx())
    assert decision.rule == "venue_rules" and "limit 0.555 is not on tick 0.01" in decision.reason


def test_price_one_tick_above_one_minus_tick_is_rejected() -> None:
    # tick 0.01: the highest valid price is 0.99; 1.00 is one tick over
    edge_ok = opportunity(leg(size=5, limit_price="0.99"), edge="0.10")
    over = opportunity(leg(size=5, limit_price="1.00"), edge="0.10")
    assert decide(edge_ok, portfolio(), limits(), NOW, ctx()).rule != "venue_rules"
    decision = decide(over, portfolio(), limits(), NOW, ctx())
    assert decision.rule == "venue_rules" and "outside [0.01, 0.99]" in decision.reason


def test_size_below_the_minimum_is_rejected() -> None:
    decision = decide(opportunity(leg(size=4), edge="0.40"), portfolio(), limits(), NOW, ctx())
    assert decision.rule == "venue_rules" and "below the minimum order size 5" in decision.reason


def test_marketable_buy_under_one_dollar_is_rejected() -> None:
    # FOK BUY 5 @ 0.10 = 0.50 pUSD < $1
    cheap = ctx(ladder(("0.10", 100)))
    decision = decide(
        opportunity(leg(size=5, limit_price="0.10"), edge="0.1"), portfolio(), limits(), NOW, cheap
    )
    assert decision.rule == "venue_rules" and "below the venue's $1 minimum" in decision.reason


def test_fok_buy_amount_with_three_decimals_is_rejected() -> None:
    # tick 0.001: 19 * 0.583 = 11.077 pUSD, a FOK BUY needs 2 decimals
    fine = context(
        [binary_market(tick="0.001")], [book("y1", ladder(("0.583", 100)), tick="0.001")]
    )
    decision = decide(
        opportunity(leg(size=19, limit_price="0.583")), portfolio(), limits(), NOW, fine
    )
    assert decision.rule == "venue_rules" and "maker amount 11.077" in decision.reason


def test_selling_more_than_held_is_rejected() -> None:
    state = portfolio(positions={"y1": position("y1", 10, "0.40")})
    sell = opportunity(leg(size=20, limit_price="0.49", side=Side.SELL, order_type=OrderType.GTC))
    decision = decide(sell, state, limits(), NOW, ctx())
    assert decision.rule == "venue_rules" and "selling 20 but only 10 held" in decision.reason


def test_order_one_tick_over_the_notional_limit_is_rejected() -> None:
    # 200 @ 0.50 = 100.00 is at the limit; 200 @ 0.51 = 102.00 is one tick over
    at_limit = opportunity(leg(size=200, limit_price="0.50"), edge="4")
    over = opportunity(leg(size=200, limit_price="0.51"), edge="4")
    assert decide(at_limit, portfolio(), limits(), NOW, ctx()).approved
    decision = decide(over, portfolio(), limits(), NOW, ctx())
    assert decision.rule == "max_order_notional"
    assert decision.inputs["max_order_notional.notional"] == "102.00"


def test_position_per_market_counts_what_is_held() -> None:
    # held 480 @ 0.50 = 240 cost basis + 20 * 0.55 = 11.00 -> 251 > 250
    state = portfolio(positions={"y1": position("y1", 480, "0.50")})
    decision = decide(opportunity(), state, limits(), NOW, ctx())
    assert decision.rule == "max_position_per_market"
    assert "held 240.00 + approved this run 0 + this 11.00 = 251.00" in decision.reason


def test_position_per_neg_risk_group_sums_the_group() -> None:
    # c1 and c2 share group g; held 200 in c2; buying 150 in c1 -> group 350 > 300
    markets = [
        binary_market("c1", "y1", "n1", neg_risk=True, neg_risk_market_id="g"),
        binary_market("c2", "y2", "n2", neg_risk=True, neg_risk_market_id="g"),
    ]
    state = portfolio(positions={"y2": position("y2", 400, "0.50", condition_id="c2")})
    buy = opportunity(leg(size=300, limit_price="0.50"), edge="3")
    decision = decide(
        buy,
        state,
        limits(max_order_notional=D(200), max_position_per_group=D(300)),
        NOW,
        context(markets, [book("y1", DEEP)]),
    )
    assert decision.rule == "max_position_per_group"
    assert decision.inputs["max_position_per_group.held"] == "200.00"


def test_total_exposure_includes_open_orders() -> None:
    # a position of 3800 @ 0.50 = 1900.00 in another market + open orders 90 + this
    # 20 * 0.55 = 11.00 -> 2001.00 > 2000
    state = portfolio(
        positions={"z": position("z", 3800, "0.50", condition_id="c7")}, open_order_notional=D(90)
    )
    decision = decide(opportunity(), state, limits(), NOW, ctx())
    assert decision.rule == "max_total_exposure" and "= 2001.00 pUSD" in decision.reason


def test_open_order_limit_counts_only_resting_legs() -> None:
    state = portfolio(open_orders=50)
    gtc = opportunity(leg(order_type=OrderType.GTC, limit_price="0.50"))
    fok = opportunity(leg())
    assert decide(gtc, state, limits(), NOW, ctx()).rule == "max_open_orders"
    assert decide(fok, state, limits(), NOW, ctx()).approved


def test_daily_loss_at_the_limit_blocks_buying_but_not_selling() -> None:
    # realised -90 - fees 5 + unrealised (100 sold into 0.49 bids = 49.00 - cost 100 * 0.54 =
    # 54.00 -> -5.00, as pm_lib.portfolio marks it) = -100.00: loss 100.00 >= 100
    held = {"y1": position("y1", 100, "0.54")}
    unrealised = value_positions(held, now=NOW, books=ctx().books).unrealised
    state = portfolio(
        positions=held,
        realised_pnl_today=D(-90),
        fees_today=D(5),
        unrealised_pnl=unrealised,
    )
    buy = decide(opportunity(), state, limits(), NOW, ctx())
    sell = opportunity(leg(size=50, limit_price="0.49", side=Side.SELL), edge="0.5")
    assert buy.rule == "max_daily_loss" and D(buy.inputs["max_daily_loss.loss"]) == 100
    assert decide(sell, state, limits(), NOW, ctx()).approved


def test_a_tripped_daily_loss_breaker_blocks_buying_for_the_day_even_in_profit() -> None:
    state = portfolio(
        positions={"y1": position("y1", 100, "0.40")},
        realised_pnl_today=D(20),
        daily_loss_tripped_at=NOW - timedelta(hours=1),
    )
    buy = decide(opportunity(), state, limits(), NOW, ctx())
    sell = opportunity(leg(size=50, limit_price="0.49", side=Side.SELL), edge="0.5")
    assert buy.rule == "max_daily_loss" and "holds until the UTC day ends" in buy.reason
    assert decide(sell, state, limits(), NOW, ctx()).approved


def test_edge_below_min_edge_per_share_is_rejected() -> None:
    # 0.08 / 20 = 0.004 a share < 0.005
    decision = decide(opportunity(edge="0.08"), portfolio(), limits(), NOW, ctx())
    assert decision.rule == "min_edge" and "0.004000 a share" in decision.reason


def test_edge_below_min_edge_usd_is_rejected() -> None:
    decision = decide(opportunity(edge="0.10"), portfolio(), limits(min_edge_usd=D(1)), NOW, ctx())
    assert decision.rule == "min_edge" and "below min_edge_usd 1" in decision.reason


def test_a_nan_price_is_rejected_with_a_reason() -> None:
    # a NaN price cannot pass pydantic; model_copy stands in for data that skipped validation
    nan = leg().model_copy(update={"limit_price": Decimal("NaN")})
    decision = decide(
        opportunity().model_copy(update={"legs": (nan,)}), portfolio(), limits(), NOW, ctx()
    )
    assert (decision.approved, decision.rule) == (False, "venue_rules")
    assert "limit NaN is not on tick" in decision.reason


def test_data_a_rule_cannot_compute_with_fails_closed_instead_of_raising() -> None:
    market = binary_market().model_copy(update={"min_order_size": Decimal("NaN")})
    broken = context([market], [book("y1", DEEP)])
    decision = decide(opportunity(), portfolio(), limits(), NOW, broken)
    assert (decision.approved, decision.rule) == (False, "invalid_input")
    assert "venue_rules" in decision.reason


def test_multi_leg_basket_is_rejected_whole_when_one_leg_is_stale() -> None:
    market = binary_market()
    books = [book("y1", DEEP), book("n1", ladder(("0.40", 100)), age_seconds=300)]
    basket = opportunity(leg("y1", 20, "0.50"), leg("n1", 20, "0.40"), edge="2")
    decision = decide(basket, portfolio(), limits(), NOW, context([market], books))
    assert (decision.approved, decision.rule) == (False, "book_fresh")
    assert "n1" in decision.reason


def test_earlier_approvals_consume_the_market_limit() -> None:
    # per market 250: 300 @ 0.50 = 150 each; first approved, second 150 + 150 = 300 > 250
    first = opportunity(leg(size=300, limit_price="0.50"), edge="5", ident="a")
    second = opportunity(leg(size=300, limit_price="0.50"), edge="4", ident="b")
    wide = limits(max_order_notional=D(200))
    decisions = apply_risk([second, first], portfolio(), wide, NOW, ctx())
    assert [(d.opportunity_id, d.rule) for d in decisions] == [
        ("a", "approved"),
        ("b", "max_position_per_market"),
    ]
    assert decisions[1].inputs["max_position_per_market.approved_this_run"] == "150.00"


def test_best_edge_is_decided_first() -> None:
    small = opportunity(edge="1", ident="small")
    large = opportunity(edge="3", ident="large")
    decisions = apply_risk([small, large], portfolio(), limits(), NOW, ctx())
    assert [d.opportunity_id for d in decisions] == ["large", "small"]


def test_earlier_sells_count_against_what_is_held() -> None:
    state = portfolio(positions={"y1": position("y1", 30, "0.40")})
    sells = [
        opportunity(leg(size=20, limit_price="0.49", side=Side.SELL), edge=e, ident=i)
        for e, i in (("1", "s1"), ("0.9", "s2"))
    ]
    decisions = apply_risk(sells, state, limits(), NOW, ctx())
    assert [d.rule for d in decisions] == ["approved", "venue_rules"]
    assert "20 already sold this run" in decisions[1].reason


def test_decisions_are_stamped_with_now() -> None:
    decision = decide(opportunity(), portfolio(), limits(), NOW, ctx())
    assert decision.decided_at == NOW and decision.opportunity_id == "opp-1"


def test_a_neg_risk_basket_without_every_outcome_is_rejected_and_says_which() -> None:
    # Issue 15.2: YES of c1 and c2 bought as the whole group while the catalogue holds c3 (the
    # favourite) under the same negRiskMarketID
    def outcome(cid: str) -> Any:
        return binary_market(
            cid, f"y{cid}", f"n{cid}", neg_risk=True, neg_risk_market_id="0xg", event_id="e1"
        )

    markets = [outcome("c1"), outcome("c2"), outcome("c3")]
    books = [book(f"y{m.condition_id}", DEEP, condition_id=m.condition_id) for m in markets]
    basket = opportunity(
        leg("yc1", size=10, limit_price="0.50", condition_id="c1"),
        leg("yc2", size=10, limit_price="0.50", condition_id="c2"),
        edge="0.10",
    ).model_copy(update={"market": "0xg"})
    decision = decide(basket, portfolio(), limits(), NOW, context(markets, books))
    assert (decision.approved, decision.rule) == (False, "market_tradable")
    assert "incomplete neg-risk basket" in decision.reason and "c3" in decision.reason
    assert decision.inputs["market_tradable.missing"] == "c3"
    whole = basket.model_copy(
        update={"legs": (*basket.legs, leg("yc3", size=10, limit_price="0.50", condition_id="c3"))}
    )
    assert decide(whole, portfolio(), limits(), NOW, context(markets, books)).rule != (
        "market_tradable"
    )


# Issue 16.5: the $1 minimum is on what a marketable order executes along the book.
WALKED_UNDER_A_DOLLAR = ladder(("0.05", 8), ("0.11", 100))  # 10 shares: 0.40 + 0.22 = 0.62


def test_marketable_buy_is_measured_on_the_walked_book_not_size_times_limit() -> None:
    # FOK BUY 10 @ 0.11: size x limit 1.10, but it spends 0.62 along the book; the leg claims a
    # VWAP of 0.11 (a strategy's figure), the gate walks its own book
    decision = decide(
        opportunity(leg(size=10, limit_price="0.11"), edge="0.5"),
        portfolio(),
        limits(),
        NOW,
        ctx(WALKED_UNDER_A_DOLLAR),
    )
    assert decision.rule == "venue_rules" and "below the venue's $1 minimum" in decision.reason
    assert "executes 0.62 pUSD along the book (size x limit 1.10)" in decision.reason
    assert decision.inputs["venue_rules.notional"] == "0.62"


def test_a_basket_whose_middle_leg_walks_under_a_dollar_is_rejected_whole() -> None:
    markets = [binary_market(f"c{i}", f"y{i}", f"n{i}") for i in (1, 2, 3)]
    asks = {"y1": DEEP, "y2": WALKED_UNDER_A_DOLLAR, "y3": DEEP}
    books = [book(t, a, condition_id=f"c{t[1]}") for t, a in asks.items()]
    basket = opportunity(
        leg("y1", size=10, limit_price="0.50", condition_id="c1"),
        leg("y2", size=10, limit_price="0.11", condition_id="c2"),
        leg("y3", size=10, limit_price="0.50", condition_id="c3"),
        edge="0.5",
    )
    [decision] = apply_risk([basket], portfolio(), limits(), NOW, context(markets, books))
    assert not decision.approved and decision.rule == "venue_rules"
    assert decision.reason.startswith("token y2: marketable BUY 10 @ 0.11 executes 0.62 pUSD")


def test_marketable_sell_under_a_dollar_is_rejected() -> None:
    # FOK SELL 10 @ 0.05 into bids 0.05 x 100 receives 0.50: the venue refuses it
    held = portfolio(positions={"y1": position("y1", 10, "0.04")})
    sell = leg(size=10, limit_price="0.05", side=Side.SELL)
    bids = context([binary_market()], [book("y1", DEEP, ladder(("0.05", 100)))])
    decision = decide(opportunity(sell, edge="0.5"), held, limits(), NOW, bids)
    assert decision.rule == "venue_rules"
    assert "marketable SELL 10 @ 0.05 executes 0.50 pUSD" in decision.reason
