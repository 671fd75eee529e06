"""Control-side changes to the market data: set a book, add or modify a market, move the clock.

Used by ``pm_lib.sim.routes_control`` (``/_sim``) and directly by tests. Every change happens
under the venue lock, bumps ``Ladder.version`` or the catalogue version so cached books and
listings are re-derived, and never touches orders that have an owner.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pm_lib.sim.market_data import MarketData
from pm_lib.sim.state import ONE, RestingOrder, SimClock, SimEvent, SimMarket
from pm_lib.sim.universe import MarketProfile

__all__ = [
    "AdminError",
    "add_market",
    "clock_state",
    "modify_market",
    "move_clock",
    "set_book",
    "touch_every_listing",
]

_added = itertools.count(1)


class AdminError(ValueError):
    """A control request that cannot be applied (answered 400)."""


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as e:
        raise AdminError(f"{what} is not a number: {value!r}") from e


def _levels(raw: Any, what: str) -> list[tuple[Decimal, Decimal]]:
    """``[[price, size], ...]`` or ``[{"price": .., "size": ..}, ...]`` as Decimals."""
    if not isinstance(raw, list):
        raise AdminError(f"{what} must be a list of levels")
    out = []
    for level in raw:
        if isinstance(level, dict):
            price, size = level.get("price"), level.get("size")
        elif isinstance(level, list | tuple) and len(level) == 2:
            price, size = level
        else:
            raise AdminError(f"bad level in {what}: {level!r}")
        out.append((_decimal(price, "price"), _decimal(size, "size")))
    return out


def set_book(
    md: MarketData,
    token_id: str,
    bids: Any,
    asks: Any,
    last_trade_price: Any = None,
) -> SimMarket:
    """Replace a market's background liquidity with the given levels, in ``token_id``'s terms
    (levels on the NO token are reflected onto the YES ladder). Users' orders stay; the market
    stops evolving until ``/_sim/reset``."""
    hit = md.market_for_token(token_id)
    if hit is None:
        raise AdminError(f"unknown token {token_id}")
    market, is_yes = hit
    token_bids, token_asks = _levels(bids, "bids"), _levels(asks, "asks")
    tick = market.tick_size
    for price, size in token_bids + token_asks:
        if size <= 0 or price < tick or price > ONE - tick or price % tick != 0:
            raise AdminError(f"level {price} x {size} is off the {tick} tick grid or empty")
    if token_bids and token_asks and max(p for p, _ in token_bids) >= min(p for p, _ in token_asks):
        raise AdminError("the book would be crossed")
    if is_yes:
        yes_bids, yes_asks = token_bids, token_asks
    else:
        yes_bids = [(ONE - p, s) for p, s in token_asks]
        yes_asks = [(ONE - p, s) for p, s in token_bids]
    state = md.state
    with state.lock:
        ladder = md.ladder(market)
        if md.books is not None:
            md.books.pin(market.condition_id)
        now = state.clock.now()
        for side, book, levels in (("BUY", ladder.bids, yes_bids), ("SELL", ladder.asks, yes_asks)):
            for price in list(book):
                kept = deque(o for o in book[price] if o.owner is not None)
                if kept:
                    book[price] = kept
                else:
                    del book[price]
            for n, (price, size) in enumerate(levels):
                order = RestingOrder(
                    order_id=f"set-{market.market_id}-{side[0]}{n}-{int(now * 1000)}",
                    yes_side=side,
                    yes_price=price,
                    remaining=size,
                    token_id=market.yes_token,
                    side=side,
                    price=price,
                    created_at=now,
                )
                book.setdefault(price, deque()).append(order)
        if last_trade_price is not None:
            ltp = _decimal(last_trade_price, "last_trade_price")
            ladder.last_trade_price = ltp if is_yes else ONE - ltp
        ladder.version += 1
    return market


def _hex(*parts: object) -> str:
    return "0x" + hashlib.sha256("/".join(map(str, ("added", *parts))).encode()).hexdigest()


def _token(*parts: object) -> str:
    digest = hashlib.sha256("/".join(map(str, ("added-token", *parts))).encode()).digest()
    return str(int.from_bytes(digest, "big"))


def _date(value: Any) -> datetime:
    if not isinstance(value, str):
        raise AdminError("end_date must be an ISO-8601 string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise AdminError(f"bad end_date {value!r}") from e
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_FLAGS = ("closed", "active", "accepting_orders", "enable_order_book", "fees_enabled")
# Fields Gamma lists that modify_market can change (a change bumps updatedAt).
_LISTED = (
    *_FLAGS,
    "end_date",
    "question",
    "tick_size",
    "min_order_size",
    "fee_type",
    "fee_rate",
    "fee_exponent",
    "rebate_rate",
    "taker_delay_seconds",
)


def modify_market(md: MarketData, condition_id: str, changes: dict[str, Any]) -> SimMarket:
    """Change listing or trading fields of a market: closed, active, accepting_orders,
    enable_order_book, end_date, question, tick_size, min_order_size and the fee schedule
    (fees_enabled, fee_type, fee_rate, fee_exponent, rebate_rate), and taker_delay_seconds
    (marketable orders are held that long, answered ``delayed``, before they match)."""
    market = md.state.markets.get(condition_id)
    if market is None:
        raise AdminError(f"unknown market {condition_id}")
    unknown = set(changes) - set(_LISTED)
    if unknown:
        raise AdminError(f"unknown fields: {sorted(unknown)}")
    with md.state.lock:
        before = _listed_fields(market)
        for name in _FLAGS:
            if name in changes:
                setattr(market, name, bool(changes[name]))
        if "end_date" in changes:
            market.end_date = _date(changes["end_date"])
        if "question" in changes:
            market.question = str(changes["question"])
        for name in ("tick_size", "min_order_size", "fee_rate", "rebate_rate"):
            if name in changes:
                setattr(market, name, _decimal(changes[name], name))
        if "fee_exponent" in changes:
            market.fee_exponent = _decimal(changes["fee_exponent"], "fee_exponent")
        if "fee_type" in changes:
            market.fee_type = changes["fee_type"]
        if "taker_delay_seconds" in changes:
            delay = float(_decimal(changes["taker_delay_seconds"], "taker_delay_seconds"))
            if delay < 0:
                raise AdminError("taker_delay_seconds must be >= 0")
            market.taker_delay_seconds = delay
        if market.closed:
            market.accepting_orders = False
        event = md.state.events.get(market.event_id or "")
        if event is not None and market.closed:
            siblings = [md.state.markets[c] for c in event.condition_ids]
            event.closed = all(m.closed for m in siblings)
        if _listed_fields(market) != before:
            _touch_listing(md, market, event)
        md.touch_catalogue()
    return market


def _listed_fields(market: SimMarket) -> tuple[object, ...]:
    return tuple(getattr(market, name) for name in _LISTED)


def _touch_listing(md: MarketData, market: SimMarket, event: SimEvent | None) -> None:
    """Bump Gamma's ``updatedAt`` of a market that changed and of its event (which lists it)."""
    now = md.state.clock.now()
    market.updated_at = now
    if event is not None:
        event.updated_at = now


def touch_every_listing(md: MarketData) -> None:
    """Bump ``updatedAt`` of every market and event (a reset installed a new universe)."""
    now = md.state.clock.now()
    with md.state.lock:
        for market in md.state.markets.values():
            market.updated_at = now
        for event in md.state.events.values():
            event.updated_at = now
        md.touch_catalogue()


def add_market(md: MarketData, spec: dict[str, Any]) -> SimMarket:
    """Add a binary market (optionally into an existing event) with evolving background
    liquidity around ``price`` (YES, default 0.5) and a ``spread_ticks`` spread (default 1)."""
    n = next(_added)
    state = md.state
    tick = _decimal(spec.get("tick_size", "0.01"), "tick_size")
    price = float(_decimal(spec.get("price", "0.5"), "price"))
    if not 0 < price < 1:
        raise AdminError("price must be within (0, 1)")
    event_id = spec.get("event_id")
    event = state.events.get(str(event_id)) if event_id is not None else None
    if event_id is not None and event is None:
        raise AdminError(f"unknown event {event_id}")
    market_id = str(spec.get("market_id", 9_000_000 + n))
    index = 10_000_000 + n
    cond = str(spec.get("condition_id", _hex("cond", n, market_id)))
    if cond in state.markets:
        raise AdminError(f"market {cond} exists")
    question = str(spec.get("question", f"Emulator test market {market_id}?"))
    with state.lock:
        if event is None:
            event = SimEvent(
                event_id=str(8_000_000 + n),
                title=question,
                slug=f"emulator-test-event-{n}",
                neg_risk=bool(spec.get("neg_risk", False)),
                neg_risk_market_id=_hex("nrm", n) if spec.get("neg_risk") else None,
            )
            state.events[event.event_id] = event
        market = SimMarket(
            condition_id=cond,
            market_id=market_id,
            question=question,
            slug=f"emulator-test-market-{market_id}",
            outcomes=("Yes", "No"),
            token_ids=(
                str(spec.get("yes_token", _token(n, 0))),
                str(spec.get("no_token", _token(n, 1))),
            ),
            tick_size=tick,
            min_order_size=_decimal(spec.get("min_order_size", 5), "min_order_size"),
            neg_risk=event.neg_risk,
            neg_risk_market_id=event.neg_risk_market_id,
            event_id=event.event_id,
            end_date=datetime.fromtimestamp(state.clock.now() + 30 * 86_400, UTC),
        )
        state.markets[cond] = market
        state.token_index[market.yes_token] = (cond, True)
        state.token_index[market.no_token] = (cond, False)
        event.condition_ids.append(cond)
        _touch_listing(md, market, event)
        md.profiles[cond] = MarketProfile(
            index=index,
            fair=price,
            spread_ticks=int(spec.get("spread_ticks", 1)),
            depth=float(spec.get("depth", 300)),
            category="added",
            start_ts=state.clock.now(),
        )
        md.touch_catalogue()
    changes = {k: v for k, v in spec.items() if k in {*_FLAGS, "end_date", "fee_type"}}
    changes |= {k: v for k, v in spec.items() if k in {"fee_rate", "fee_exponent", "rebate_rate"}}
    if changes:
        modify_market(md, cond, changes)
    return market


def clock_state(clock: SimClock) -> dict[str, Any]:
    """JSON-ready clock: now (unix s), frozen or not."""
    return {"now": clock.now(), "frozen": clock.frozen_at is not None}


def move_clock(clock: SimClock, request: dict[str, Any]) -> None:
    """Apply one of ``{"advance": s}``, ``{"set": unix_s}``, ``{"freeze": true}``,
    ``{"unfreeze": true}`` (several may be combined; applied in that order of keys)."""
    unknown = set(request) - {"advance", "set", "freeze", "unfreeze"}
    if unknown or not request:
        raise AdminError("give advance, set, freeze or unfreeze")
    if request.get("freeze"):
        clock.frozen_at = clock.now() - clock.offset_seconds
    if request.get("unfreeze") and clock.frozen_at is not None:
        now = clock.now()
        clock.frozen_at = None
        clock.offset_seconds += now - clock.now()
    if "set" in request:
        target = float(request["set"])
        clock.offset_seconds += target - clock.now()
    if "advance" in request:
        seconds = float(request["advance"])
        if seconds < 0:
            raise AdminError("advance must be >= 0 (use set to go back)")
        clock.advance(seconds)
