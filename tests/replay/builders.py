"""Hand-made recordings: Gamma market rows and market-channel messages, written to a directory
in the recording format (docs/RECORDING.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, in ms


def gamma_row(
    condition: str,
    yes: str,
    no: str,
    *,
    fee_rate: str | None = None,
    event: dict[str, Any] | None = None,
    neg_risk_id: str | None = None,
) -> dict[str, Any]:
    """A Gamma /markets row with the fields pm-agent's catalogue reads."""
    row: dict[str, Any] = {
        "id": condition[-4:],
        "conditionId": condition,
        "question": f"Outcome {condition[-4:]}?",
        "slug": f"outcome-{condition[-4:]}",
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": json.dumps([yes, no]),
        "active": True,
        "closed": False,
        "enableOrderBook": True,
        "acceptingOrders": True,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "endDate": "2027-01-01T00:00:00Z",
        "negRisk": neg_risk_id is not None,
        "feesEnabled": fee_rate is not None,
    }
    if fee_rate is not None:
        row["feeSchedule"] = {"rate": float(fee_rate), "exponent": 1, "takerOnly": True}
    if neg_risk_id is not None:
        row["negRiskMarketID"] = neg_risk_id
    if event is not None:
        row["events"] = [event]
    return row


def book(
    token: str, market: str, ts: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> dict[str, Any]:
    """A ``book`` message (levels in the venue's order: best last)."""
    return {
        "event_type": "book",
        "asset_id": token,
        "market": market,
        "bids": [{"price": p, "size": s} for p, s in sorted(bids, key=lambda x: float(x[0]))],
        "asks": [{"price": p, "size": s} for p, s in sorted(asks, key=lambda x: -float(x[0]))],
        "hash": "",
        "timestamp": str(ts),
    }


def change(market: str, ts: int, *changes: tuple[str, str, str, str]) -> dict[str, Any]:
    """A ``price_change``: (asset_id, side, price, size) each."""
    return {
        "event_type": "price_change",
        "market": market,
        "timestamp": str(ts),
        "price_changes": [
            {"asset_id": a, "side": side, "price": p, "size": s, "best_bid": "", "best_ask": ""}
            for a, side, p, s in changes
        ],
    }


def write_recording(
    directory: Path,
    markets: list[dict[str, Any]],
    messages: list[dict[str, Any]],
    resolutions: list[dict[str, Any]] | None = None,
    *,
    files: int = 1,
) -> Path:
    """Write a recording; messages are dealt round-robin over ``files`` files (each in order)."""
    (directory / "market").mkdir(parents=True, exist_ok=True)
    (directory / "markets.json").write_text(json.dumps(markets))
    if resolutions is not None:
        (directory / "resolutions.json").write_text(json.dumps(resolutions))
    ordered = sorted(messages, key=lambda m: int(m["timestamp"]))
    for index in range(files):
        part = ordered[index::files]
        text = "".join(json.dumps(m) + "\n" for m in part)
        (directory / "market" / f"part-{index:03d}.jsonl").write_text(text)
    return directory


def resolved(row: dict[str, Any], prices: tuple[str, str]) -> dict[str, Any]:
    """``row`` after resolution (closed, final outcome prices)."""
    return {**row, "closed": True, "outcomePrices": json.dumps(list(prices))}
