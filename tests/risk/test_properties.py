"""Properties of the gate: an approved set never breaches a limit, and nothing raises."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from pm_lib.models import Leg, Opportunity, OrderType, PortfolioState, Side
from pm_lib.risk import RiskLimits, apply_risk, buy_exposure
from tests.risk.scenario import context, limits, opportunity
from tests.strategy.builders import NOW, D, binary_market, book, ladder, portfolio, position

MARKETS = [
    binary_market("c1", "y1", "n1", neg_risk=True, neg_risk_market_id="g"),
    binary_market("c2", "y2", "n2", neg_risk=True, neg_risk_market_id="g"),
    binary_market("c3", "y3", "n3"),
]
TOKENS = {"y1": "c1", "n1": "c1", "y2": "c2", "n2": "c2", "y3": "c3", "n3": "c3"}
BOOKS = [
    book(t, ladder(("0.40", 200), ("0.45", 200)), ladder(("0.38", 300)), condition_id=c)
    for t, c in TOKENS.items()
]
CONTEXT = context(MARKETS, BOOKS)


@st.composite
def legs(draw: st.DrawFn) -> Leg:
    token = draw(st.sampled_from(sorted(TOKENS)))
    side = draw(st.sampled_from([Side.BUY, Side.BUY, Side.SELL]))
    price = draw(st.sampled_from(["0.38", "0.40", "0.45", "0.50"]))
    return Leg(
        token_id=token,
        condition_id=TOKENS[token],
        side=side,
        size=D(draw(st.integers(3, 250))),
        limit_price=D(price),
        expected_vwap=D(price),
        order_type=draw(st.sampled_from([OrderType.FOK, OrderType.GTC])),
    )


@st.composite
def opportunities(draw: st.DrawFn) -> list[Opportunity]:
    found = []
    for n in range(draw(st.integers(1, 8))):
        legs_drawn = tuple(draw(st.lists(legs(), min_size=1, max_size=3)))
        edge = D(draw(st.integers(0, 4000))) / 100
        found.append(opportunity(*legs_drawn, edge=edge, ident=f"o{n}"))
    return found


@st.composite
def states(draw: st.DrawFn) -> PortfolioState:
    held = {
        t: position(t, draw(st.integers(1, 400)), "0.40", condition_id=TOKENS[t])
        for t in draw(st.sets(st.sampled_from(sorted(TOKENS)), max_size=3))
    }
    return portfolio(
        positions=held,
        open_orders=draw(st.integers(0, 5)),
        open_order_notional=D(draw(st.integers(0, 200))),
        realised_pnl_today=D(draw(st.integers(-150, 50))),
        cash=D(draw(st.integers(0, 3000))),
    )


risk_limits = st.builds(
    limits,
    max_order_notional=st.sampled_from([D(50), D(100)]),
    max_position_per_market=st.sampled_from([D(100), D(250)]),
    max_position_per_group=st.sampled_from([D(250), D(400)]),
    max_total_exposure=st.sampled_from([D(400), D(2000)]),
    max_open_orders=st.integers(0, 8),
)


def cost(state: PortfolioState, condition_ids: set[str]) -> Decimal:
    return sum(
        (p.size * p.avg_price for p in state.positions.values() if p.condition_id in condition_ids),
        D(0),
    )


@settings(max_examples=300)
@given(opps=opportunities(), state=states(), lim=risk_limits)
def test_an_approved_set_never_breaches_a_limit(
    opps: list[Opportunity], state: PortfolioState, lim: RiskLimits
) -> None:
    decisions = apply_risk(opps, state, lim, NOW, CONTEXT)
    assert len(decisions) == len(opps)
    approved_ids = {d.opportunity_id for d in decisions if d.approved}
    approved = [o for o in opps if o.id in approved_ids]
    by_market: dict[str, Decimal] = {}
    by_group: dict[str, Decimal] = {}
    total = D(0)
    resting = 0
    sold: dict[str, Decimal] = {}
    for opp in approved:
        markets, groups, added = buy_exposure(opp, CONTEXT.markets)
        for key, value in markets.items():
            by_market[key] = by_market.get(key, D(0)) + value
        for key, value in groups.items():
            by_group[key] = by_group.get(key, D(0)) + value
        total += added
        resting += sum(1 for leg in opp.legs if leg.order_type is OrderType.GTC)
        for leg in opp.legs:
            assert leg.size * leg.limit_price <= lim.max_order_notional
            if leg.side is Side.SELL:
                sold[leg.token_id] = sold.get(leg.token_id, D(0)) + leg.size
        assert opp.edge >= lim.min_edge_usd
    for condition_id, added in by_market.items():
        assert cost(state, {condition_id}) + added <= lim.max_position_per_market
    if "g" in by_group:
        assert cost(state, {"c1", "c2"}) + by_group["g"] <= lim.max_position_per_group
    if total:
        assert cost(state, set(TOKENS.values())) + state.open_order_notional + total <= (
            lim.max_total_exposure
        )
    if resting:
        assert state.open_orders + resting <= lim.max_open_orders
    fees = sum((o.fees for o in approved if buy_exposure(o, CONTEXT.markets)[2] > 0), D(0))
    if total:
        assert state.open_order_notional + total + fees <= state.cash
    for token_id, size in sold.items():
        assert size <= state.positions[token_id].size
