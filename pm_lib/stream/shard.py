"""One market-channel connection: subscribe, keep its books, notice when it cannot be trusted.

A shard holds at most ``PM_WS_MAX_ASSETS`` tokens (the venue's per-connection cap). It sends
``PING`` every ``ping_seconds``; a connection that delivers nothing (no message, no ``PONG``) for
``stale_seconds`` is stale (a silent stall): its books stop being traded and it reconnects. A
dropped connection likewise untrusts its books and reconnects with jittered exponential backoff
(a reconnect storm is ridden out, not amplified). After a (re)subscribe the venue's ``book``
snapshots restore trust; tokens still without a trusted book ``resync_after`` seconds later are
handed to the ``POST /books`` resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from pm_lib.stream.books import StreamBooks

__all__ = ["MarketShard", "ShardTiming"]

logger = logging.getLogger(__name__)


class ShardTiming:
    """The clocks of a shard (seconds)."""

    def __init__(
        self,
        ping_seconds: float = 2.0,
        stale_seconds: float = 5.0,
        backoff_seconds: float = 0.2,
        backoff_max_seconds: float = 5.0,
        resync_after: float = 1.0,
    ) -> None:
        self.ping_seconds = ping_seconds
        self.stale_seconds = stale_seconds
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.resync_after = resync_after


class MarketShard:
    """One connection to ``url`` for ``tokens`` (run until cancelled)."""

    def __init__(
        self,
        url: str,
        tokens: Sequence[str],
        books: StreamBooks,
        timing: ShardTiming | None = None,
        *,
        name: str = "shard",
        on_message: Any = None,
    ) -> None:
        self.url = url
        self.tokens = list(tokens)
        self.books = books
        self.timing = timing or ShardTiming()
        self.name = name
        self.connected = False
        self.connections = 0
        self.last_heard = 0.0
        self.last_heard_at: datetime | None = None  # the same moment, wall clock
        self.on_message = on_message  # optional (raw text, monotonic receive time) probe
        self._rng = random.Random()
        self._delivered = False

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                async with connect(
                    self.url, ping_interval=None, max_size=None, open_timeout=10
                ) as ws:
                    await self._session(ws)
            except (OSError, WebSocketException, TimeoutError) as e:
                logger.info("%s: connection lost (%s)", self.name, e)
            finally:
                if self.connected:
                    self.connected = False
                self.books.distrust(self.tokens)
            # The backoff only resets once a session delivered data: a venue that accepts and
            # drops at once (a storm) is met with ever longer waits, not a hammering.
            failures = 1 if self._delivered else failures + 1
            self.books.counters.reconnects += 1
            delay = min(
                self.timing.backoff_max_seconds, self.timing.backoff_seconds * 2 ** (failures - 1)
            )
            await asyncio.sleep(delay * (0.5 + self._rng.random()))

    async def _session(self, ws: ClientConnection) -> None:
        self.connections += 1
        self._delivered = False
        self.books.distrust(self.tokens)
        await ws.send(
            orjson.dumps(
                {"assets_ids": self.tokens, "type": "market", "custom_feature_enabled": True}
            ).decode()
        )
        self.connected = True
        self.last_heard = time.monotonic()
        tasks = [
            asyncio.create_task(self._pinger(ws)),
            asyncio.create_task(self._watchdog(ws)),
            asyncio.create_task(self._resync_stragglers()),
        ]
        try:
            async for raw in ws:
                now = time.monotonic()
                self.last_heard = now
                self.last_heard_at = datetime.now(UTC)
                text = raw if isinstance(raw, str) else raw.decode()
                if self.on_message is not None:
                    self.on_message(text, now)
                if text == "PONG":
                    continue
                self._delivered = True
                self._handle(orjson.loads(text))
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _handle(self, message: Any) -> None:
        books = self.books
        books.counters.messages += 1
        if isinstance(message, list):
            for item in message:
                self._handle(item)
            return
        kind = message.get("event_type")
        if kind == "book":
            books.install(message)
        elif kind == "price_change":
            books.price_change(message)
        elif kind == "last_trade_price":
            books.last_trade(message)
        elif kind == "tick_size_change":
            books.tick_size(message)
        elif kind == "market_resolved":
            books.distrust(message.get("assets_ids") or [])

    async def _pinger(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.timing.ping_seconds)
            await ws.send("PING")

    async def _watchdog(self, ws: ClientConnection) -> None:
        step = min(0.25, self.timing.stale_seconds / 4)
        while True:
            expected = time.monotonic() + step
            await asyncio.sleep(step)
            late = time.monotonic() - expected
            if late > step:
                # Our own event loop was busy (a big evaluation, a resync): messages waited in
                # the socket, unread. Time we were not listening is not the venue's silence.
                self.last_heard += late
            if time.monotonic() - self.last_heard > self.timing.stale_seconds:
                logger.info(
                    "%s: nothing heard for %.1f s: stale", self.name, self.timing.stale_seconds
                )
                self.books.counters.stale += 1
                self.books.distrust(self.tokens)
                await ws.close(code=1000, reason="stale")
                return

    async def _resync_stragglers(self) -> None:
        await asyncio.sleep(self.timing.resync_after)
        missing = [t for t in self.tokens if not self.books.trusted(t)]
        if missing:
            self.books.distrust(missing, resync=True)
