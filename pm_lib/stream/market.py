"""The market stream of a token list: shards over the venue's per-connection cap, and the
``POST /books`` resync of the books that stopped matching the venue.

``MarketStream.run`` runs until cancelled. The resync takes the tokens the shards and books
flagged (a hash mismatch, a refused snapshot, a snapshot that never came), at most every
``resync_interval`` seconds, through ``pm_lib.venue.books.fetch_books`` (the one books reader,
chunked and inside the /books budget). A resynced book is installed only while its shard is
connected and not stale: a book from ``POST /books`` with no live stream behind it would age
unseen, so it stays out of trading until the stream is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from pm_lib.errors import BadVenueData, VenueError
from pm_lib.settings import Settings
from pm_lib.stream.books import StreamBooks
from pm_lib.stream.local_book import LocalBook
from pm_lib.stream.shard import MarketShard, ShardTiming
from pm_lib.venue.books import fetch_books
from pm_lib.venue.ratelimit import RateLimiter
from pm_lib.venue.sdk_environment import ws_base_url

__all__ = ["MarketStream", "market_ws_url", "shard_tokens"]

_RESYNC_BATCH = 2000
_FREEZE_AFTER = 1000  # books installed by one resync after which the heap is frozen (gc)

logger = logging.getLogger(__name__)


def market_ws_url(settings: Settings, channel: str = "market") -> str:
    """A channel's URL (``market`` or ``user``) on the WebSocket host (docs/VENUE.md 4.5)."""
    return f"{ws_base_url(settings)}/ws/{channel}"


def shard_tokens(tokens: Sequence[str], cap: int) -> list[list[str]]:
    """Distinct tokens in connections of at most ``cap`` (both tokens of a market together
    when they come in pairs, as catalogues list them)."""
    distinct = list(dict.fromkeys(tokens))
    return [distinct[i : i + cap] for i in range(0, len(distinct), cap)]


class MarketStream:
    """Books for ``tokens`` from the market channel, kept trusted or flagged."""

    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient,
        tokens: Sequence[str],
        *,
        timing: ShardTiming | None = None,
        resync_interval: float = 0.1,
        limiter: RateLimiter | None = None,
        on_message: object = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.books = StreamBooks()
        self.timing = timing or ShardTiming()
        self.resync_interval = resync_interval
        self.limiter = limiter
        url = market_ws_url(settings)
        self.shards = [
            MarketShard(
                url, part, self.books, self.timing, name=f"shard-{n}", on_message=on_message
            )
            for n, part in enumerate(shard_tokens(tokens, settings.ws_max_assets))
        ]
        self.shard_of = {t: s for s in self.shards for t in s.tokens}

    def live(self, token: str) -> bool:
        """Whether the token's connection is up and heard from recently."""
        shard = self.shard_of.get(token)
        return (
            shard is not None
            and shard.connected
            and time.monotonic() - shard.last_heard <= self.timing.stale_seconds
        )

    def confirmed_at(self, token: str) -> datetime | None:
        """When the token's connection was last heard from (wall clock), if it is live."""
        shard = self.shard_of.get(token)
        return shard.last_heard_at if shard is not None and self.live(token) else None

    async def run(self) -> None:
        tasks = [asyncio.create_task(s.run(), name=s.name) for s in self.shards]
        tasks.append(asyncio.create_task(self._resync_loop(), name="resync"))
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def wait_ready(self, timeout: float, share: float = 1.0) -> bool:
        """Wait until ``share`` of the tokens have a trusted book; whether it happened."""
        wanted = len(self.shard_of) * share
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for t in self.shard_of if self.books.trusted(t)) >= wanted:
                return True
            await asyncio.sleep(0.05)
        return False

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.resync_interval)
            wanted = [t for t in self.books.needs_resync if self.live(t)]
            if not wanted:
                continue
            try:
                installed = await self.resync(wanted)
            except (VenueError, httpx.HTTPError) as e:
                logger.warning("stream resync of %d books failed: %s", len(wanted), e)
                continue
            if installed >= _FREEZE_AFTER:
                # Books installed in bulk live for the window: out of the cyclic collector's
                # reach, whose next full collection would otherwise walk every one of them
                # (~0.4 s at 50k books, stalling the loop as trading starts).
                gc.freeze()

    async def resync(self, tokens: Sequence[str]) -> int:
        """Fetch ``tokens`` through ``POST /books`` and install the verified ones, a few
        thousand at a time (the sockets are read between batches)."""
        self.books.counters.resyncs += 1
        installed = 0
        for start in range(0, len(tokens), _RESYNC_BATCH):
            installed += await self._resync_batch(tokens[start : start + _RESYNC_BATCH])
            await asyncio.sleep(0)
        self.books.counters.resynced_books += installed
        return installed

    async def _resync_batch(self, tokens: Sequence[str]) -> int:
        moved = {t: self.books.missed.get(t, 0) for t in tokens}
        batch = await fetch_books(
            self.client, self.settings, tokens, datetime.now(UTC), limiter=self.limiter
        )
        installed = 0
        for token, book in batch.books.items():
            if not self.live(token):
                continue
            if self.books.missed.get(token, 0) != moved.get(token, 0):
                continue  # it changed while we fetched: the answer may be older; fetch again
            try:
                local = LocalBook.from_order_book(book)
            except BadVenueData as e:
                logger.warning("stream: resynced book %s refused: %s", token, e)
                continue
            self.books.put(local)
            installed += 1
            if installed % 250 == 0:
                await asyncio.sleep(0)
        return installed
