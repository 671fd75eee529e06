"""Properties of the strategies over random ladders: exact accounting, venue-valid legs, and
sizes that never grow when depth is removed."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pm_lib.book_math import is_valid_price, precision_problem, walk_buy, walk_sell
from pm_lib.models import FeeSchedule, Level, Opportunity, Side
from pm_lib.strategy import ComplementArbitrage, FairValue, NegRiskArbitrage, StrategyParams
from tests.strategy.builders import (
    NOW,
    POLITICS_FEES,
    D,
    binary_market,
    book,
    books_by_token,
    catalogue,
    neg_risk_event,
    params,
    portfolio,
    position,
)

CENT = D("0.01")
fee_schedules = st.sampled_from([FeeSchedule.none(), POLITICS_FEES])
strategy_params = st.builds(
    params,
    min_edge=st.sampled_from([D(0), D("0.005"), D("0.02")]),
    max_order_notional=st.sampled_from([D(20), D(100), D(1000)]),
)


@st.composite
def ladders(draw: st.DrawFn, low: int = 20, high: int = 79) -> tuple[Level, ...]:
    """Ask ladders (best first) priced 0.20-0.79, so 5 shares always clear the $1 minimum."""
    ticks = sorted(draw(st.lists(st.integers(low, high), min_size=1, max_size=5, unique=True)))
    return tuple(
        Level(price=D(t) * CENT, size=D(draw(st.integers(1, 30_000))) * CENT) for t in ticks
    )


def complement_size(
    yes: tuple[Level, ...], no: tuple[Level, ...], fees: FeeSchedule, p: StrategyParams
) -> Decimal:
    market = binary_market(fees=fees)
    books = books_by_token(book("y1", yes), book("n1", no))
    found = ComplementArbitrage(p).find(catalogue([market]), books, portfolio(), NOW)
    return found.opportunities[0].legs[0].size if found.opportunities else D(0)


def thinner(levels: tuple[Level, ...], index: int, keep: float) -> tuple[Level, ...]:
    """``levels`` with level ``index`` cut to a fraction of its size (dropped when it hits 0)."""
    index %= len(levels)
    level = levels[index]
    size = (level.size * D(str(keep))).quantize(CENT)
    cut = [*levels[:index], *([level.model_copy(update={"size": size})] if size else [])]
    return (*cut, *levels[index + 1 :])


@settings(max_examples=300)
@given(
    yes=ladders(),
    no=ladders(),
    fees=fee_schedules,
    p=strategy_params,
    cut_yes=st.booleans(),
    index=st.integers(0, 10),
    keep=st.sampled_from([0.0, 0.25, 0.5, 0.99]),
)
def test_removing_depth_never_increases_the_complement_size(
    yes: tuple[Level, ...],
    no: tuple[Level, ...],
    fees: FeeSchedule,
    p: StrategyParams,
    cut_yes: bool,
    index: int,
    keep: float,
) -> None:
    before = complement_size(yes, no, fees, p)
    if cut_yes:
        after = complement_size(thinner(yes, index, keep), no, fees, p)
    else:
        after = complement_size(yes, thinner(no, index, keep), fees, p)
    assert after <= before


def check_accounting(opp: Opportunity, p: StrategyParams, fees: FeeSchedule) -> None:
    """Edge is exactly payout - cost - fees, and each leg is an order the venue accepts."""
    assert opp.edge == opp.payout - opp.cost - opp.fees
    assert opp.fees == sum((leg.expected_fee for leg in opp.legs), D(0))
    tick = D("0.01")
    for leg in opp.legs:
        assert is_valid_price(leg.limit_price, tick)
        assert precision_problem(leg.side, leg.size, leg.limit_price, tick, leg.order_type) is None
        assert leg.size * leg.limit_price <= p.max_order_notional
        assert leg.size >= 5


@given(yes=ladders(), no=ladders(), fees=fee_schedules, p=strategy_params)
def test_complement_accounting_is_exact(
    yes: tuple[Level, ...], no: tuple[Level, ...], fees: FeeSchedule, p: StrategyParams
) -> None:
    market = binary_market(fees=fees)
    books = books_by_token(book("y1", yes), book("n1", no))
    for opp in (
        ComplementArbitrage(p).find(catalogue([market]), books, portfolio(), NOW).opportunities
    ):
        check_accounting(opp, p, fees)
        size = opp.legs[0].size
        walks = [walk_buy(b, size, fees) for b in (yes, no)]
        assert opp.cost == sum((w.cost for w in walks), D(0))
        assert opp.payout == size
        assert opp.edge > p.min_edge * size


@given(
    asks=st.lists(ladders(low=5, high=45), min_size=2, max_size=4),
    fees=fee_schedules,
    p=strategy_params,
)
def test_negrisk_accounting_is_exact(
    asks: list[tuple[Level, ...]], fees: FeeSchedule, p: StrategyParams
) -> None:
    markets = [
        binary_market(
            f"c{i}", f"y{i}", f"n{i}", fees=fees, neg_risk=True, neg_risk_market_id="0xgroupe"
        )
        for i in range(len(asks))
    ]
    books = books_by_token(*(book(m.yes.token_id, a) for m, a in zip(markets, asks, strict=True)))
    cat = catalogue(markets, [neg_risk_event("e", markets)])
    for opp in NegRiskArbitrage(p).find(cat, books, portfolio(), NOW).opportunities:
        check_accounting(opp, p, fees)
        assert opp.payout == opp.legs[0].size
        assert {leg.size for leg in opp.legs} == {opp.legs[0].size}


@given(
    asks=ladders(),
    fair=st.integers(1, 99).map(lambda n: D(n) * CENT),
    held=st.integers(0, 500),
    cash=st.integers(0, 100_000),
    fees=fee_schedules,
    p=strategy_params,
)
def test_fair_value_accounting_is_exact(
    asks: tuple[Level, ...],
    fair: Decimal,
    held: int,
    cash: int,
    fees: FeeSchedule,
    p: StrategyParams,
) -> None:
    bids = tuple(Level(price=lvl.price - CENT * 5, size=lvl.size) for lvl in reversed(asks))
    market = binary_market(fees=fees)
    books = books_by_token(book("y1", asks, bids))
    state = portfolio(cash=cash, positions={"y1": position("y1", held, "0.5")} if held else {})
    strategy = FairValue(p, {"y1": fair})
    for opp in strategy.find(catalogue([market]), books, state, NOW).opportunities:
        check_accounting(opp, p, fees)
        (leg,) = opp.legs
        if leg.side is Side.BUY:
            assert opp.cost == walk_buy(asks, leg.size, fees).cost
        else:
            assert leg.size <= held
            assert opp.payout == walk_sell(bids, leg.size, fees).cost
