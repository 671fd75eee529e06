"""The result of one scan: what it saw, found, decided and placed (the ``scan --json`` object)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from pm_lib.models import Opportunity, OrderResult, RiskDecision
from pm_lib.reporting.summary import RunSummary
from pm_lib.reporting.tables import money

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
            "stage_seconds": {k: money(v, 4) for k, v in s.stage_seconds.items()},
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
        "edge": money(o.edge),
        "cost": money(o.cost),
        "fees": money(o.fees),
        "reason": o.reason,
        "legs": [
            {
                "token_id": leg.token_id,
                "side": str(leg.side),
                "size": money(leg.size),
                "limit_price": money(leg.limit_price),
                "vwap": money(leg.expected_vwap),
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
        "filled_size": money(r.filled_size),
        "avg_price": money(r.avg_price),
        "fee": money(r.fee),
        "error": r.error or "",
    }


def request_index(requests: Sequence[Any]) -> dict[str, dict[str, str]]:
    """Order requests (or stored intent rows) by intent key, as strings (for
    ``ScanReport.intent_orders``)."""
    return {
        r.intent_key: {
            "token_id": r.token_id,
            "side": str(r.side),
            "size": money(r.size),
            "price": money(r.price),
        }
        for r in requests
    }
