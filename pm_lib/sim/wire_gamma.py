"""Serialisers from emulator state to the live Gamma JSON shapes (markets and events).

Field names and JSON types follow the live captures in ``tests/resources``
(``*gamma*``; docs/VENUE.md 4.1). Quirks kept on purpose:

- ``outcomes``, ``outcomePrices`` and ``clobTokenIds`` are JSON-encoded *strings*;
  ``positionIds`` is a native array;
- market ``volume``/``liquidity`` are decimal strings, ``volumeNum``/``liquidityNum`` numbers;
  event-level ``volume``/``liquidity`` are numbers;
- null quotes are omitted: no ``bestBid`` on an empty bid side; an empty ask side shows
  ``bestAsk: 1`` (every recorded row has ``bestAsk``); ``feeType`` is present as null;
- ``outcomePrices`` is the midpoint (live: "0.2745" for bid 0.274 / ask 0.275), or the last
  trade when the spread is wider than 0.10, as the Polymarket UI does.

Markets loaded from a recorded snapshot keep their recorded fields (``SimMarket.extra``) and get
the live fields (quotes, flags, fees) overlaid.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pm_lib.sim.evolution import TopOfBook
from pm_lib.sim.state import SimEvent, SimMarket
from pm_lib.sim.universe import EventProfile, MarketProfile
from pm_lib.sim.wire_out import decimal_str

__all__ = [
    "gamma_event",
    "gamma_event_summary",
    "gamma_market",
    "iso_ms",
    "iso_s",
    "question_id",
]

ONE = Decimal(1)
ZERO = Decimal(0)
_WIDE = Decimal("0.10")
_SUBMITTER = "0x91430CaD2d3975766499717fA0D66A78D814E5c5"  # as on live markets (samples)
_RESOLVER = "0x6A9D222616C90FcA5754cd1333cFD9b7fb6a4F74"


def iso_s(ts: float) -> str:
    """ISO-8601 UTC with seconds ("2026-12-31T00:00:00Z"), as Gamma's endDate."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ts: float) -> str:
    """ISO-8601 UTC with microseconds ("2025-07-03T20:25:56.889606Z"), as createdAt."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _num(value: Decimal) -> int | float:
    """A JSON number at the wire edge (Gamma sends these fields as numbers)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _json_list(items: list[str]) -> str:
    # Gamma's JSON-in-JSON strings use ", " between items: '["Yes", "No"]'.
    return json.dumps(items)


def _prices(top: TopOfBook | None) -> list[str] | None:
    if top is None or (top.bid is None and top.ask is None):
        return None
    bid = top.bid or ZERO
    ask = top.ask if top.ask is not None else ONE
    yes = (bid + ask) / 2
    if ask - bid > _WIDE and top.last_trade is not None:
        yes = top.last_trade
    return [decimal_str(yes), decimal_str(ONE - yes)]


def _position_ids(market: SimMarket) -> list[str]:
    base = int(market.condition_id[2:], 16) >> 8 << 8
    return [str(base), str(base + 1)]


def _quotes(market: SimMarket, top: TopOfBook | None, placeholder: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if placeholder or top is None:
        out["spread"] = 1
        out["lastTradePrice"] = 0
        out["bestBid"] = 0
        out["bestAsk"] = 1
        return out
    bid = top.bid
    ask = top.ask if top.ask is not None else ONE
    out["spread"] = _num(ask - (bid or ZERO))
    out["lastTradePrice"] = _num(top.last_trade) if top.last_trade is not None else 0
    if bid is not None:
        out["bestBid"] = _num(bid)
    out["bestAsk"] = _num(ask)
    return out


def _fees(market: SimMarket) -> dict[str, Any]:
    out: dict[str, Any] = {
        "feesEnabled": market.fees_enabled,
        "requiresTranslation": False,
        "feeType": market.fee_type if market.fees_enabled else None,
    }
    if market.fees_enabled:
        if market.fee_type == "crypto_fees":
            out["makerRebatesFeeShareBps"] = 10000
        out["feeSchedule"] = {
            "exponent": _num(market.fee_exponent),
            "rate": _num(market.fee_rate),
            "takerOnly": True,
            "rebateRate": _num(market.rebate_rate),
        }
    return out


def gamma_market(
    market: SimMarket,
    profile: MarketProfile | None,
    top: TopOfBook | None,
    now: float,
    events: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """One Gamma market object (``events`` nested when given, as in /markets listings)."""
    placeholder = profile is not None and profile.placeholder
    end_ts = market.end_date.timestamp() if market.end_date else now + 86_400
    start_ts = profile.start_ts if profile else now - 86_400
    volume24 = profile.volume24hr if profile else ZERO
    prices = None if placeholder else _prices(top)
    if market.winner is not None:  # resolved: the final prices, "1" for the winner
        prices = ["1" if o == market.winner else "0" for o in market.outcomes]
    m: dict[str, Any] = dict(market.extra)  # a loaded snapshot keeps its recorded fields
    m.update(
        {
            "id": market.market_id,
            "question": market.question,
            "conditionId": market.condition_id,
            "slug": market.slug,
            "resolutionSource": m.get("resolutionSource", ""),
            "endDate": iso_s(end_ts),
            "liquidity": decimal_str(market.liquidity),
            "startDate": m.get("startDate", iso_ms(start_ts)),
            "image": m.get("image", ""),
            "icon": m.get("icon", ""),
            "description": m.get("description", f"{market.question} (pm-agent emulator)"),
            "outcomes": _json_list(list(market.outcomes)),
        }
    )
    if prices is not None:
        m["outcomePrices"] = _json_list(prices)
    else:
        m.pop("outcomePrices", None)
    m.update(
        {
            "volume": decimal_str(market.volume),
            "active": market.active,
            "closed": market.closed,
            "marketMakerAddress": "",
            "createdAt": m.get("createdAt", iso_ms(start_ts - 600)),
            "updatedAt": iso_ms(market.updated_at),
            "new": False,
            "featured": False,
            "submitted_by": m.get("submitted_by", _SUBMITTER),
            "archived": False,
            "resolvedBy": m.get("resolvedBy", _RESOLVER),
            "restricted": True,
            "groupItemTitle": profile.group_title if profile else m.get("groupItemTitle", ""),
            "groupItemThreshold": m.get("groupItemThreshold", "0"),
            "questionID": question_id(market, profile),
            "enableOrderBook": market.enable_order_book,
            "orderPriceMinTickSize": _num(market.tick_size),
            "orderMinSize": _num(market.min_order_size),
            "volumeNum": _num(market.volume),
            "liquidityNum": _num(market.liquidity),
            "endDateIso": iso_s(end_ts)[:10],
            "startDateIso": iso_s(start_ts)[:10],
            "hasReviewedDates": True,
            "volume24hr": _num(volume24),
            "volume1wk": _num(volume24 * 5),
            "volume1mo": _num(volume24 * 18),
            "volume1yr": _num(market.volume),
            "clobTokenIds": _json_list(list(market.token_ids)),
            "positionIds": m.get("positionIds", _position_ids(market)),
            "umaBond": "500",
            "umaReward": "5",
            "volume24hrClob": _num(volume24),
            "volume1wkClob": _num(volume24 * 5),
            "volume1moClob": _num(volume24 * 18),
            "volume1yrClob": _num(market.volume),
            "volumeClob": _num(market.volume),
            "liquidityClob": _num(market.liquidity),
            "makerBaseFee": 1000,
            "takerBaseFee": 1000,
            "acceptingOrders": market.accepting_orders,
            "negRisk": market.neg_risk,
        }
    )
    if market.neg_risk and market.neg_risk_market_id:
        m["negRiskMarketID"] = market.neg_risk_market_id
        m["negRiskRequestID"] = m.get("negRiskRequestID", "0x" + market.condition_id[-64:])
    if events is not None:
        m["events"] = events
    else:
        m.pop("events", None)
    m.update(
        {
            "ready": False,
            "funded": False,
            "acceptingOrdersTimestamp": m.get("acceptingOrdersTimestamp", iso_s(start_ts)),
            "cyom": False,
            "competitive": 0.8,
            "pagerDutyNotificationEnabled": False,
            "approved": True,
            "rewardsMinSize": 50,
            "rewardsMaxSpread": 4.5,
        }
    )
    for key in ("spread", "lastTradePrice", "bestBid", "bestAsk"):
        m.pop(key, None)
    m.update(_quotes(market, top, placeholder))
    m.update(
        {
            "automaticallyActive": True,
            "clearBookOnStart": True,
            "manualActivation": False,
            "negRiskOther": bool(profile.neg_risk_other) if profile else False,
            "umaResolutionStatuses": '["proposed", "resolved"]' if market.winner else "[]",
            "pendingDeployment": False,
            "deploying": False,
            "rfqEnabled": False,
            "holdingRewardsEnabled": False,
        }
    )
    if market.winner is not None:
        m["umaResolutionStatus"] = "resolved"
    for key in ("feeSchedule", "makerRebatesFeeShareBps"):
        m.pop(key, None)
    m.update(_fees(market))
    m["version"] = market.version
    return m


def question_id(market: SimMarket, profile: MarketProfile | None) -> str:
    """The market's questionID: recorded if loaded; for a generated neg-risk leg, as live, the
    negRiskMarketID with the leg index as the last byte."""
    recorded = market.extra.get("questionID")
    if isinstance(recorded, str):
        return recorded
    if market.neg_risk and market.neg_risk_market_id and profile is not None:
        return market.neg_risk_market_id[:-2] + f"{profile.leg % 256:02x}"
    return "0x" + market.condition_id[2:][::-1]


def gamma_event_summary(
    event: SimEvent,
    profile: EventProfile | None,
    markets: list[SimMarket],
    now: float,
) -> dict[str, Any]:
    """An event object without its markets (nested in a market's ``events``)."""
    start_ts = profile.start_ts if profile else now - 86_400
    end = max((m.end_date for m in markets if m.end_date), default=None)
    end_ts = profile.end_ts if profile else (end.timestamp() if end else now + 86_400)
    volume = sum((m.volume for m in markets), ZERO)
    liquidity = sum((m.liquidity for m in markets), ZERO)
    e: dict[str, Any] = {
        "id": event.event_id,
        "ticker": event.slug,
        "slug": event.slug,
        "title": event.title,
        "description": profile.description if profile else event.title,
        "resolutionSource": "",
        "startDate": iso_ms(start_ts),
        "creationDate": iso_ms(start_ts),
        "endDate": iso_s(end_ts),
        "image": "",
        "icon": "",
        "active": any(m.active for m in markets) if markets else True,
        "closed": event.closed,
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": _num(liquidity),
        "volume": _num(volume),
        "openInterest": _num((liquidity / 4).quantize(Decimal("0.000001"))),
        "createdAt": iso_ms(start_ts - 600),
        "updatedAt": iso_ms(event.updated_at),
        "competitive": 0.8,
        "volume24hr": _num(volume / 20),
        "volume1wk": _num(volume / 5),
        "volume1mo": _num(volume / 2),
        "volume1yr": _num(volume),
        "enableOrderBook": True,
        "liquidityClob": _num(liquidity),
        "negRisk": event.neg_risk,
    }
    if event.neg_risk and event.neg_risk_market_id:
        e["negRiskMarketID"] = event.neg_risk_market_id
    e.update(
        {
            "commentCount": 0,
            "cyom": False,
            "showAllOutcomes": True,
            "showMarketImages": False,
            "enableNegRisk": event.neg_risk,
            "automaticallyActive": True,
            "seriesSlug": profile.series_slug if profile else "",
            "negRiskAugmented": event.neg_risk_augmented,
            "pendingDeployment": False,
            "deploying": False,
            "requiresTranslation": False,
        }
    )
    return e


def gamma_event(
    summary: dict[str, Any], markets: list[dict[str, Any]], single: bool
) -> dict[str, Any]:
    """An event with its ``markets`` embedded (GET /events/{id}, /events/keyset)."""
    out: dict[str, Any] = {"$schema": "https://gamma-api.polymarket.com/schemas/Event.json"}
    if not single:
        out = {}
    out.update(summary)
    out["markets"] = markets
    out["version"] = "v1"
    return out
