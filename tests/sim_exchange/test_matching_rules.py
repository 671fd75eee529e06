"""Pure pieces: price-time matching on the mirrored ladder and the order rules."""

from __future__ import annotations

import re
from collections import deque
from decimal import Decimal

import pytest

from pm_lib.sim.matching import apply_fills, crosses, plan_match, remove_resting
from pm_lib.sim.order_rules import (
    CodedRejection,
    check_amount_precision,
    check_time_in_force,
    order_terms,
)
from pm_lib.sim.signing import OrderRejected, SignedOrder
from pm_lib.sim.state import Ladder, RestingOrder, yes_terms

TICK = Decimal("0.01")


def _ask(order_id: str, price: str, size: str, owner: str | None = None) -> RestingOrder:
    return RestingOrder(order_id, "SELL", Decimal(price), Decimal(size), owner=owner)


def _ladder(*asks: RestingOrder) -> Ladder:
    ladder = Ladder()
    for order in asks:
        ladder.add(order)
    return ladder


def _order(side: str, maker: int, taker: int) -> SignedOrder:
    return SignedOrder(
        salt=1,
        maker="0x" + "11" * 20,
        signer="0x" + "11" * 20,
        token_id="1",
        maker_amount=maker,
        taker_amount=taker,
        side=side,
        signature_type=0,
        timestamp_ms=0,
        metadata="0x" + "00" * 32,
        builder="0x" + "00" * 32,
        signature="0x",
        expiration=0,
    )


def test_fills_take_the_best_price_then_the_oldest_order() -> None:
    ladder = _ladder(_ask("first-0.55", "0.55", "5"), _ask("worse-0.56", "0.56", "5"))
    ladder.add(_ask("second-0.55", "0.55", "5"))

    fills = plan_match(ladder, "BUY", Decimal("0.56"), Decimal("12"))

    assert [(f.maker.order_id, f.size) for f in fills] == [
        ("first-0.55", Decimal(5)),
        ("second-0.55", Decimal(5)),
        ("worse-0.56", Decimal(2)),
    ]


def test_planning_leaves_the_ladder_untouched_until_applied() -> None:
    ladder = _ladder(_ask("a", "0.55", "5"))
    fills = plan_match(ladder, "BUY", Decimal("0.55"), Decimal("5"))
    before = ladder.levels("SELL")

    apply_fills(ladder, fills)

    assert before == [(Decimal("0.55"), Decimal(5))]
    assert ladder.levels("SELL") == [] and ladder.asks == {}


def test_buying_no_at_q_matches_yes_bids_at_one_minus_q() -> None:
    ladder = Ladder()
    ladder.add(RestingOrder("bid", "BUY", Decimal("0.52"), Decimal("10")))
    yes_side, yes_limit = yes_terms(False, "BUY", Decimal("0.48"))

    fills = plan_match(ladder, yes_side, yes_limit, Decimal("10"))

    assert (yes_side, yes_limit) == ("SELL", Decimal("0.52"))
    assert [(f.maker.order_id, f.yes_price) for f in fills] == [("bid", Decimal("0.52"))]


def test_a_limit_short_of_the_touch_does_not_cross() -> None:
    ladder = _ladder(_ask("a", "0.55", "5"))

    assert not crosses(ladder, "BUY", Decimal("0.54"))
    assert crosses(ladder, "BUY", Decimal("0.55"))


def test_cancel_removes_only_that_order() -> None:
    mine = _ask("mine", "0.55", "5", owner="key")
    ladder = _ladder(_ask("bg", "0.55", "5"), mine)

    assert remove_resting(ladder, mine)
    assert [o.order_id for o in ladder.asks[Decimal("0.55")]] == ["bg"]
    assert not remove_resting(ladder, mine)


def test_sdk_market_buy_amounts_sit_within_a_hair_of_the_tick() -> None:
    # $5 at 0.53: the SDK signs 5.00 pUSD for 9.4339 shares (ratio 0.530003...).
    terms = order_terms("0xid", _order("BUY", 5_000_000, 9_433_900), TICK)

    assert (terms.size, terms.tick_price) == (Decimal("9.4339"), Decimal("0.53"))
    assert terms.limit > Decimal("0.53")


def test_price_between_ticks_breaks_the_tick_rule() -> None:
    with pytest.raises(OrderRejected, match=re.escape("breaks minimum tick size rule: 0.01")):
        order_terms("0xid", _order("BUY", 4_530_000, 10_000_000), TICK)


def test_price_at_the_edge_of_the_range_breaks_the_tick_rule() -> None:
    with pytest.raises(OrderRejected, match=re.escape("Price (0.995)")):
        order_terms("0xid", _order("SELL", 10_000_000, 9_950_000), TICK)


def test_market_buy_pusd_amount_is_limited_to_two_decimals() -> None:
    order = _order("BUY", 1_009_200, 1_740_000)  # 1.74 @ 0.58 = 1.0092 pUSD

    check_amount_precision(order, "GTC", TICK)
    with pytest.raises(OrderRejected, match="market buy orders maker amount supports a max"):
        check_amount_precision(order, "FOK", TICK)


def test_post_only_is_for_resting_orders_only() -> None:
    with pytest.raises(CodedRejection) as err:
        check_time_in_force("0xid", "FOK", True, 0, now=0, min_lead_seconds=60)

    assert err.value.code == "INVALID_POST_ONLY_ORDER_TYPE"


def test_gtd_expiration_exactly_the_minimum_lead_is_accepted() -> None:
    check_time_in_force("0xid", "GTD", False, 1060, now=1000, min_lead_seconds=60)

    with pytest.raises(CodedRejection):
        check_time_in_force("0xid", "GTD", False, 1059, now=1000, min_lead_seconds=60)


def test_level_queues_keep_fifo_after_a_partial_fill() -> None:
    ladder = _ladder(_ask("first", "0.55", "5"), _ask("second", "0.55", "5"))

    apply_fills(ladder, plan_match(ladder, "BUY", Decimal("0.55"), Decimal("3")))

    assert [(o.order_id, o.remaining) for o in ladder.asks[Decimal("0.55")]] == [
        ("first", Decimal(2)),
        ("second", Decimal(5)),
    ]
    assert isinstance(ladder.asks[Decimal("0.55")], deque)
