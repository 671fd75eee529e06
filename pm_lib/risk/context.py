"""What the gate needs besides the portfolio: markets, books, this run's approvals so far, and
what other runs' approvals hold of the same wallet (their outstanding budget reservations,
``pm_lib.store.reservations``), which every exposure, cash, open-order and daily-loss rule adds.

Exposure is measured as the pUSD an order can commit: a BUY leg's ``size x limit_price``. SELL
legs never add exposure (they are not credited either, which keeps the gate conservative).
Positions count at cost basis (``size x avg_price``). A position whose market is not in the
catalogue cannot be placed in a neg-risk group, so it counts towards its market and the total
but not towards a group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

from pm_lib.models import ZERO, Catalogue, Leg, Market, Opportunity, OrderBook, OrderType, Side

__all__ = [
    "RiskContext",
    "RunConsumption",
    "buy_exposure",
    "leg_notional",
    "resting_legs",
]

RESTING_ORDER_TYPES = (OrderType.GTC, OrderType.GTD)


def leg_notional(leg: Leg) -> Decimal:
    """The order's notional: ``size x limit_price`` (what a BUY can spend, before fees)."""
    return leg.size * leg.limit_price


def buy_exposure(
    opportunity: Opportunity, markets: Mapping[str, Market]
) -> tuple[dict[str, Decimal], dict[str, Decimal], Decimal]:
    """(exposure by market, by neg-risk group, total) that ``opportunity``'s BUY legs add."""
    by_market: dict[str, Decimal] = {}
    by_group: dict[str, Decimal] = {}
    total = ZERO
    for leg in opportunity.legs:
        if leg.side is not Side.BUY:
            continue
        notional = leg_notional(leg)
        by_market[leg.condition_id] = by_market.get(leg.condition_id, ZERO) + notional
        market = markets.get(leg.condition_id)
        group = market.group_id if market is not None else None
        if group is not None:
            by_group[group] = by_group.get(group, ZERO) + notional
        total += notional
    return by_market, by_group, total


def resting_legs(opportunity: Opportunity) -> int:
    """Legs that may rest on the book (GTC/GTD) and so count as open orders."""
    return sum(1 for leg in opportunity.legs if leg.order_type in RESTING_ORDER_TYPES)


@dataclass(frozen=True, slots=True)
class RunConsumption:
    """What approvals already use: exposure, fees, open orders, shares sold.

    For this run's earlier approvals (``RiskContext.consumed``), and for other runs'
    outstanding reservations (``RiskContext.reserved``, where ``sold`` stays empty).
    """

    by_market: Mapping[str, Decimal] = field(default_factory=dict)
    by_group: Mapping[str, Decimal] = field(default_factory=dict)
    total: Decimal = ZERO
    open_orders: int = 0
    sold: Mapping[str, Decimal] = field(default_factory=dict)
    approvals: int = 0
    fees: Decimal = ZERO

    def plus(self, opportunity: Opportunity, markets: Mapping[str, Market]) -> RunConsumption:
        """This consumption with ``opportunity`` approved on top."""
        by_market, by_group, total = buy_exposure(opportunity, markets)
        sold = dict(self.sold)
        for leg in opportunity.legs:
            if leg.side is Side.SELL:
                sold[leg.token_id] = sold.get(leg.token_id, ZERO) + leg.size
        return RunConsumption(
            by_market=_merge(self.by_market, by_market),
            by_group=_merge(self.by_group, by_group),
            total=self.total + total,
            open_orders=self.open_orders + resting_legs(opportunity),
            sold=sold,
            approvals=self.approvals + 1,
            fees=self.fees + opportunity.fees,
        )

    @classmethod
    def claimed(cls, opportunity: Opportunity, markets: Mapping[str, Market]) -> RunConsumption:
        """What approving ``opportunity`` alone consumes (the size of its reservation)."""
        return cls().plus(opportunity, markets)

    def add(
        self,
        *,
        by_market: Mapping[str, Decimal],
        by_group: Mapping[str, Decimal],
        total: Decimal,
        fees: Decimal,
        open_orders: int,
    ) -> RunConsumption:
        """This consumption plus one stored reservation's."""
        return replace(
            self,
            by_market=_merge(self.by_market, by_market),
            by_group=_merge(self.by_group, by_group),
            total=self.total + total,
            fees=self.fees + fees,
            open_orders=self.open_orders + open_orders,
            approvals=self.approvals + 1,
        )


def _merge(base: Mapping[str, Decimal], extra: Mapping[str, Decimal]) -> dict[str, Decimal]:
    merged = dict(base)
    for key, value in extra.items():
        merged[key] = merged.get(key, ZERO) + value
    return merged


@dataclass(frozen=True, slots=True)
class RiskContext:
    """Markets by condition id, books by token id, this run's consumption so far, and what
    other runs' outstanding reservations hold (``reserved``)."""

    markets: Mapping[str, Market]
    books: Mapping[str, OrderBook]
    consumed: RunConsumption = field(default_factory=RunConsumption)
    reserved: RunConsumption = field(default_factory=RunConsumption)

    @classmethod
    def from_catalogue(
        cls,
        catalogue: Catalogue,
        books: Mapping[str, OrderBook],
        reserved: RunConsumption | None = None,
    ) -> RiskContext:
        """A fresh context (nothing approved yet) over the run's catalogue and books."""
        return cls(
            markets=catalogue.market_by_condition(),
            books=books,
            reserved=reserved or RunConsumption(),
        )

    def after_approval(self, opportunity: Opportunity) -> RiskContext:
        """The context the next decision sees once ``opportunity`` is approved."""
        return replace(self, consumed=self.consumed.plus(opportunity, self.markets))
