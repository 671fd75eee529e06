"""Order books for many tokens at once: ``POST /books``, chunked, concurrent, inside the budget.

CLOB facts this module relies on (docs/VENUE.md 4.2, 4.3; py_clob_client_v2 ``get_order_books``):
- the body is a JSON list ``[{"token_id": "..."}, ...]`` of at most 500 tokens (the SDK's
  ``_book_params_to_json`` drops the empty ``side``); the answer is a JSON list of book objects;
- a token without a book is simply absent from the answer (``GET /book`` would say 404 "No
  orderbook exists for the requested token id"), so absence is reported, not fatal;
- POST /books is limited to 500 requests per 10 s (``PM_BOOKS_RATE_LIMIT_PER_10S``), of which
  pm-agent uses ``PM_RATE_BUDGET_FRACTION``; ``PM_HTTP_CONCURRENCY`` requests run at once.

One malformed book is skipped with its reason; the rest of its chunk is kept. A chunk that still
fails after the read retries fails the whole fetch (the caller's task may be retried).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from pm_lib.errors import BadVenueData
from pm_lib.models import OrderBook, SkippedItem
from pm_lib.settings import Settings
from pm_lib.venue.http import RequestCounters, RetryPolicy, VenueReader
from pm_lib.venue.ratelimit import RateLimiter, Sleep
from pm_lib.venue.wire import parse_book

__all__ = ["MAX_BOOKS_PER_REQUEST", "BookBatch", "ProgressCallback", "fetch_books"]

logger = logging.getLogger(__name__)

MAX_BOOKS_PER_REQUEST = 500

ProgressCallback = Callable[[int, int], None]
"""Called after each chunk with (tokens done, tokens requested)."""


class BookBatch(BaseModel):
    """The books of one fetch: by token id, plus what was absent or refused, and what it cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    books: dict[str, OrderBook]
    missing: tuple[str, ...] = ()
    skipped: tuple[SkippedItem, ...] = ()
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    fetched_at: datetime


class _Collector:
    """Gathers parsed books chunk by chunk (single event loop: no locking needed)."""

    def __init__(self, total: int, on_progress: ProgressCallback | None) -> None:
        self.books: dict[str, OrderBook] = {}
        self.skipped: list[SkippedItem] = []
        self.refused: set[str] = set()
        self.done = 0
        self.total = total
        self.on_progress = on_progress

    def absorb(self, chunk: Sequence[str], answer: Any) -> None:
        if not isinstance(answer, list):
            raise BadVenueData("books answer", chunk[0], "expected a JSON list of books")
        wanted = set(chunk)
        for raw in answer:
            try:
                book = parse_book(raw)
            except BadVenueData as e:
                self.skipped.append(SkippedItem(kind=e.kind, ident=e.ident, reason=e.reason))
                self.refused.add(e.ident)
                logger.info("skipped book %s: %s", e.ident, e.reason)
                continue
            if book.token_id in wanted:
                self.books[book.token_id] = book
        self.done += len(chunk)
        if self.on_progress is not None:
            self.on_progress(self.done, self.total)


def _distinct(token_ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(token_ids))


def _chunks(tokens: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(tokens), size):
        yield tokens[start : start + size]


async def fetch_books(
    client: httpx.AsyncClient,
    settings: Settings,
    token_ids: Iterable[str],
    now: datetime,
    on_progress: ProgressCallback | None = None,
    *,
    limiter: RateLimiter | None = None,
    sleep: Sleep = asyncio.sleep,
) -> BookBatch:
    """Fetch the books of ``token_ids`` (duplicates ignored) through ``POST {clob_url}/books``.

    Chunks of ``PM_BOOKS_BATCH_SIZE`` (<= 500) tokens, ``PM_HTTP_CONCURRENCY`` at a time, under
    ``limiter`` (default: the /books budget from ``settings``). Raises the
    ``pm_lib.errors`` of a chunk that could not be read after retries.
    """
    tokens = _distinct(token_ids)
    reader = VenueReader(
        client,
        limiter
        or RateLimiter.for_budget(
            settings.books_rate_limit_per_10s, settings.rate_budget_fraction, sleep=sleep
        ),
        RetryPolicy.from_settings(settings),
        sleep=sleep,
        counters=RequestCounters(),
    )
    collector = _Collector(len(tokens), on_progress)
    chunk_list = list(_chunks(tokens, min(settings.books_batch_size, MAX_BOOKS_PER_REQUEST)))
    pending = iter(chunk_list)
    url = f"{settings.clob_url}/books"

    async def worker() -> None:
        # Workers share one chunk iterator; next() never awaits, so each chunk goes to one.
        for chunk in pending:
            answer = await reader.post_json(url, [{"token_id": t} for t in chunk])
            collector.absorb(chunk, answer)

    failure: BaseException | None = None
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(min(settings.http_concurrency, len(chunk_list))):
                group.create_task(worker())
    except BaseExceptionGroup as failed:
        failure = failed.exceptions[0]
    if failure is not None:
        # Surface the venue error itself (RetryableError, RateLimited...), not the group.
        raise failure

    missing = tuple(t for t in tokens if t not in collector.books and t not in collector.refused)
    counters = reader.counters
    logger.info(
        "books: %d of %d tokens, %d missing, %d skipped; %d requests, %d retries, %d x 429",
        len(collector.books),
        len(tokens),
        len(missing),
        len(collector.skipped),
        counters.requests,
        counters.retries,
        counters.rate_limited,
    )
    return BookBatch(
        books=collector.books,
        missing=missing,
        skipped=tuple(collector.skipped),
        requests=counters.requests,
        retries=counters.retries,
        rate_limited=counters.rate_limited,
        fetched_at=now,
    )
