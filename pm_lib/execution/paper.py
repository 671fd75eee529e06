"""Paper trading: orders simulated against the run's real books, as the venue would fill them.

- Marketable orders walk the book best price first (``book_math.walk_buy``/``walk_sell``): FOK
  fills whole or is refused, FAK fills what it can and the rest is cancelled, GTC/GTD rest the
  remainder. Taker fees follow the market's schedule per level (``book_math.taker_fee``).
- The venue's order rules and texts apply (``paper_rules``), and so does the balance check:
  the paper pUSD balance is ``PM_PAPER_BALANCE`` plus the cash flow of every stored paper fill,
  less what open paper BUY orders hold back (as the venue reserves for open orders).
- Within a run, liquidity is consumed (``RunLiquidity``): two orders cannot take the same level.
  Across runs too, until the venue's book moves: what paper took from a level is remembered
  (``paper_take``, in the transaction that stores the fills) and subtracted from later books
  while that level still shows the size it showed when taken from.
- Resting orders are ``order_intent`` rows (mode paper, status LIVE). At the start of a later
  run (first ``place`` or ``sync_fills``) each is filled, as a maker at its own price and with no
  fee, against whatever the new books show through its limit; resting orders go first because
  they were on the book first.
- Paper fills are ``fill`` rows with status CONFIRMED, so positions and P&L come from the same
  ledger as live (``pm_lib.portfolio.ledger``).

Limitation: the intent table has no expiry column, so a resting paper GTD order behaves as GTC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pm_lib.book_math import taker_fee, walk_buy, walk_sell
from pm_lib.execution.base import BookSource, ExecutionMode, OrderSnapshot
from pm_lib.execution.intents import (
    already_exists_result,
    intent_spec,
    paper_order_id,
    result_from_row,
)
from pm_lib.execution.liquidity import RunLiquidity
from pm_lib.execution.paper_rules import NO_BOOK, NOT_ENOUGH_BALANCE, fill_refusal, order_refusal
from pm_lib.models import (
    ZERO,
    Fill,
    OrderBook,
    OrderRequest,
    OrderResult,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TradeStatus,
)
from pm_lib.portfolio.ledger import replay
from pm_lib.settings import Settings
from pm_lib.store import (
    IntentAlreadyExists,
    create_intent,
    fills,
    fills_for_intent,
    halt_refusal,
    intent_by_key,
    intent_by_order_id,
    open_intents,
    session_scope,
    update_intent,
    upsert_fill,
)
from pm_lib.store.paper_takes import recalled_takes, remember_takes
from pm_lib.store.rows import OrderIntentRow

__all__ = ["PaperExecutor", "paper_cash", "reserved_for_orders"]


def reserved_for_orders(intents: Sequence[OrderIntentRow]) -> tuple[Decimal, dict[str, Decimal]]:
    """What open orders hold back: pUSD for BUYs, shares by token for SELLs."""
    cash = ZERO
    shares: dict[str, Decimal] = {}
    for row in intents:
        if row.status is not OrderStatus.LIVE:
            continue
        remaining = row.size - row.filled_size
        if row.side is Side.BUY:
            cash += remaining * row.price
        else:
            shares[row.token_id] = shares.get(row.token_id, ZERO) + remaining
    return cash, shares


def paper_cash(settings: Settings, session: Session) -> Decimal:
    """The paper pUSD balance: the starting balance plus every counted paper fill's cash flow."""
    return settings.paper_balance + replay(fills(session, "paper")).cash_delta


class PaperExecutor:
    """Simulated executor over real books; same interface and result types as live."""

    mode: ExecutionMode = "paper"

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        books: Mapping[str, OrderBook] | None = None,
        book_source: BookSource | None = None,
        run_id: str = "",
        clock: Callable[[], datetime] | None = None,
        flow_run_id: str | None = None,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._run_id = run_id or "manual"
        self._flow_run_id = flow_run_id
        self._clock = clock or (lambda: datetime.now(UTC))
        self._liquidity = RunLiquidity(books or {}, book_source, recall=self._recall)
        self._resting_matched = False

    def __repr__(self) -> str:
        return f"PaperExecutor(run_id={self._run_id!r})"

    def _recall(self, token_id: str, side: Side) -> dict[Decimal, tuple[Decimal, Decimal]]:
        with session_scope(self._engine, read_only=True) as session:
            return recalled_takes(session, token_id, side)

    def _remember(
        self, session: Session, token_id: str, side: Side, fills: Sequence[tuple[Decimal, Decimal]]
    ) -> None:
        """Take ``fills`` from the run's book and remember it, in the session storing them."""
        self._liquidity.take(token_id, side, fills)
        remember_takes(
            session, token_id, side, self._liquidity.remembered(token_id, side), self._clock()
        )

    # --- placing ---------------------------------------------------------------------------
    def place(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        """Simulate each request in order (later ones see what earlier ones took)."""
        self._liquidity.fetch([r.token_id for r in requests])
        self.match_resting()
        return [self._place_one(request) for request in requests]

    def place_batch(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        """A basket's legs at once: simulated as ``place`` (against the same books, in order),
        the venue matching a batch's orders one after another."""
        return self.place(requests)

    def _place_one(self, request: OrderRequest) -> OrderResult:
        now = self._clock()
        spec = intent_spec(
            request, run_id=self._run_id, mode="paper", now=now, flow_run_id=self._flow_run_id
        )
        try:
            with session_scope(self._engine) as session:
                create_intent(session, spec)
        except IntentAlreadyExists:
            with session_scope(self._engine) as session:
                row = intent_by_key(session, request.intent_key)
            return already_exists_result(row, request.intent_key)
        order_id = paper_order_id(request.intent_key)
        book = self._liquidity.book(request.token_id)
        refusal = halt_refusal(self._engine, request.intent_key)
        if refusal is None:
            refusal = NO_BOOK if book is None else order_refusal(request, book, now)
        if refusal is not None:
            return self._reject(request, order_id, refusal, now)
        levels = self._liquidity.available(request.token_id, request.side, request.price)
        walk = (walk_buy if request.side is Side.BUY else walk_sell)(
            levels, request.size, request.fees
        )
        refusal = fill_refusal(request, walk.filled, walk.cost)
        if refusal is not None:
            return self._reject(request, order_id, refusal, now)
        rests = request.order_type in (OrderType.GTC, OrderType.GTD)
        rest_size = request.size - walk.filled if rests else ZERO
        fills_made = [
            Fill(
                trade_id=f"{order_id}:{index}",
                order_id=order_id,
                token_id=request.token_id,
                condition_id=request.condition_id,
                side=request.side,
                size=size,
                price=price,
                fee=taker_fee(size, price, request.fees),
                status=TradeStatus.CONFIRMED,
                is_taker=True,
                matched_at=now,
            )
            for index, (price, size) in enumerate(walk.fills)
        ]
        if walk.filled >= request.size:
            status = OrderStatus.MATCHED
        else:
            status = OrderStatus.LIVE if rests else OrderStatus.CANCELED
        with session_scope(self._engine) as session:
            if not self._can_afford(session, request, walk.cost + walk.fee, rest_size):
                update_intent(
                    session,
                    request.intent_key,
                    status=OrderStatus.REJECTED,
                    venue_order_id=order_id,
                    error=NOT_ENOUGH_BALANCE,
                    at=now,
                )
                return OrderResult(
                    intent_key=request.intent_key,
                    order_id=order_id,
                    status=OrderStatus.REJECTED,
                    error=NOT_ENOUGH_BALANCE,
                )
            for fill in fills_made:
                upsert_fill(
                    session,
                    fill,
                    mode="paper",
                    intent_key=request.intent_key,
                    run_id=self._run_id,
                    flow_run_id=self._flow_run_id,
                    at=now,
                )
            update_intent(
                session,
                request.intent_key,
                status=status,
                venue_order_id=order_id,
                filled_size=walk.filled,
                avg_price=walk.vwap,
                fee=walk.fee,
                at=now,
            )
            self._remember(session, request.token_id, request.side, walk.fills)
        return OrderResult(
            intent_key=request.intent_key,
            order_id=order_id,
            status=status,
            filled_size=walk.filled,
            avg_price=walk.vwap,
            fee=walk.fee,
            raw={"paper": True, "levels": [[str(p), str(s)] for p, s in walk.fills]},
        )

    def _can_afford(
        self, session: Session, request: OrderRequest, spend: Decimal, rest_size: Decimal
    ) -> bool:
        held_cash, held_shares = reserved_for_orders(open_intents(session, "paper"))
        if request.side is Side.BUY:
            available = paper_cash(self._settings, session) - held_cash
            return spend + rest_size * request.price <= available
        position = replay(fills(session, "paper")).positions.get(request.token_id)
        held = position.size if position is not None else ZERO
        return request.size <= held - held_shares.get(request.token_id, ZERO)

    def _reject(
        self, request: OrderRequest, order_id: str, reason: str, now: datetime
    ) -> OrderResult:
        with session_scope(self._engine) as session:
            update_intent(
                session,
                request.intent_key,
                status=OrderStatus.REJECTED,
                venue_order_id=order_id,
                error=reason,
                at=now,
            )
        return OrderResult(
            intent_key=request.intent_key,
            order_id=order_id,
            status=OrderStatus.REJECTED,
            error=reason,
        )

    # --- resting orders ----------------------------------------------------------------------
    def match_resting(self) -> list[Fill]:
        """Fill resting paper orders the run's books now cross (once per run); the new fills."""
        if self._resting_matched:
            return []
        self._resting_matched = True
        with session_scope(self._engine) as session:
            resting = [r for r in open_intents(session, "paper") if r.status is OrderStatus.LIVE]
        self._liquidity.fetch([r.token_id for r in resting])
        made: list[Fill] = []
        for row in resting:
            made.extend(self._fill_resting(row))
        return made

    def _fill_resting(self, row: OrderIntentRow) -> list[Fill]:
        remaining = row.size - row.filled_size
        levels = self._liquidity.available(row.token_id, row.side, row.price)
        walk = (walk_buy if row.side is Side.BUY else walk_sell)(levels, remaining)
        if walk.filled <= ZERO or row.venue_order_id is None:
            return []
        now = self._clock()
        order_id = row.venue_order_id
        with session_scope(self._engine) as session:
            earlier = fills_for_intent(session, row.intent_key)
            fill = Fill(
                trade_id=f"{order_id}:{len(earlier)}",
                order_id=order_id,
                token_id=row.token_id,
                condition_id=row.condition_id,
                side=row.side,
                size=walk.filled,
                price=row.price,  # a resting order trades at its own price, as the maker
                fee=ZERO,  # makers pay no fee on CLOB V2
                status=TradeStatus.CONFIRMED,
                is_taker=False,
                matched_at=now,
            )
            upsert_fill(session, fill, mode="paper", intent_key=row.intent_key, at=now)
            every = [*earlier, fill]
            filled = sum((f.size for f in every), ZERO)
            cost = sum((f.size * f.price for f in every), ZERO)
            update_intent(
                session,
                row.intent_key,
                status=OrderStatus.MATCHED if filled >= row.size else OrderStatus.LIVE,
                filled_size=filled,
                avg_price=cost / filled,
                at=now,
            )
            self._remember(session, row.token_id, row.side, walk.fills)
        return [fill]

    # --- the rest of the Executor interface ------------------------------------------------
    def cancel(self, order_id: str) -> bool:
        """Cancel one resting paper order."""
        with session_scope(self._engine) as session:
            row = intent_by_order_id(session, order_id)
            if row is None or row.mode != "paper" or row.status is not OrderStatus.LIVE:
                return False
            update_intent(session, row.intent_key, status=OrderStatus.CANCELED, at=self._clock())
        return True

    def cancel_all(self) -> list[str]:
        """Cancel every resting paper order."""
        with session_scope(self._engine) as session:
            live = [r for r in open_intents(session, "paper") if r.status is OrderStatus.LIVE]
            for row in live:
                update_intent(
                    session, row.intent_key, status=OrderStatus.CANCELED, at=self._clock()
                )
        return [r.venue_order_id for r in live if r.venue_order_id]

    def open_orders(self) -> list[OrderSnapshot]:
        """Resting paper orders."""
        with session_scope(self._engine) as session:
            rows = open_intents(session, "paper")
        return [_snapshot(r) for r in rows if r.status is OrderStatus.LIVE]

    def order_status(self, order_id: str) -> OrderSnapshot | None:
        """One paper order's state."""
        with session_scope(self._engine) as session:
            row = intent_by_order_id(session, order_id)
        return _snapshot(row) if row is not None and row.mode == "paper" else None

    def sync_fills(self, since: datetime | None = None) -> list[Fill]:
        """Fill resting orders the books cross, then return paper fills since ``since``."""
        self.match_resting()
        with session_scope(self._engine) as session:
            return fills(session, "paper", since)

    def resolve(self, intent_key: str) -> OrderResult:
        """The stored state of a paper intent (paper's book-keeping is its own authority)."""
        with session_scope(self._engine) as session:
            row = intent_by_key(session, intent_key)
        if row is None:
            return already_exists_result(None, intent_key)
        return result_from_row(row)

    def holdings(self, token_ids: Iterable[str]) -> dict[str, Decimal]:
        """Paper shares per token, from the ledger."""
        held = self.positions()
        return {t: held[t].size if t in held else ZERO for t in dict.fromkeys(token_ids)}

    def balance(self) -> Decimal:
        """Paper pUSD: starting balance plus stored fill cash flow (open orders not deducted)."""
        with session_scope(self._engine) as session:
            return paper_cash(self._settings, session)

    def positions(self) -> dict[str, Position]:
        """Paper positions from the stored fills."""
        with session_scope(self._engine) as session:
            return replay(fills(session, "paper")).positions

    def close(self) -> None:
        """Nothing to release."""


def _snapshot(row: OrderIntentRow) -> OrderSnapshot:
    return OrderSnapshot(
        order_id=row.venue_order_id or "",
        token_id=row.token_id,
        condition_id=row.condition_id,
        side=row.side,
        price=row.price,
        original_size=row.size,
        size_matched=row.filled_size,
        status=row.status,
        intent_key=row.intent_key,
        created_at=row.created_at,
    )
