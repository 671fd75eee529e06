"""Positions, cash and P&L from the stored fills: one ledger for paper and live.

Accounting rules:
- Fills are replayed in ``matched_at`` order (then trade id) with average cost: a BUY adds to the
  position at its price; a SELL realises ``(price - avg_price) * size`` on the shares it closes.
  ``realised_pnl`` is gross of fees; fees are kept apart in ``fees_paid`` (makers pay none).
- MATCHED, MINED and RETRYING fills count (provisional); CONFIRMED is final; a FAILED fill was
  reverted on chain and counts for nothing, so when a fill turns FAILED its effect on positions,
  cash and P&L disappears on the next read (nothing to undo by hand).
- Cash moves by ``-(size * price) - fee`` on a BUY and ``+(size * price) - fee`` on a SELL.
- Marks: a binary market's YES + NO pair is worth exactly 1 pUSD (the venue merges it), so paired
  shares are marked at 1; other shares at what selling them into the bids would pay (VWAP walk,
  fees left out; shares the bids cannot absorb are worth 0, as in ``pm_lib.risk.portfolio``);
  without a book, at their average price (no unrealised P&L claimed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from pm_lib.book_math import walk_sell
from pm_lib.models import (
    ONE,
    ZERO,
    Fill,
    OrderBook,
    OrderStatus,
    PortfolioState,
    Position,
    Side,
    TradeStatus,
)
from pm_lib.settings import Settings
from pm_lib.store import fills, get_cursor, is_halted, open_intents
from pm_lib.store.rows import Mode

__all__ = [
    "LIVE_BALANCE_CURSOR",
    "LedgerReplay",
    "cash_flow",
    "counts",
    "load_portfolio_state",
    "marked_value",
    "replay",
    "unrealised_pnl",
]

LIVE_BALANCE_CURSOR = "live:balance"
"""Sync cursor holding the last pUSD balance the venue reported (written by reconcile)."""


def counts(fill: Fill) -> bool:
    """True when the fill is part of the ledger (every status but FAILED)."""
    return fill.status is not TradeStatus.FAILED


def cash_flow(fill: Fill) -> Decimal:
    """pUSD the fill moved: negative for a BUY (cost and fee), positive for a SELL (net)."""
    notional = fill.size * fill.price
    return (-notional if fill.side is Side.BUY else notional) - fill.fee


@dataclass
class _Book:
    token_id: str
    condition_id: str
    size: Decimal = ZERO
    avg_price: Decimal = ZERO
    realised: Decimal = ZERO
    fees: Decimal = ZERO


@dataclass(frozen=True)
class LedgerReplay:
    """The result of replaying fills: positions, and P&L and fees inside a time window."""

    positions: dict[str, Position]
    cash_delta: Decimal
    realised_in_window: Decimal
    fees_in_window: Decimal


def _apply(book: _Book, fill: Fill) -> Decimal:
    """Apply one fill to ``book``; the P&L it realised."""
    signed = fill.size if fill.side is Side.BUY else -fill.size
    realised = ZERO
    if book.size == ZERO or (book.size > ZERO) == (signed > ZERO):
        total = book.size + signed
        book.avg_price = (book.avg_price * abs(book.size) + fill.price * fill.size) / abs(total)
        book.size = total
    else:
        closing = min(abs(signed), abs(book.size))
        direction = ONE if book.size > ZERO else -ONE
        realised = (fill.price - book.avg_price) * closing * direction
        book.size += signed
        if book.size == ZERO:
            book.avg_price = ZERO
        elif (book.size > ZERO) != (direction > ZERO):
            book.avg_price = fill.price  # flipped through zero: the rest opens at this price
    book.realised += realised
    book.fees += fill.fee
    return realised


def replay(fills: Iterable[Fill], window: tuple[datetime, datetime] | None = None) -> LedgerReplay:
    """Replay ``fills`` (FAILED ones skipped); P&L and fees are also summed inside ``window``."""
    books: dict[str, _Book] = {}
    cash = ZERO
    realised_window = ZERO
    fees_window = ZERO
    ordered = sorted((f for f in fills if counts(f)), key=lambda f: (f.matched_at, f.trade_id))
    for fill in ordered:
        book = books.setdefault(fill.token_id, _Book(fill.token_id, fill.condition_id))
        realised = _apply(book, fill)
        cash += cash_flow(fill)
        if window is not None and window[0] <= fill.matched_at < window[1]:
            realised_window += realised
            fees_window += fill.fee
    positions = {
        token: Position(
            token_id=b.token_id,
            condition_id=b.condition_id,
            size=b.size,
            avg_price=b.avg_price,
            realised_pnl=b.realised,
            fees_paid=b.fees,
        )
        for token, b in books.items()
    }
    return LedgerReplay(positions, cash, realised_window, fees_window)


def marked_value(positions: Mapping[str, Position], books: Mapping[str, OrderBook]) -> Decimal:
    """What the open positions are worth now (see the module docstring for the marks)."""
    by_condition: dict[str, list[Position]] = defaultdict(list)
    for position in positions.values():
        if position.size > ZERO:
            by_condition[position.condition_id].append(position)
    value = ZERO
    for held in by_condition.values():
        paired = min(p.size for p in held) if len(held) == 2 else ZERO
        value += paired  # one YES + one NO redeem for 1 pUSD
        for position in held:
            rest = position.size - paired
            book = books.get(position.token_id)
            if book is None:
                value += rest * position.avg_price
            elif rest > ZERO:
                value += walk_sell(book.bids, rest).cost
    return value


def unrealised_pnl(positions: Mapping[str, Position], books: Mapping[str, OrderBook]) -> Decimal:
    """Marked value of the open positions minus what they cost (fees excluded)."""
    cost = sum((p.size * p.avg_price for p in positions.values() if p.size > ZERO), ZERO)
    return marked_value(positions, books) - cost


def load_portfolio_state(
    session: Session,
    mode: Mode,
    now: datetime,
    books: Mapping[str, OrderBook],
    settings: Settings,
) -> PortfolioState:
    """The account as the DB knows it at ``now``, for the risk gate; survives restarts.

    Positions and today's (UTC) realised P&L and fees come from the stored fills, so the daily
    loss limit still holds after a restart. Cash: paper = ``PM_PAPER_BALANCE`` + fill cash flow;
    live = the last balance reconcile read from the venue (0 before the first). Open orders are
    the intents that may still rest (LIVE; SIGNED or UNKNOWN until reconcile resolves them).
    Closed positions (size 0) are left out. ``books`` is not used: the gate marks positions from
    its own context.
    """
    day_start = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    ledger = replay(fills(session, mode), window=(day_start, day_start + timedelta(days=1)))
    resting = [
        row
        for row in open_intents(session, mode)
        # SIGNED: the hash is stored and the order may have been posted by a worker that died
        # before it heard back; until reconcile looks it up it counts like a resting order.
        if row.status in (OrderStatus.SIGNED, OrderStatus.LIVE, OrderStatus.UNKNOWN)
    ]
    notional = sum(
        ((row.size - row.filled_size) * row.price for row in resting if row.side is Side.BUY),
        ZERO,
    )
    if mode == "paper":
        cash = settings.paper_balance + ledger.cash_delta
    else:
        stored = get_cursor(session, LIVE_BALANCE_CURSOR)
        cash = Decimal(stored) if stored else ZERO
    halted, reason = is_halted(session)
    return PortfolioState(
        positions={t: p for t, p in ledger.positions.items() if p.size != ZERO},
        open_orders=len(resting),
        open_order_notional=notional,
        cash=cash,
        realised_pnl_today=ledger.realised_in_window,
        fees_today=ledger.fees_in_window,
        halted=halted,
        halted_reason=reason,
        as_of=now,
    )
