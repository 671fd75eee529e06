"""Baskets: an opportunity's legs placed as FOK orders, and what to do when one leg fails.

Legs go one at a time, in the opportunity's order; a leg that does not fill whole stops the
basket (later legs are not sent). With ``PM_BASKET_POSTING=batch`` they go together instead, up
to ``MAX_BATCH`` a ``POST /orders`` (``Executor.place_batch``): nothing is sent unless every leg
of the batch can be, but a leg the venue refuses no longer stops the others, so more baskets end
lopsided and the policy below applies to them (a batch that does not fill whole stops the next).
If a leg fails after another filled, the basket is lopsided: a ``leg_risk`` row records each
filled leg and ``PM_UNWIND_POLICY`` applies:

- ``sell_back``: close each filled leg with the opposite FAK order, limited to the price at which
  closing loses at most the ``PM_UNWIND_MAX_LOSS`` budget left (fees included); what cannot be
  closed within it is held. Fully closed legs are ``unwound``, the rest ``held``.
- ``hold``: keep the filled legs and flag them (``held``) for an operator; until one takes it
  over (``pm-agent close-leg-risk``), no opportunity buys on those markets or their neg-risk
  group (``BasketOutcome.refused``), and reconcile reports the basket as incomplete.

A leg the venue answers ``delayed`` (a taker delay) is awaited by the executor, so the basket
goes on with its real outcome. A leg whose outcome is UNKNOWN (ambiguous submit, or still
delayed past ``PM_DELAYED_ORDER_WAIT_SECONDS``) stops the basket too; its leg risk stays
``open`` and reconcile decides (``pm_lib.execution.leg_review``) once the outcome is known.
Single-leg opportunities are placed as their leg says (order type included).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine

from pm_lib.book_math import round_to_tick, taker_fee
from pm_lib.execution.base import Executor
from pm_lib.models import (
    ONE,
    ZERO,
    Market,
    Opportunity,
    OrderBook,
    OrderRequest,
    OrderResult,
    OrderStatus,
    OrderType,
    Side,
)
from pm_lib.settings import Settings
from pm_lib.store import (
    LegRiskRow,
    LegRiskStatus,
    intent_by_key,
    intent_key_for,
    record_leg_risk,
    session_scope,
    stored_market,
)
from pm_lib.store.leg_risk import leg_risks_to_review

logger = logging.getLogger(__name__)

MAX_BATCH = 15
"""Legs one batch holds (the venue's ``POST /orders`` limit, docs/VENUE.md 3.3)."""

__all__ = ["BasketOutcome", "execute_opportunity", "order_requests", "sell_back", "unwind_limit"]


@dataclass(frozen=True)
class BasketOutcome:
    """What placing one opportunity did: its leg requests and results, unwinds, leg risks."""

    opportunity_id: str
    requests: tuple[OrderRequest, ...]
    results: tuple[OrderResult, ...]
    leg_risks: tuple[LegRiskRow, ...] = ()
    refused: str | None = None  # why nothing was placed (a held leg risk on its markets)

    @property
    def complete(self) -> bool:
        """True when every leg filled whole (no leg risk)."""
        legs = [r for r in self.results if ":unwind:" not in r.intent_key]
        return (
            self.refused is None
            and len(legs) == len(self.requests)
            and all(r.status is OrderStatus.MATCHED for r in legs)
        )


def order_requests(
    opportunity: Opportunity,
    markets: Mapping[str, Market],
    books: Mapping[str, OrderBook],
    run_id: str,
) -> list[OrderRequest]:
    """One request per leg; baskets (several legs) are always FOK. Tick from the fresher book."""
    basket = len(opportunity.legs) > 1
    requests = []
    for index, leg in enumerate(opportunity.legs):
        market = markets[leg.condition_id]
        book = books.get(leg.token_id)
        requests.append(
            OrderRequest(
                intent_key=intent_key_for(run_id, opportunity.id, index),
                token_id=leg.token_id,
                condition_id=leg.condition_id,
                side=leg.side,
                size=leg.size,
                price=leg.limit_price,
                order_type=OrderType.FOK if basket else leg.order_type,
                tick_size=book.tick_size if book is not None else market.tick_size,
                neg_risk=market.neg_risk,
                fees=market.fees,
            )
        )
    return requests


def unwind_limit(filled: OrderResult, request: OrderRequest, budget: Decimal) -> Decimal | None:
    """The worst limit at which closing ``filled`` loses at most ``budget`` (fees included).

    Selling back N shares bought for ``cost`` (price x N + fee) at p must bring in at least
    ``cost - budget``: ``N x p - fee(N, p) >= cost - budget``, the lowest such p on the tick.
    Buying back N shares sold for ``got`` at p may cost at most ``got + budget``: the highest
    such p. None when no valid price satisfies it.
    """
    size, tick = filled.filled_size, request.tick_size
    paid = size * (filled.avg_price or ZERO)
    if request.side is Side.BUY:
        target = paid + filled.fee - budget
        price = max(round_to_tick(target / size, tick, "up"), tick)
        while price <= ONE - tick:
            if size * price - taker_fee(size, price, request.fees) >= target:
                return price
            price += tick
        return None
    ceiling = paid - filled.fee + budget
    price = min(round_to_tick(ceiling / size, tick, "down"), ONE - tick)
    while price >= tick:
        if size * price + taker_fee(size, price, request.fees) <= ceiling:
            return price
        price -= tick
    return None


def execute_opportunity(
    executor: Executor,
    opportunity: Opportunity,
    markets: Mapping[str, Market],
    books: Mapping[str, OrderBook],
    *,
    settings: Settings,
    engine: Engine,
    run_id: str,
    clock: Callable[[], datetime] | None = None,
) -> BasketOutcome:
    """Place ``opportunity``'s legs (module docstring); record and handle leg risk."""
    now = clock or (lambda: datetime.now(UTC))
    requests = order_requests(opportunity, markets, books, run_id)
    refusal = _held_here(engine, executor.mode, opportunity, markets)
    if refusal is not None:
        logger.warning("opportunity %s not placed: %s", opportunity.id, refusal)
        return BasketOutcome(opportunity.id, tuple(requests), (), refused=refusal)
    results: list[OrderResult] = []
    if len(requests) > 1 and settings.basket_posting == "batch":
        for start in range(0, len(requests), MAX_BATCH):
            results.extend(executor.place_batch(requests[start : start + MAX_BATCH]))
            if any(r.status is not OrderStatus.MATCHED for r in results):
                break
    else:
        for request in requests:
            [result] = executor.place([request])
            results.append(result)
            if result.status is not OrderStatus.MATCHED and len(requests) > 1:
                break
    pairs = list(enumerate(zip(requests, results, strict=False)))
    failed = [r for r in results if r.status is not OrderStatus.MATCHED]
    unknown = any(r.status is OrderStatus.UNKNOWN for r in results)
    at_risk = [
        (i, q, r) for i, (q, r) in pairs if r.filled_size > ZERO or r.status is OrderStatus.UNKNOWN
    ]
    if len(requests) == 1 or not failed or not at_risk:
        return BasketOutcome(opportunity.id, tuple(requests), tuple(results))
    risks: list[LegRiskRow] = []
    budget = settings.unwind_max_loss
    for index, request, result in at_risk:
        status: LegRiskStatus
        if unknown:
            # The unknown leg may have filled (an answer lost after the match): unwinding now
            # could break a complete basket, so reconcile decides.
            status = "open"
            detail = f"leg {request.intent_key} {result.status}, filled {result.filled_size}; "
            detail += "a leg's outcome is unknown: reconcile decides"
        elif settings.unwind_policy == "hold":
            status = "held"
            detail = f"leg {request.intent_key} filled {result.filled_size}; basket stopped "
            detail += f"at {failed[0].intent_key} ({failed[0].status}): held and flagged"
        else:
            unwind, status, detail, loss = sell_back(
                executor, request, result, budget, run_id, opportunity.id, index
            )
            budget -= loss
            if unwind is not None:
                results.append(unwind)
        with session_scope(engine) as session:
            risks.append(
                record_leg_risk(
                    session,
                    run_id=run_id,
                    opportunity_id=opportunity.id,
                    intent_key=request.intent_key,
                    policy=settings.unwind_policy,
                    detail=detail,
                    created_at=now(),
                    status=status,
                )
            )
    return BasketOutcome(opportunity.id, tuple(requests), tuple(results), tuple(risks))


def _held_here(
    engine: Engine, mode: str, opportunity: Opportunity, markets: Mapping[str, Market]
) -> str | None:
    """Why ``opportunity`` may not buy: a held leg risk on one of its markets or neg-risk
    groups (``PM_UNWIND_POLICY=hold`` keeps a lopsided basket; no new buying there until an
    operator closes or completes it). None when it may."""
    if not any(leg.side is Side.BUY for leg in opportunity.legs):
        return None
    with session_scope(engine) as session:
        held = [r for r in leg_risks_to_review(session) if r.status == "held"]
        if not held:
            return None
        rows = [row for r in held if (row := intent_by_key(session, r.intent_key)) is not None]
        held_markets = {row.condition_id: row.intent_key for row in rows if row.mode == mode}
        groups: dict[str, str] = {}
        for condition, key in held_markets.items():
            market = markets.get(condition) or stored_market(session, condition)
            if market is not None and market.neg_risk_market_id:
                groups[market.neg_risk_market_id] = key
    for leg in opportunity.legs:
        if leg.side is not Side.BUY:
            continue
        market = markets.get(leg.condition_id)
        group = market.neg_risk_market_id if market is not None else None
        holder = held_markets.get(leg.condition_id) or (groups.get(group) if group else None)
        if holder is not None:
            return f"leg risk of {holder} is held on market {leg.condition_id}: no new buying"
    return None


def sell_back(
    executor: Executor,
    request: OrderRequest,
    filled: OrderResult,
    budget: Decimal,
    run_id: str,
    opportunity_id: str,
    index: int,
) -> tuple[OrderResult | None, LegRiskStatus, str, Decimal]:
    """Close filled leg ``index`` within ``budget``: (unwind result, leg-risk status, detail,
    loss).

    The one closing path: a basket's lopsided leg here, and a position an operator closes
    (``pm_lib.pipeline.close``). Its intent key is the basket's ``:unwind`` key of the same
    leg index, so a halt lets it through.
    """
    limit = unwind_limit(filled, request, budget)
    if limit is None:
        return None, "held", f"no price closes {filled.filled_size} within {budget} pUSD", ZERO
    unwind = request.model_copy(
        update={
            "intent_key": intent_key_for(run_id, f"{opportunity_id}:unwind", index),
            "side": request.side.opposite,
            "size": filled.filled_size,
            "price": limit,
            "order_type": OrderType.FAK,
        }
    )
    [result] = executor.place([unwind])
    closed = result.filled_size
    entry = closed * (filled.avg_price or ZERO)
    exit_ = closed * (result.avg_price or ZERO)
    entry_fee = filled.fee * closed / filled.filled_size
    gross = exit_ - entry if request.side is Side.BUY else entry - exit_
    loss = max(ZERO, entry_fee + result.fee - gross)
    status: LegRiskStatus = "unwound" if closed >= filled.filled_size else "held"
    detail = (
        f"sell_back of {request.intent_key}: closed {closed} of {filled.filled_size} at "
        f"limit {limit} ({result.status}{': ' + result.error if result.error else ''}); "
        f"loss {loss} pUSD of a {budget} budget"
    )
    return result, status, detail, loss
