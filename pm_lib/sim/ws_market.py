"""The emulator's market channel (``/ws/market``): book snapshots, then the changes as they happen.

Protocol (docs/VENUE.md 4.5, docs/EMULATOR.md "WebSocket channels"):

- the client's first message subscribes: ``{"assets_ids": [...], "type": "market",
  "custom_feature_enabled": true}``; later ``{"assets_ids": [...], "operation": "subscribe" |
  "unsubscribe"}``. A connection holds at most ``SimConfig.ws_max_assets`` assets (500 as on
  the venue); a subscription past the cap closes the connection (1008) naming the cap;
- on subscribe, one JSON array of ``book`` events, one per asset that has a book, with the keys
  of the recorded live event (``market, asset_id, timestamp, hash, bids, asks, event_type``);
  ``hash`` is the ``/book`` hash (which also covers the tick, minimum size, neg-risk flag and
  last trade price the event leaves out);
- then, as the venue's books change: ``last_trade_price``, ``tick_size_change`` and
  ``price_change`` (``price_changes[{asset_id, price, size, side, hash, best_bid, best_ask}]``,
  size "0" removes a level; ``hash`` is the asset's ``/book`` hash after the message, at the
  message's ``timestamp``); with ``custom_feature_enabled`` also ``best_bid_ask`` when a top
  moved, ``new_market`` and ``market_resolved``;
- text ``PING`` is answered ``PONG``; a connection that sends nothing for
  ``SimConfig.ws_idle_seconds`` (10 s) is closed.

How changes are found: one pump per venue, every ``SimConfig.ws_interval_seconds``, looks at the
ladders in memory (their ``version``), the background generation (an epoch move changes every
book) and the catalogue version (ticks, resolutions, new markets), re-reads the ``/book`` bodies
of the watched markets that changed (the same cached bodies ``/book`` serves) and sends the
differences. Faults (``pm_lib.sim.ws_faults``) act on the connections here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from pm_lib.sim.state import SimMarket
from pm_lib.sim.ws_faults import WsFaults, receive_frame

if TYPE_CHECKING:
    from pm_lib.sim.venue import SimVenue

__all__ = ["MarketConnection", "MarketFeed"]

logger = logging.getLogger(__name__)

_QUEUE_LIMIT = 20_000  # messages a slow reader may lag behind before it is disconnected
_CHUNK = 256
_BOOK_EVENT_KEYS = (
    "market",
    "asset_id",
    "timestamp",
    "hash",
    "bids",
    "asks",
)  # markets re-read per pump step before yielding the event loop


@dataclass
class _Sent:
    """The last state of one token the channel published (wire strings)."""

    market: str
    bids: dict[str, str]
    asks: dict[str, str]
    tick: str
    ltp: str
    best_bid: str
    best_ask: str


@dataclass(eq=False)
class MarketConnection:
    """One subscriber: its assets, outgoing queue and fault state."""

    ws: WebSocket
    assets: set[str] = field(default_factory=set)
    custom: bool = False
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    last_heard: float = field(default_factory=time.monotonic)
    stalled_until: float = 0.0
    gaps: int = 0  # price_change messages still to lose (a gap fault)

    def send(self, message: bytes) -> None:
        if self.queue.qsize() >= _QUEUE_LIMIT:
            self.queue.put_nowait(None)  # too slow: the sender closes the connection
            return
        self.queue.put_nowait(message)

    @property
    def stalled(self) -> bool:
        return time.monotonic() < self.stalled_until


def _levels(raw: list[dict[str, str]]) -> dict[str, str]:
    return {level["price"]: level["size"] for level in raw}


def _best(raw: list[dict[str, str]]) -> str:
    # /book lists the best price last (bids ascending, asks descending).
    return raw[-1]["price"] if raw else ""


def _sent_from(book: dict[str, Any]) -> _Sent:
    return _Sent(
        market=book["market"],
        bids=_levels(book["bids"]),
        asks=_levels(book["asks"]),
        tick=book["tick_size"],
        ltp=book["last_trade_price"],
        best_bid=_best(book["bids"]),
        best_ask=_best(book["asks"]),
    )


class MarketFeed:
    """The market channel of one venue: its connections and the pump that feeds them."""

    def __init__(self, venue: SimVenue, faults: WsFaults) -> None:
        self.venue = venue
        self.md = venue.market_data
        self.faults = faults
        self.connections: set[MarketConnection] = set()
        self.watch: dict[str, set[MarketConnection]] = {}  # condition id -> subscribers
        self.sent: dict[str, _Sent] = {}  # token -> last published state
        self.versions: dict[str, tuple[int, int]] = {}  # condition id -> (ladder id, version)
        self.generation: object = None
        self.catalogue_version = -1
        self.known_markets: set[str] = set(venue.state.markets)
        self.closed_markets: set[str] = {
            m.condition_id for m in venue.state.markets.values() if m.closed
        }
        self.messages_sent = 0
        self._pump: asyncio.Task[None] | None = None

    # --- connections --------------------------------------------------------------------------
    async def serve(self, ws: WebSocket) -> None:
        """Run one connection until it closes (module docstring)."""
        await ws.accept()
        conn = MarketConnection(ws)
        if self.faults.storm_active():
            await ws.close(code=1013, reason="try again later")
            return
        self.connections.add(conn)
        self._ensure_pump()
        sender = asyncio.create_task(self._sender(conn))
        try:
            await self._reader(conn)
        except WebSocketDisconnect:
            pass
        finally:
            self._drop(conn)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender
            with contextlib.suppress(Exception):
                await ws.close()

    def _drop(self, conn: MarketConnection) -> None:
        self.connections.discard(conn)
        for cond in list(self.watch):
            subs = self.watch[cond]
            subs.discard(conn)
            if not subs:
                del self.watch[cond]

    async def _reader(self, conn: MarketConnection) -> None:
        cfg = self.venue.config
        first = True
        while True:
            try:
                text = await asyncio.wait_for(receive_frame(conn.ws), timeout=cfg.ws_idle_seconds)
            except TimeoutError:
                await conn.ws.close(code=1000, reason="idle: no PING")
                return
            conn.last_heard = time.monotonic()
            if text == "PING":
                if not conn.stalled:
                    conn.send(b"PONG")
                continue
            try:
                msg = orjson.loads(text)
            except orjson.JSONDecodeError:
                await conn.ws.close(code=1003, reason="not JSON")
                return
            if not isinstance(msg, dict):
                await conn.ws.close(code=1003, reason="expected a JSON object")
                return
            assets = [str(a) for a in msg.get("assets_ids") or []]
            operation = str(msg.get("operation") or "subscribe").lower()
            if first:
                if str(msg.get("type", "")).lower() != "market":
                    await conn.ws.close(
                        code=1008, reason='first message must have "type": "market"'
                    )
                    return
                conn.custom = bool(msg.get("custom_feature_enabled"))
                first = False
            if operation == "unsubscribe":
                self._unsubscribe(conn, assets)
                continue
            wanted = set(assets) - conn.assets
            if len(conn.assets) + len(wanted) > cfg.ws_max_assets:
                await conn.ws.close(
                    code=1008, reason=f"too many assets: at most {cfg.ws_max_assets} a connection"
                )
                return
            self._subscribe(conn, [a for a in assets if a in wanted])

    async def _sender(self, conn: MarketConnection) -> None:
        while True:
            message = await conn.queue.get()
            if message is None:
                await conn.ws.close(code=1011, reason="connection dropped")
                return
            if conn.stalled:
                continue  # a silent stall: nothing arrives, nothing is kept
            await conn.ws.send_text(message.decode())
            self.messages_sent += 1

    def _subscribe(self, conn: MarketConnection, assets: list[str]) -> None:
        state = self.venue.state
        tokens: list[tuple[SimMarket, bool]] = []
        for asset in dict.fromkeys(assets):
            hit = state.market_for_token(asset)
            conn.assets.add(asset)
            if hit is None:
                continue
            market, is_yes = hit
            self.watch.setdefault(market.condition_id, set()).add(conn)
            if self.md.has_book(market):
                tokens.append((market, is_yes))
        if not tokens:
            return
        snapshot = []
        for body in self.md.book_bodies(tokens):
            book = orjson.loads(body)
            self.sent.setdefault(book["asset_id"], _sent_from(book))
            # The recorded live event carries these keys only (no tick, minimum size, neg-risk
            # flag or last trade price); its hash is the /book hash of the whole book.
            event = {key: book[key] for key in _BOOK_EVENT_KEYS}
            event["event_type"] = "book"
            snapshot.append(event)
        conn.send(orjson.dumps(snapshot))

    def _unsubscribe(self, conn: MarketConnection, assets: Iterable[str]) -> None:
        state = self.venue.state
        for asset in assets:
            conn.assets.discard(asset)
            hit = state.market_for_token(asset)
            if hit is None:
                continue
            market, _ = hit
            if not any(t in conn.assets for t in market.token_ids):
                subs = self.watch.get(market.condition_id)
                if subs is not None:
                    subs.discard(conn)
                    if not subs:
                        del self.watch[market.condition_id]

    # --- the pump -----------------------------------------------------------------------------
    def _ensure_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run_pump())

    async def _run_pump(self) -> None:
        interval = self.venue.config.ws_interval_seconds
        while self.connections:
            await asyncio.sleep(interval)
            try:
                await self.pump()
            except Exception:  # a bug here must not kill the channel silently
                logger.exception("market channel pump failed")

    async def pump(self) -> None:
        """Publish what changed since the last pump (module docstring)."""
        self.faults.tick(self)
        dirty = self._dirty()
        if self.venue.market_data.catalogue_version != self.catalogue_version:
            self.catalogue_version = self.venue.market_data.catalogue_version
            self._catalogue_events(dirty)
        if not dirty:
            return
        ordered = list(dirty)
        for start in range(0, len(ordered), _CHUNK):
            self._publish(ordered[start : start + _CHUNK])
            if start + _CHUNK < len(ordered):
                await asyncio.sleep(0)

    def _dirty(self) -> set[str]:
        state = self.venue.state
        books = self.md.books
        dirty: set[str] = set()
        generation = books.generation() if books is not None else None
        if generation != self.generation:
            self.generation = generation
            dirty.update(self.watch)
        with state.lock:
            for cond, ladder in list(dict.items(state.ladders)):
                if cond not in self.watch:
                    continue
                mark = (id(ladder), ladder.version)
                if self.versions.get(cond) != mark:
                    self.versions[cond] = mark
                    dirty.add(cond)
        return dirty

    def _catalogue_events(self, dirty: set[str]) -> None:
        state = self.venue.state
        now_ms = str(int(state.clock.now() * 1000))
        for cond, market in list(state.markets.items()):
            if cond not in self.known_markets:
                self.known_markets.add(cond)
                self._custom_broadcast(
                    {
                        "event_type": "new_market",
                        "market": cond,
                        "question": market.question,
                        "slug": market.slug,
                        "assets_ids": list(market.token_ids),
                        "outcomes": list(market.outcomes),
                        "timestamp": now_ms,
                    }
                )
            if market.closed and cond not in self.closed_markets:
                self.closed_markets.add(cond)
                self._custom_broadcast(
                    {
                        "event_type": "market_resolved",
                        "market": cond,
                        "assets_ids": list(market.token_ids),
                        "timestamp": now_ms,
                    },
                    only=self.watch.get(cond),
                )
            if cond in self.watch:
                dirty.add(cond)  # a tick change shows in the re-read book

    def _custom_broadcast(
        self, event: dict[str, Any], only: set[MarketConnection] | None = None
    ) -> None:
        message = orjson.dumps(event)
        for conn in list(only if only is not None else self.connections):
            if conn.custom:
                conn.send(message)

    def _publish(self, conds: list[str]) -> None:
        state = self.venue.state
        tokens: list[tuple[SimMarket, bool]] = []
        for cond in conds:
            market = state.markets.get(cond)
            if market is None or not self.md.has_book(market):
                continue
            tokens.append((market, True))
            tokens.append((market, False))
        if not tokens:
            return
        for body in self.md.book_bodies(tokens):
            book = orjson.loads(body)
            self._publish_token(book)

    def _publish_token(self, book: dict[str, Any]) -> None:
        token = book["asset_id"]
        cond = book["market"]
        subs = [c for c in self.watch.get(cond, ()) if token in c.assets]
        new = _sent_from(book)
        old = self.sent.get(token)
        self.sent[token] = new
        if old is None or not subs:
            return
        ts = book["timestamp"]
        if new.ltp != old.ltp:
            self._send(
                subs,
                {
                    "event_type": "last_trade_price",
                    "asset_id": token,
                    "market": cond,
                    "price": new.ltp,
                    "timestamp": ts,
                },
            )
        if new.tick != old.tick:
            self._send(
                subs,
                {
                    "event_type": "tick_size_change",
                    "asset_id": token,
                    "market": cond,
                    "old_tick_size": old.tick,
                    "new_tick_size": new.tick,
                    "timestamp": ts,
                },
            )
        changes = []
        for side, before, after in (("BUY", old.bids, new.bids), ("SELL", old.asks, new.asks)):
            for price in before.keys() | after.keys():
                size = after.get(price, "0")
                if before.get(price, "0") != size:
                    changes.append(
                        {
                            "asset_id": token,
                            "price": price,
                            "size": size,
                            "side": side,
                            "hash": book["hash"],
                            "best_bid": new.best_bid,
                            "best_ask": new.best_ask,
                        }
                    )
        if changes or new.ltp != old.ltp or new.tick != old.tick:
            # With no level changed (a trade price or tick moved) the list is empty and the
            # top-level hash still tells the client what its book must hash to now.
            message = {
                "event_type": "price_change",
                "market": cond,
                "price_changes": changes,
                "hash": book["hash"],
                "timestamp": ts,
            }
            self._send(subs, message, price_change=True)
        if (new.best_bid, new.best_ask) != (old.best_bid, old.best_ask):
            top = {
                "event_type": "best_bid_ask",
                "market": cond,
                "asset_id": token,
                "best_bid": new.best_bid,
                "best_ask": new.best_ask,
                "timestamp": ts,
            }
            self._send([c for c in subs if c.custom], top)

    def _send(
        self, subs: list[MarketConnection], event: dict[str, Any], *, price_change: bool = False
    ) -> None:
        message = orjson.dumps(event)
        for conn in subs:
            if price_change and conn.gaps > 0:
                conn.gaps -= 1  # a missed message: the client must notice by the next hash
                continue
            conn.send(message)
