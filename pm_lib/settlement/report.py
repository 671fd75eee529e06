"""A settle run as JSON (decimals as exact strings): the CLI's ``--json`` and the flow's result."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pm_lib.reporting.tables import plain_decimal
from pm_lib.settlement.redeem import SettleReport
from pm_lib.store.settlement import Settlement
from pm_lib.store.settlement_actions import ChainAction

__all__ = ["report_json"]

_MICRO_UNITS = Decimal(1_000_000)


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


def _action(a: ChainAction) -> dict[str, Any]:
    return {
        "id": a.id,
        "kind": a.kind,
        "condition_id": a.condition_id,
        "sizes": {t: plain_decimal(v) for t, v in a.sizes.items()},
        "prices": {t: plain_decimal(v) for t, v in a.prices.items()},
        "proceeds": plain_decimal(a.proceeds),
        "cost": plain_decimal(a.cost),
        "fees": plain_decimal(a.fees),
        "realised": plain_decimal(a.realised),
        "status": a.status,
        "wallet": a.wallet,
        "wallet_type": a.wallet_type,
        "nonce": a.nonce,
        "tx_hash": a.tx_hash,
        "relayer_tx_id": a.relayer_tx_id,
        "detail": a.detail,
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
        "applied": [_action(a) for a in report.applied],
        "open": [_action(a) for a in report.open],
        "failed": [_action(a) for a in report.failed],
        "proceeds": plain_decimal(report.proceeds),
        "realised": plain_decimal(report.realised),
        "reconcile": {
            "pusd": plain_decimal(report.pusd) if report.pusd is not None else None,
            "differences": [
                {
                    "token_id": d.token_id,
                    "condition_id": d.condition_id,
                    "ledger": plain_decimal(d.ledger / _MICRO_UNITS),
                    "chain": plain_decimal(d.chain / _MICRO_UNITS),
                }
                for d in report.differences
            ],
        },
        "skipped": [f"{s.kind} {s.ident}: {s.reason}" for s in report.skipped],
        "notes": list(report.notes),
    }
