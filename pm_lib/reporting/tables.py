"""What a run shows a person: rows for the Prefect UI's table artifacts and the CLI.

Pure functions of domain objects. Numbers are rendered as decimal strings (never floats), so a
table in the UI shows exactly what was decided and stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from pm_lib.models import Fill, Leg, Opportunity, OrderResult, RiskDecision

if TYPE_CHECKING:
    from pm_lib.reporting.labels import MarketLabels

__all__ = [
    "decision_rows",
    "fill_rows",
    "opportunity_rows",
    "order_rows",
    "plain_decimal",
]

Row = dict[str, str]


def plain_decimal(value: Decimal | None, places: int = 6) -> str:
    """A Decimal as a plain decimal string with at most ``places`` decimals, no exponent."""
    if value is None:
        return ""
    quantum = Decimal(1).scaleb(-places)
    text = format(value.quantize(quantum), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _legs_summary(legs: Sequence[Leg], labels: MarketLabels | None) -> str:
    """A basket's legs in one cell: ``3 legs: BUY 20 @ 0.30-0.32`` (each leg's size, the range
    of their limit prices); a single leg or legs that differ are listed (named by their outcome
    when labels are known)."""
    if len(legs) > 1 and len({(leg.side, leg.size) for leg in legs}) == 1:
        lo = min(leg.limit_price for leg in legs)
        hi = max(leg.limit_price for leg in legs)
        limits = plain_decimal(lo) if lo == hi else f"{plain_decimal(lo)}-{plain_decimal(hi)}"
        return f"{len(legs)} legs: {legs[0].side} {plain_decimal(legs[0].size, 2)} @ {limits}"
    parts = []
    for leg in legs:
        name = (
            labels.token(leg.token_id, leg.condition_id).text
            if labels is not None
            else f"token {leg.token_id[-8:]}"
        )
        parts.append(
            f"{leg.side} {plain_decimal(leg.size, 2)} {name} <= {plain_decimal(leg.limit_price)}"
            f" (vwap {plain_decimal(leg.expected_vwap)})"
        )
    return "; ".join(parts)


def _market_of(o: Opportunity, labels: MarketLabels | None) -> str:
    if labels is None:
        return o.market
    if len(o.legs) == 1:
        return labels.token(o.legs[0].token_id, o.legs[0].condition_id).text
    return labels.market(o.market).text


def opportunity_rows(
    opportunities: Iterable[Opportunity], labels: MarketLabels | None = None
) -> list[Row]:
    """One row per opportunity, what a trader reads first on the left: its market (question and
    outcome, or the event of a basket), net edge, cost and fees (to the cent: the exact figures
    are in the reason and the store), the legs summarised, then strategy, reason and ``id``."""
    rows = []
    for o in opportunities:
        rows.append(
            {
                "market": _market_of(o, labels),
                "edge (pUSD)": plain_decimal(o.edge, 2),
                "cost (pUSD)": plain_decimal(o.cost, 2),
                "fees (pUSD)": plain_decimal(o.fees, 2),
                "legs": _legs_summary(o.legs, labels),
                "strategy": o.strategy,
                "reason": o.reason,
                "id": o.id,
            }
        )
    return rows


def decision_rows(
    decisions: Iterable[RiskDecision],
    opportunities: Mapping[str, Opportunity] | None = None,
    labels: MarketLabels | None = None,
) -> list[Row]:
    """One row per risk decision: the market, the rule that decided and why."""
    opportunities = opportunities or {}
    rows = []
    for d in decisions:
        opp = opportunities.get(d.opportunity_id)
        rows.append(
            {
                "market": _market_of(opp, labels) if opp else "",
                "strategy": opp.strategy if opp else "",
                "approved": "yes" if d.approved else "no",
                "rule": d.rule,
                "reason": d.reason,
                "opportunity_id": d.opportunity_id,
            }
        )
    return rows


def order_rows(
    results: Sequence[OrderResult],
    requests: Mapping[str, Mapping[str, str]] | None = None,
    labels: MarketLabels | None = None,
) -> list[Row]:
    """One row per order an executor placed (or refused): market and outcome, the order in one
    cell (``BUY 263 @ 0.03``: side, size and limit price from the order's request), what became
    of it, its fill (``263 @ 0.025``: size and average price) and fee."""
    requests = requests or {}
    rows = []
    for r in results:
        request = requests.get(r.intent_key, {})
        token = request.get("token_id", "")
        market = (
            labels.token(token).text
            if labels is not None and token
            else (f"token {token[-8:]}" if token else "")
        )
        order = " ".join(
            part for part in (request.get("side", ""), request.get("size", "")) if part
        )
        if request.get("price"):
            order += f" @ {request['price']}"
        filled = plain_decimal(r.filled_size, 2)
        if r.filled_size and r.avg_price:
            filled += f" @ {plain_decimal(r.avg_price, 4)}"
        rows.append(
            {
                "market": market,
                "order": order,
                "status": str(r.status),
                "filled": filled,
                "fee (pUSD)": plain_decimal(r.fee, 4),
                "error": r.error or "",
                "intent_key": r.intent_key,
            }
        )
    return rows


def fill_rows(fills: Iterable[Fill]) -> list[Row]:
    """One row per fill (trade) from our side."""
    return [
        {
            "trade_id": f.trade_id,
            "order_id": f.order_id,
            "token": f.token_id[-8:],
            "side": str(f.side),
            "size": plain_decimal(f.size, 2),
            "price": plain_decimal(f.price),
            "fee_pusd": plain_decimal(f.fee),
            "status": str(f.status),
            "matched_at": f.matched_at.isoformat(timespec="seconds"),
        }
        for f in fills
    ]
