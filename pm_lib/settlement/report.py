"""A settle run as JSON (decimals as exact strings): the CLI's ``--json`` and the flow's result."""

from __future__ import annotations

from typing import Any

from pm_lib.reporting.tables import plain_decimal
from pm_lib.settlement.redeem import SettleReport
from pm_lib.store.settlement import Settlement

__all__ = ["report_json"]


def _row(s: Settlement) -> dict[str, Any]:
    return {
        "token_id": s.token_id,
        "condition_id": s.condition_id,
        "size": plain_decimal(s.size),
        "payout": plain_decimal(s.payout),
        "proceeds": plain_decimal(s.proceeds),
        "cost": plain_decimal(s.cost),
        "fees": plain_decimal(s.fees),
        "realised": plain_decimal(s.realised),
        "status": s.status,
    }


def report_json(report: SettleReport) -> dict[str, Any]:
    """The settle run as JSON (decimals as exact strings)."""
    return {
        "mode": report.mode,
        "resolved": [
            {
                "condition_id": r.condition_id,
                "winning_token_id": r.winning_token_id,
                "winning_outcome": r.winning_outcome,
                "payouts": {t: plain_decimal(p) for t, p in r.payouts.items()},
            }
            for r in report.resolved
        ],
        "settled": [_row(s) for s in report.settled],
        "unsettled": [_row(s) for s in report.unsettled],
        "proceeds": plain_decimal(report.proceeds),
        "realised": plain_decimal(report.realised),
        "skipped": [f"{s.kind} {s.ident}: {s.reason}" for s in report.skipped],
        "notes": list(report.notes),
        "refused": report.refused,
    }
