"""Fair value: buys below fair - edge, sells holdings above fair + edge, capped Kelly sizing."""

from __future__ import annotations

from decimal import Decimal

from pm_lib.models import Level, OrderType, PortfolioState, Side
from pm_lib.strategy import FairValue, StrategyResult
from tests.strategy.builders import (
    NOW,
    POLITICS_FEES,
    D,
    binary_market,
    book,
    books_by_token,
    catalogue,
    ladder,
    params,
    portfolio,
    position,
)

ASKS = ladder(("0.50", 100), ("0.55", 100), ("0.58", 100))
BIDS = ladder(("0.46", 30), ("0.44", 30), ("0.42", 100))


def scan(
    fair: dict[str, Decimal],
    *,
    asks: tuple[Level, ...] = (),
    bids: tuple[Level, ...] = (),
    state: PortfolioState | None = None,
    fees: bool = False,
) -> StrategyResult:
    market = binary_market(fees=POLITICS_FEES if fees else None)
    books = books_by_token(book("y1", asks, bids), book("n1"))
    strategy = FairValue(params(), fair)
    return strategy.find(catalogue([market]), books, state or portfolio(), NOW)


def test_buy_is_sized_by_a_quarter_kelly_stake() -> None:
    # fair 0.60 - edge 0.03 = 0.57: asks 0.50 and 0.55 qualify (depth 200), 0.58 does not
    # Kelly at the worst qualifying price: f* = (0.60 - 0.55) / (1 - 0.55) = 0.1111..
    # stake = 0.25 * 0.1111.. * 1000 cash = 27.78; shares = 27.78 / 0.55 = 50.5 -> 50
    # (caps: depth 200, notional 100 / 0.55 = 181.8) -> walk 50 @ 0.50 = 25.00
    # value 50 * 0.60 = 30.00; edge 30.00 - 25.00 = 5.00
    (opp,) = scan({"y1": D("0.60")}, asks=ASKS).opportunities
    (leg,) = opp.legs
    assert (leg.side, leg.size, leg.limit_price, leg.order_type) == (
        Side.BUY,
        D(50),
        D("0.50"),
        OrderType.GTC,
    )
    assert (opp.cost, opp.payout, opp.edge) == (D("25.00"), D("30.000000"), D("5.000000"))
    assert "size capped by Kelly" in opp.reason


def test_kelly_stake_is_capped_by_the_order_notional() -> None:
    # cash 100000: Kelly would buy 5050 shares; notional 100 / 0.55 = 181.8 -> 181
    # walk: 100 @ 0.50 = 50.00 + 81 @ 0.55 = 44.55 -> cost 94.55; 181 * 0.55 = 99.55 <= 100
    # value 181 * 0.60 = 108.60; edge 108.60 - 94.55 = 14.05
    (opp,) = scan({"y1": D("0.60")}, asks=ASKS, state=portfolio(cash=100000)).opportunities
    assert (opp.legs[0].size, opp.legs[0].limit_price) == (D(181), D("0.55"))
    assert (opp.cost, opp.edge) == (D("94.55"), D("14.05"))
    assert "size capped by max order notional" in opp.reason


def test_fees_keep_a_level_out_when_they_eat_the_edge() -> None:
    # net ask with fee: 0.56 + 0.04*0.56*0.44 = 0.569856 <= 0.57 qualifies;
    # 0.57 + 0.04*0.57*0.43 = 0.579804 > 0.57 does not -> limit 0.56
    asks = ladder(("0.56", 100), ("0.57", 100))
    (opp,) = scan({"y1": D("0.60")}, asks=asks, fees=True).opportunities
    assert opp.legs[0].limit_price == D("0.56")


def test_held_position_is_sold_above_fair_plus_edge() -> None:
    # fair 0.40 + edge 0.03 = 0.43: bids 0.46 and 0.44 qualify (depth 60); held 40 -> sell 40
    # proceeds 30 * 0.46 + 10 * 0.44 = 13.80 + 4.40 = 18.20; value given up 40 * 0.40 = 16.00
    # edge 18.20 - 16.00 = 2.20
    state = portfolio(positions={"y1": position("y1", 40, "0.35")})
    (opp,) = scan({"y1": D("0.40")}, bids=BIDS, state=state).opportunities
    (leg,) = opp.legs
    assert (leg.side, leg.size, leg.limit_price) == (Side.SELL, D(40), D("0.44"))
    assert (opp.payout, opp.cost, opp.edge) == (D("18.20"), D("16.000000"), D("2.200000"))


def test_rich_bids_without_a_position_sell_nothing() -> None:
    assert scan({"y1": D("0.40")}, bids=BIDS) == StrategyResult()


def test_a_slug_prices_yes_and_its_complement_prices_no() -> None:
    # slug fair 0.30 -> NO fair 0.70; NO asks at 0.60 <= 0.70 - 0.03 qualify
    market = binary_market()
    books = books_by_token(book("y1"), book("n1", ladder(("0.60", 100))))
    strategy = FairValue(params(), {"market-c1": D("0.30")})
    (opp,) = strategy.find(catalogue([market]), books, portfolio(), NOW).opportunities
    assert (opp.legs[0].token_id, opp.legs[0].side) == ("n1", Side.BUY)
    assert opp.payout == opp.legs[0].size * D("0.70")


def test_kelly_size_under_the_minimum_is_skipped_with_the_reason() -> None:
    # cash 50: stake 0.25 * 0.1111 * 50 = 1.39 -> 2.5 shares -> 2 < 5
    result = scan({"y1": D("0.60")}, asks=ASKS, state=portfolio(cash=50))
    assert result.opportunities == ()
    assert "buy size 2 (Kelly cap) is below the minimum order size 5" in result.skipped[0].reason


def test_a_stale_book_is_skipped() -> None:
    market = binary_market()
    books = books_by_token(book("y1", ASKS, age_seconds=120))
    result = FairValue(params(), {"y1": D("0.6")}).find(
        catalogue([market]), books, portfolio(), NOW
    )
    assert "stale book for token y1" in result.skipped[0].reason
