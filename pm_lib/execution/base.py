"""The executor interface shared by paper and live trading, and its result types.

An ``Executor`` is chosen once by ``pm_lib.execution.factory.make_executor``; flows call it the
same way in both modes and never branch on the mode. Executors are synchronous: the live one
drives the SDK's blocking HTTP client, so async callers go through ``run_off_loop``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

from pm_lib.models import Fill, OrderBook, OrderRequest, OrderResult, OrderStatus, Position, Side

__all__ = [
    "BookSource",
    "ExecutionMode",
    "Executor",
    "OrderSnapshot",
    "calls_in_place",
    "run_off_loop",
]

ExecutionMode = Literal["paper", "live"]

BookSource = Callable[[Sequence[str]], Mapping[str, OrderBook]]
"""Fetches the current books of some token ids (paper uses it for books it was not given)."""


class OrderSnapshot(BaseModel):
    """One order as the venue (or the paper book-keeper) sees it right now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    order_id: str
    token_id: str
    condition_id: str
    side: Side
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    status: OrderStatus
    intent_key: str | None = None
    created_at: datetime | None = None

    @property
    def remaining(self) -> Decimal:
        """Shares still resting (zero once the order is terminal)."""
        if self.status.is_terminal:
            return Decimal(0)
        return self.original_size - self.size_matched


@runtime_checkable
class Executor(Protocol):
    """Places and tracks orders; paper and live implement it with the same result types."""

    mode: ExecutionMode

    def place(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        """Place each request once (idempotent by ``intent_key``); one result per request."""
        ...

    def place_batch(self, requests: Sequence[OrderRequest]) -> list[OrderResult]:
        """Place up to 15 requests at once (a basket's legs; live: one ``POST /orders``, none
        sent if any is refused before sending); one result per request."""
        ...

    def cancel(self, order_id: str) -> bool:
        """Cancel one resting order; True when the venue confirmed the cancel."""
        ...

    def cancel_all(self) -> list[str]:
        """Cancel every resting order of this account; the ids cancelled."""
        ...

    def open_orders(self) -> list[OrderSnapshot]:
        """The account's resting orders."""
        ...

    def order_status(self, order_id: str) -> OrderSnapshot | None:
        """One order's current state, or None when the venue does not know it."""
        ...

    def sync_fills(self, since: datetime | None = None) -> list[Fill]:
        """Fetch fills (trades) since ``since``, store them, and return them."""
        ...

    def resolve(self, intent_key: str) -> OrderResult:
        """Look one stored intent's order up (venue or paper book) and store what is found."""
        ...

    def balance(self) -> Decimal:
        """Collateral (pUSD) available, in pUSD."""
        ...

    def holdings(self, token_ids: Iterable[str]) -> dict[str, Decimal]:
        """Shares held per token as the venue (or the paper ledger) reports them."""
        ...

    def positions(self) -> dict[str, Position]:
        """Positions by token id, from the stored fills."""
        ...

    def close(self) -> None:
        """Release resources (stop heartbeats). Idempotent."""
        ...


T = TypeVar("T")


_IN_PLACE: ContextVar[bool] = ContextVar("pm_run_off_loop_in_place", default=False)


async def run_off_loop(call: Callable[[], T]) -> T:
    """Run a blocking call (the executor, the SDK, the DB) in a worker thread so the event loop
    keeps running; context variables (Prefect's run context, the adapter's connection) follow.
    Inside ``calls_in_place`` the call runs here, on the caller's thread."""
    if _IN_PLACE.get():
        return call()
    return await asyncio.to_thread(call)


@contextmanager
def calls_in_place() -> Iterator[None]:
    """``run_off_loop`` calls run on the caller's thread inside this block: for a caller that
    blocks its loop anyway (a replay applies messages between stages on the loop's thread), a
    thread hop per stage is only a wait for the scheduler."""
    token = _IN_PLACE.set(True)
    try:
        yield
    finally:
        _IN_PLACE.reset(token)
