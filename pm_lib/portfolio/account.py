"""The account as the store knows it: ledger, marks, cash, open orders, kill switch, breaker.

``read_portfolio`` only reads. ``record_valuation`` is what a scan writes after reading: the fresh
marks it took (each token's last trusted mark) and, once today's loss reaches the limit, the
daily-loss breaker's trip, which holds until the UTC day ends (a restart, a market closing or a
recovering mark changes nothing).

Cash: paper = ``PM_PAPER_BALANCE`` + the fills' cash flow; live = the balance the venue reported
now (a scan reads it) or else the last one reconcile stored (``None`` before the first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from pm_lib.models import (
    ZERO,
    Event,
    Market,
    OrderBook,
    OrderStatus,
    PortfolioState,
    Position,
    Side,
)
from pm_lib.portfolio.ledger import LedgerReplay, replay
from pm_lib.portfolio.marks import Valuation, value_positions
from pm_lib.portfolio.pnl import DayPnl, pnl_by_day
from pm_lib.settings import Settings
from pm_lib.store.account import (
    BreakerTrip,
    breaker_trip,
    position_marks,
    save_position_marks,
    stored_balance,
    trip_breaker,
)
from pm_lib.store.control import is_halted
from pm_lib.store.orders import open_intents
from pm_lib.store.rows import Mode
from pm_lib.store.settlement import market_resolutions
from pm_lib.store.trades import fills

__all__ = ["Portfolio", "read_portfolio", "record_valuation"]

# SIGNED: the hash is stored and the order may have been posted by a worker that died before it
# heard back; until reconcile looks it up it counts like a resting order.
_RESTING = (OrderStatus.SIGNED, OrderStatus.LIVE, OrderStatus.UNKNOWN)


@dataclass(frozen=True)
class Portfolio:
    """One account at ``as_of``: positions valued, P&L per day, cash, orders, switches."""

    mode: Mode
    as_of: datetime
    ledger: LedgerReplay
    valuation: Valuation
    days: tuple[DayPnl, ...]
    cash: Decimal | None
    cash_source: str
    open_orders: int
    open_order_notional: Decimal
    halted: bool
    halted_reason: str
    breaker: BreakerTrip | None

    @property
    def positions(self) -> dict[str, Position]:
        """The open positions (size not 0), by token id."""
        return {t: p for t, p in self.ledger.positions.items() if p.size != ZERO}

    @property
    def today(self) -> DayPnl:
        day = self.as_of.astimezone(UTC).date()
        return next(d for d in self.days if d.day == day)

    @property
    def equity(self) -> Decimal | None:
        """Cash + what the open positions are worth (``None`` while the cash is unknown)."""
        return None if self.cash is None else self.cash + self.valuation.value

    def state(self) -> PortfolioState:
        """What the risk gate reads (open positions; today's P&L by the one marking rule)."""
        today = self.today
        return PortfolioState(
            positions=self.positions,
            open_orders=self.open_orders,
            open_order_notional=self.open_order_notional,
            cash=self.cash if self.cash is not None else ZERO,
            realised_pnl_today=today.realised,
            fees_today=today.fees,
            unrealised_pnl=today.unrealised,
            unmarked_positions=self.valuation.unmarked,
            daily_loss_tripped_at=self.breaker.tripped_at if self.breaker else None,
            halted=self.halted,
            halted_reason=self.halted_reason,
            as_of=self.as_of,
        )


def read_portfolio(
    session: Session,
    mode: Mode,
    now: datetime,
    settings: Settings,
    *,
    books: Mapping[str, OrderBook] | None = None,
    markets: Mapping[str, Market] | None = None,
    events: Sequence[Event] = (),
    live_balance: Decimal | None = None,
) -> Portfolio:
    """The account of ``mode`` at ``now``; positions valued with ``books`` where fresh, else the
    stored marks (``pm_lib.portfolio.marks``). Reads only."""
    ledger = replay(fills(session, mode))
    valuation = value_positions(
        ledger.positions,
        now=now,
        books=books,
        marks=position_marks(session, mode),
        markets=markets,
        events=events,
        max_book_age=timedelta(seconds=settings.max_book_age_seconds),
        resolutions=market_resolutions(
            session, {p.condition_id for p in ledger.positions.values() if p.size != ZERO}
        ),
    )
    today = now.astimezone(UTC).date()
    resting = [row for row in open_intents(session, mode) if row.status in _RESTING]
    notional = sum(
        ((row.size - row.filled_size) * row.price for row in resting if row.side is Side.BUY),
        ZERO,
    )
    cash, source = _cash(session, mode, settings, ledger.cash_delta, live_balance)
    halted, reason = is_halted(session)
    return Portfolio(
        mode=mode,
        as_of=now,
        ledger=ledger,
        valuation=valuation,
        days=pnl_by_day(ledger, today, valuation.unrealised),
        cash=cash,
        cash_source=source,
        open_orders=len(resting),
        open_order_notional=notional,
        halted=halted,
        halted_reason=reason,
        breaker=breaker_trip(session, mode, today),
    )


def _cash(
    session: Session,
    mode: Mode,
    settings: Settings,
    cash_delta: Decimal,
    live_balance: Decimal | None,
) -> tuple[Decimal | None, str]:
    if mode == "paper":
        return settings.paper_balance + cash_delta, "paper ledger"
    if live_balance is not None:
        return live_balance, "venue, now"
    stored = stored_balance(session, mode)
    if stored is None:
        return None, "unknown (no reconcile yet)"
    balance, read_at = stored
    return balance, f"venue at {read_at.isoformat(timespec='seconds')}"


def record_valuation(
    session: Session, portfolio: Portfolio, max_daily_loss: Decimal, run_id: str | None
) -> Portfolio:
    """Store the fresh marks, and trip the daily-loss breaker when today's loss has reached
    ``max_daily_loss``; the portfolio with the day's trip (this one or an earlier one)."""
    save_position_marks(session, portfolio.mode, portfolio.valuation.fresh_marks)
    if portfolio.breaker is not None or portfolio.today.loss < max_daily_loss:
        return portfolio
    trip = BreakerTrip(
        day=portfolio.today.day,
        tripped_at=portfolio.as_of,
        loss=portfolio.today.loss,
        limit=max_daily_loss,
        run_id=run_id,
    )
    return replace(portfolio, breaker=trip_breaker(session, portfolio.mode, trip))
