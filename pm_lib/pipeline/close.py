"""Force-exit: close an open position (one token, or all) through the run's executor.

A close is an unwind: each long position is sold with one FAK SELL of the shares pm-agent holds
(never more: the risk gate's SELL rule), limited to the worst price at which the exit loses at
most ``max_loss`` pUSD against the position's average cost (``PM_UNWIND_MAX_LOSS`` unless
given), through ``pm_lib.execution.multileg.sell_back``, the path that closes a basket's
lopsided leg. Its intent key is an unwind key (``{run}:close-{token}:unwind:0``), so a close
goes through while trading is halted, which is when an operator most needs it; it is placed
once (intent keys are idempotent). What the bids cannot take within the budget stays held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import httpx

from pm_lib.errors import ConfigurationError
from pm_lib.execution.multileg import sell_back
from pm_lib.models import ZERO, OrderRequest, OrderResult, OrderStatus, OrderType, Side
from pm_lib.pipeline.context import RunContext
from pm_lib.pipeline.reports import stored_portfolio
from pm_lib.store.catalogue import stored_market
from pm_lib.store.engine import session_scope
from pm_lib.venue.books import fetch_books

__all__ = ["ClosedPosition", "close_positions"]


@dataclass(frozen=True)
class ClosedPosition:
    """What closing one position did: shares held, the SELL's result (None: not sent), why."""

    token_id: str
    condition_id: str
    held: Decimal
    avg_price: Decimal
    result: OrderResult | None
    detail: str

    @property
    def sold(self) -> Decimal:
        return self.result.filled_size if self.result is not None else ZERO


async def close_positions(
    ctx: RunContext,
    client: httpx.AsyncClient,
    token_ids: Sequence[str] | None,
    *,
    max_loss: Decimal | None = None,
) -> list[ClosedPosition]:
    """Sell ``token_ids``' open positions (all long positions when None) in the run's mode."""
    budget = ctx.settings.unwind_max_loss if max_loss is None else max_loss
    if budget < ZERO:
        raise ConfigurationError(f"max_loss must be >= 0, got {budget}")
    held = {
        t: p
        for t, p in stored_portfolio(
            ctx.engine, ctx.mode, ctx.now(), ctx.settings
        ).positions.items()
        if p.size > ZERO
    }
    if token_ids:
        unknown = [t for t in token_ids if t not in held]
        if unknown:
            raise ConfigurationError(
                f"no open {ctx.mode} position in token(s) {', '.join(unknown)}: "
                "see `pm-agent positions`"
            )
        held = {t: held[t] for t in token_ids}
    if not held:
        return []
    with session_scope(ctx.engine, read_only=True) as session:
        markets = {p.condition_id: stored_market(session, p.condition_id) for p in held.values()}
    batch = await fetch_books(client, ctx.settings, list(held), ctx.now())
    executor = ctx.executor(batch.books)
    closed: list[ClosedPosition] = []
    try:
        for token_id, position in held.items():
            market = markets.get(position.condition_id)
            book = batch.books.get(token_id)
            if market is None:
                closed.append(
                    ClosedPosition(
                        token_id,
                        position.condition_id,
                        position.size,
                        position.avg_price,
                        None,
                        f"market {position.condition_id} is not in the stored catalogue",
                    )
                )
                continue
            entry = OrderRequest(
                intent_key=f"position:{token_id}",
                token_id=token_id,
                condition_id=position.condition_id,
                side=Side.BUY,
                size=position.size,
                price=position.avg_price,
                order_type=OrderType.FAK,
                tick_size=book.tick_size if book is not None else market.tick_size,
                neg_risk=market.neg_risk,
                fees=market.fees,
            )
            filled = OrderResult(
                intent_key=entry.intent_key,
                order_id=None,
                status=OrderStatus.MATCHED,
                filled_size=position.size,
                avg_price=position.avg_price,
            )
            result, _, detail, _ = sell_back(
                executor, entry, filled, budget, ctx.run_id, f"close-{token_id}", 0
            )
            closed.append(
                ClosedPosition(
                    token_id,
                    position.condition_id,
                    position.size,
                    position.avg_price,
                    result,
                    detail,
                )
            )
    finally:
        executor.close()
    return closed
