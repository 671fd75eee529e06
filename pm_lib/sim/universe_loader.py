"""Load a recorded Gamma snapshot (a JSON list of ``/markets`` objects) as the venue's universe.

Each object becomes a market with its recorded listing fields kept verbatim (``SimMarket.extra``)
and a background book that reproduces the recorded ``bestBid``/``bestAsk`` at epoch 0 (no
``bestBid`` means an empty bid side, as on the live API); depth below the touch is drawn as for
generated markets and evolves with the clock. Events come from each market's ``events[0]``.
Venue JSON quirks (JSON-in-JSON ``outcomes``/``clobTokenIds``) are decoded here, once.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pm_lib.sim.state import SimEvent, SimMarket
from pm_lib.sim.universe import EventProfile, MarketProfile, Universe

__all__ = ["UniverseFileError", "load_universe_file", "universe_from_gamma"]


class UniverseFileError(ValueError):
    """The snapshot file is not a JSON list of Gamma market objects."""


def _decimal(value: Any, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(default)
    except InvalidOperation:
        return Decimal(default)


def _json_strings(value: Any, what: str, market_id: str) -> list[str]:
    items = json.loads(value) if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise UniverseFileError(f"market {market_id}: {what} is not a list of strings")
    return items


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _event(
    raw: dict[str, Any],
    market: SimMarket,
    universe: Universe,
    known: dict[str, SimEvent],
    anchor: float,
) -> None:
    events = raw.get("events")
    if not isinstance(events, list) or not events or not isinstance(events[0], dict):
        event_id = f"m{market.market_id}"
        title, slug, augmented = market.question, market.slug, False
    else:
        ev = events[0]
        event_id = str(ev.get("id"))
        title, slug = str(ev.get("title", "")), str(ev.get("slug", ""))
        augmented = bool(ev.get("negRiskAugmented", False))
    event = known.get(event_id)
    if event is None:
        event = SimEvent(
            event_id=event_id,
            title=title,
            slug=slug,
            neg_risk=market.neg_risk,
            neg_risk_augmented=augmented,
            neg_risk_market_id=market.neg_risk_market_id,
        )
        universe.events.append(event)
        known[event_id] = event
        end = market.end_date.timestamp() if market.end_date else anchor + 86_400
        universe.event_profiles[event_id] = EventProfile(
            index=len(universe.events) - 1,
            category="recorded",
            description=title,
            start_ts=anchor - 86_400,
            end_ts=end,
        )
    event.condition_ids.append(market.condition_id)
    market.event_id = event_id
    # A snapshot's own updatedAt belongs to its capture, not to the re-anchored venue.
    market.updated_at = event.updated_at = anchor - 86_400


def _market(raw: dict[str, Any], index: int, rng: random.Random) -> tuple[SimMarket, MarketProfile]:
    market_id = str(raw.get("id", index))
    tokens = _json_strings(raw.get("clobTokenIds"), "clobTokenIds", market_id)
    outcomes = _json_strings(raw.get("outcomes", '["Yes", "No"]'), "outcomes", market_id)
    if len(tokens) != 2 or len(outcomes) != 2:
        raise UniverseFileError(f"market {market_id}: not a binary market")
    tick = _decimal(raw.get("orderPriceMinTickSize"), "0.01")
    schedule = raw.get("feeSchedule")
    fee: dict[str, Any] = schedule if isinstance(schedule, dict) else {}
    market = SimMarket(
        condition_id=str(raw["conditionId"]),
        market_id=market_id,
        question=str(raw.get("question", "")),
        slug=str(raw.get("slug", market_id)),
        outcomes=(outcomes[0], outcomes[1]),
        token_ids=(tokens[0], tokens[1]),
        tick_size=tick,
        min_order_size=_decimal(raw.get("orderMinSize"), "5"),
        neg_risk=bool(raw.get("negRisk", False)),
        neg_risk_market_id=raw.get("negRiskMarketID") or None,
        fees_enabled=bool(raw.get("feesEnabled", False)),
        fee_type=raw.get("feeType"),
        fee_rate=_decimal(fee.get("rate")),
        fee_exponent=_decimal(fee.get("exponent", 1)),
        rebate_rate=_decimal(fee.get("rebateRate")),
        active=bool(raw.get("active", True)),
        closed=bool(raw.get("closed", False)),
        accepting_orders=bool(raw.get("acceptingOrders", True)),
        enable_order_book=bool(raw.get("enableOrderBook", True)),
        end_date=_date(raw.get("endDate")),
        version=str(raw.get("version", "v1")),
        volume=_decimal(raw.get("volume")),
        liquidity=_decimal(raw.get("liquidity")),
        taker_delay_seconds=float(_decimal(raw.get("secondsDelay"))),  # sports: ~1 s
        extra=raw,
    )
    bid = _decimal(raw.get("bestBid"), "0")
    ask = _decimal(raw.get("bestAsk"), "1")
    quoted = market.active and "bestAsk" in raw and ask > bid
    spread_ticks = max(int(((ask - bid) / tick).to_integral_value()), 1)
    profile = MarketProfile(
        index=index,
        fair=float((bid + ask) / 2),
        spread_ticks=spread_ticks,
        depth=math.exp(rng.gauss(math.log(300), 0.8)),
        category="recorded",
        group_title=str(raw.get("groupItemTitle", "")),
        placeholder=not quoted,
        neg_risk_other=bool(raw.get("negRiskOther", False)),
        volume24hr=_decimal(raw.get("volume24hr")),
        start_ts=(_date(raw.get("startDate")) or datetime.now(UTC)).timestamp(),
    )
    return market, profile


def universe_from_gamma(objects: list[Any], *, seed: int, anchor: float) -> Universe:
    """A universe from Gamma market objects (duplicate condition ids keep the first)."""
    universe = Universe(seed=seed, anchor=anchor, coupled_groups=False)
    rng = random.Random(seed)
    seen: set[str] = set()
    known: dict[str, SimEvent] = {}
    for raw in objects:
        if not isinstance(raw, dict) or "conditionId" not in raw or "clobTokenIds" not in raw:
            raise UniverseFileError("every item must be a Gamma market with clobTokenIds")
        if raw["conditionId"] in seen:
            continue
        seen.add(raw["conditionId"])
        market, profile = _market(raw, len(universe.markets), rng)
        universe.markets.append(market)
        universe.profiles[market.condition_id] = profile
        _event(raw, market, universe, known, anchor)
    return universe


def load_universe_file(path: str | Path, *, seed: int, anchor: float) -> Universe:
    """Read a snapshot file (a JSON list of Gamma ``/markets`` objects)."""
    try:
        objects = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise UniverseFileError(f"cannot read universe file {path}: {e}") from e
    if not isinstance(objects, list):
        raise UniverseFileError(f"{path}: expected a JSON list of Gamma market objects")
    return universe_from_gamma(objects, seed=seed, anchor=anchor)
