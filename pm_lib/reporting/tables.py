"""What a run shows a person: rows for the Prefect UI's table artifacts and the CLI.

Pure functions of domain objects. Numbers are rendered as decimal strings (never floats), so a
table in the UI shows exactly what was decided and stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from pm_lib.models import Fill, Opportunity, OrderResult, RiskDecision

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


def opportunity_rows(opportunities: Iterable[Opportunity]) -> list[Row]:
    """One row per opportunity: strategy, market, legs, net edge and the reason."""
    rows = []
    for o in opportunities:
        legs = "; ".join(
            f"{leg.side} {plain_decimal(leg.size, 2)} {leg.token_id[-8:]}"
            f" <= {plain_decimal(leg.limit_price)}"
            f" (vwap {plain_decimal(leg.expected_vwap)})"
            for leg in o.legs
        )
        rows.append(
            {
                "id": o.id,
                "strategy": o.strategy,
                "market": o.market,
                "edge_pusd": plain_decimal(o.edge),
                "cost_pusd": plain_decimal(o.cost),
                "fees_pusd": plain_decimal(o.fees),
                "legs": legs,
                "reason": o.reason,
            }
        )
    return rows


def decision_rows(
    decisions: Iterable[RiskDecision], opportunities: Mapping[str, Opportunity] | None = None
) -> list[Row]:
    """One row per risk decision, with the rule that decided and why."""
    opportunities = opportunities or {}
    rows = []
    for d in decisions:
        opp = opportunities.get(d.opportunity_id)
        rows.append(
            {
                "opportunity_id": d.opportunity_id,
                "strategy": opp.strategy if opp else "",
                "approved": "yes" if d.approved else "no",
                "rule": d.rule,
                "reason": d.reason,
            }
        )
    return rows


def order_rows(results: Sequence[OrderResult]) -> list[Row]:
    """One row per order an executor placed (or refused), with its fill."""
    return [
        {
            "intent_key": r.intent_key,
            "order_id": r.order_id or "",
            "status": str(r.status),
            "filled": plain_decimal(r.filled_size, 2),
            "avg_price": plain_decimal(r.avg_price),
            "fee_pusd": plain_decimal(r.fee),
            "error": r.error or "",
        }
        for r in results
    ]


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
