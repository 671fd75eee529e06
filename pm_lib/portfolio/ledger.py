"""The ledger: positions, cash and realised P&L replayed from the stored fills (paper and live).

Accounting rules:
- Fills are replayed in ``matched_at`` order (then trade id) with average cost: a BUY adds to the
  position at its price; a SELL realises ``(price - avg_price) * size`` on the shares it closes.
  ``realised_pnl`` is gross of fees; fees are kept apart in ``fees_paid`` (makers pay none).
- MATCHED, MINED and RETRYING fills count (provisional); CONFIRMED is final; a FAILED fill was
  reverted on chain and counts for nothing, so when a fill turns FAILED its effect on positions,
  cash and P&L disappears on the next read (nothing to undo by hand).
- Cash moves by ``-(size * price) - fee`` on a BUY and ``+(size * price) - fee`` on a SELL.
- Realised P&L, fees and fill counts are also kept per UTC day of ``matched_at``.

What the open positions are worth is ``pm_lib.portfolio.marks``'s business.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date
from decimal import Decimal

from pm_lib.models import ONE, ZERO, Fill, Position, Side, TradeStatus

__all__ = ["DayFlows", "LedgerReplay", "cash_flow", "counts", "replay"]


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


@dataclass(frozen=True, slots=True)
class DayFlows:
    """What one UTC day's fills did: P&L realised (gross of fees), fees paid, fills counted."""

    realised: Decimal = ZERO
    fees: Decimal = ZERO
    fills: int = 0


@dataclass(frozen=True)
class LedgerReplay:
    """The result of replaying fills: positions, the cash they moved, and each day's flows."""

    positions: dict[str, Position]
    cash_delta: Decimal
    days: dict[date, DayFlows] = field(default_factory=dict)

    def day(self, day: date) -> DayFlows:
        """The flows of ``day`` (UTC); zeros when nothing filled that day."""
        return self.days.get(day, DayFlows())


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


def replay(fills: Iterable[Fill]) -> LedgerReplay:
    """Replay ``fills`` (FAILED ones skipped): positions, cash moved, flows per UTC day."""
    books: dict[str, _Book] = {}
    cash = ZERO
    days: dict[date, DayFlows] = {}
    ordered = sorted((f for f in fills if counts(f)), key=lambda f: (f.matched_at, f.trade_id))
    for fill in ordered:
        book = books.setdefault(fill.token_id, _Book(fill.token_id, fill.condition_id))
        realised = _apply(book, fill)
        cash += cash_flow(fill)
        day = fill.matched_at.astimezone(UTC).date()
        seen = days.get(day, DayFlows())
        days[day] = DayFlows(seen.realised + realised, seen.fees + fill.fee, seen.fills + 1)
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
    return LedgerReplay(positions, cash, days)
