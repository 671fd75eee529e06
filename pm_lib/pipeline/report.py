"""The result of one scan: what it saw, found, decided and placed (the ``scan --json`` object)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from pm_lib.models import Opportunity, OrderResult, RiskDecision
from pm_lib.reporting.summary import RunSummary
from pm_lib.reporting.tables import plain_decimal

__all__ = ["ScanReport"]


class ScanReport(BaseModel):
    """Everything a scan produced, in domain types; ``to_json`` renders numbers as strings."""

    model_config = ConfigDict(frozen=True)

    summary: RunSummary
    opportunities: tuple[Opportunity, ...] = ()
    decisions: tuple[RiskDecision, ...] = ()
    orders: tuple[OrderResult, ...] = ()
    intent_orders: dict[str, dict[str, str]] = {}

    @property
    def run_id(self) -> str:
        return self.summary.run_id

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape scripts read (``pm-agent scan --json``)."""
        s = self.summary
        return {
            "run_id": s.run_id,
            "mode": s.mode,
            "markets": s.markets,
            "books": s.books,
            "books_missing": s.books_missing,
            "halted": s.halted,
            "catalogue_refreshed": s.catalogue_refreshed,
            "catalogue_refresh": s.catalogue_refresh,
            "requests": s.requests,
            "rate_limited": s.rate_limited,
            "stage_seconds": {k: plain_decimal(v, 4) for k, v in s.stage_seconds.items()},
            "opportunities": [_opportunity(o) for o in self.opportunities],
            "decisions": [
                {
                    "opportunity_id": d.opportunity_id,
                    "approved": d.approved,
                    "rule": d.rule,
                    "reason": d.reason,
                }
                for d in self.decisions
            ],
            "orders": [_order(r, self.intent_orders.get(r.intent_key, {})) for r in self.orders],
        }


def _opportunity(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.id,
        "strategy": o.strategy,
        "market": o.market,
        "edge": plain_decimal(o.edge),
        "cost": plain_decimal(o.cost),
        "fees": plain_decimal(o.fees),
        "reason": o.reason,
        "legs": [
            {
                "token_id": leg.token_id,
                "condition_id": leg.condition_id,
                "side": str(leg.side),
                "size": plain_decimal(leg.size),
                "limit_price": plain_decimal(leg.limit_price),
                "vwap": plain_decimal(leg.expected_vwap),
            }
            for leg in o.legs
        ],
    }


def _order(r: OrderResult, request: dict[str, str]) -> dict[str, Any]:
    return {
        "id": r.order_id or "",
        "intent_key": r.intent_key,
        "venue_order_id": r.order_id if r.order_id and not r.order_id.startswith("paper-") else "",
        "token_id": request.get("token_id", ""),
        "side": request.get("side", ""),
        "size": request.get("size", ""),
        "price": request.get("price", ""),
        "status": str(r.status),
        "filled_size": plain_decimal(r.filled_size),
        "avg_price": plain_decimal(r.avg_price),
        "fee": plain_decimal(r.fee),
        "error": r.error or "",
    }


def request_index(requests: Sequence[Any]) -> dict[str, dict[str, str]]:
    """Order requests (or stored intent rows) by intent key, as strings (for
    ``ScanReport.intent_orders``)."""
    return {
        r.intent_key: {
            "token_id": r.token_id,
            "side": str(r.side),
            "size": plain_decimal(r.size),
            "price": plain_decimal(r.price),
        }
        for r in requests
    }
