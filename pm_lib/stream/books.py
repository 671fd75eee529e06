"""Every streamed book, which of them changed since the trader last looked, and trust.

A book is traded only while it is trusted: built from a verified snapshot (a ``book`` event or
``POST /books``) and every change since applied with a matching hash, on a connection that is up
and not stale. Anything else (a hash mismatch, a price_change for a book we do not hold, a
dropped or silent connection) takes the book out of trading until a resync restores it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pm_lib.errors import BadVenueData
from pm_lib.models import OrderBook
from pm_lib.stream.local_book import LocalBook

__all__ = ["StreamBooks", "StreamCounters"]

logger = logging.getLogger(__name__)


@dataclass
class StreamCounters:
    """What the stream did, for progress artifacts and tests."""

    snapshots: int = 0
    unverifiable: int = 0  # snapshots without the fields their hash covers: resynced
    changes: int = 0
    gaps: int = 0
    resyncs: int = 0
    resynced_books: int = 0
    reconnects: int = 0
    stale: int = 0
    refused: int = 0
    messages: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class StreamBooks:
    """The books of the streamed tokens, keyed by token id."""

    books: dict[str, LocalBook] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    needs_resync: set[str] = field(default_factory=set)
    missed: dict[str, int] = field(default_factory=dict)  # changes seen while untrusted
    counters: StreamCounters = field(default_factory=StreamCounters)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    # --- writers (the shards and the resync) --------------------------------------------------
    def install(self, raw: Mapping[str, Any], *, source: str = "snapshot") -> None:
        """A verified snapshot replaces the token's book; a bad one leaves it untrusted.

        The market channel's ``book`` event leaves out fields its hash covers (tick, minimum
        size, neg-risk flag, last trade price, docs/VENUE.md 4.5): they are taken from the book
        already held (a reconnect), else the token waits for its ``POST /books`` resync.
        """
        token = str(raw.get("asset_id", ""))
        if "min_order_size" not in raw:
            prior = self.books.get(token)
            if prior is None:
                self.counters.unverifiable += 1
                self.distrust([token], resync=True)
                return
            raw = {
                **raw,
                "min_order_size": prior.min_order_size,
                "tick_size": prior.tick_size,
                "neg_risk": prior.neg_risk,
                "last_trade_price": prior.last_trade_price,
            }
        try:
            book = LocalBook(raw)
        except (BadVenueData, KeyError, TypeError, ValueError) as e:
            self.counters.refused += 1
            logger.warning("stream: %s of %s refused: %s", source, token, e)
            self.distrust([token], resync=True)
            return
        self.put(book)
        self.counters.snapshots += 1

    def put(self, book: LocalBook) -> None:
        self.books[book.token_id] = book
        self.needs_resync.discard(book.token_id)
        self._changed(book.token_id)

    def price_change(self, message: Mapping[str, Any]) -> None:
        """Apply one ``price_change`` message, then check each touched book's hash."""
        timestamp = str(message.get("timestamp", ""))
        expected: dict[str, str] = {}
        tops: dict[str, tuple[str, str]] = {}
        entries = message.get("price_changes") or []
        for entry in entries:
            token = str(entry.get("asset_id", ""))
            book = self.books.get(token)
            if book is None or not book.trusted:
                self.missed[token] = self.missed.get(token, 0) + 1
                continue  # untrusted books wait for their resync
            book.apply(str(entry["price"]), str(entry["size"]), str(entry["side"]))
            expected[token] = str(entry.get("hash", ""))
            tops[token] = (str(entry.get("best_bid", "")), str(entry.get("best_ask", "")))
        for token, top in tops.items():
            if top != self.books[token].best():
                expected[token] = "!best"  # the venue's top disagrees: fails the check below
        top_hash = message.get("hash")
        if not entries and message.get("asset_id") and top_hash:
            expected[str(message["asset_id"])] = str(top_hash)
        for token, hash_value in expected.items():
            book = self.books[token]
            if book.trusted and hash_value != "!best" and book.verify(hash_value, timestamp):
                book.hash, book.timestamp = hash_value, timestamp
                self.counters.changes += 1
                self._changed(token)
            else:
                self.counters.gaps += 1
                logger.info("stream: %s no longer matches the venue's hash: resync", token)
                self.distrust([token], resync=True)

    def last_trade(self, message: Mapping[str, Any]) -> None:
        book = self.books.get(str(message.get("asset_id", "")))
        if book is not None and message.get("price") is not None:
            book.last_trade_price = str(message["price"])

    def tick_size(self, message: Mapping[str, Any]) -> None:
        book = self.books.get(str(message.get("asset_id", "")))
        if book is not None and message.get("new_tick_size") is not None:
            book.tick_size = str(message["new_tick_size"])
            self._changed(book.token_id)

    def distrust(self, tokens: Iterable[str], *, resync: bool = False) -> None:
        """Take books out of trading (until a snapshot or resync restores them)."""
        for token in tokens:
            book = self.books.get(token)
            if book is not None:
                book.trusted = False
            if resync:
                self.needs_resync.add(token)
        self.wake.set()

    def _changed(self, token: str) -> None:
        self.changed.add(token)
        self.wake.set()

    # --- readers (the trader) -----------------------------------------------------------------
    def drain_changed(self) -> set[str]:
        """The tokens whose book changed since the last drain (and forget them)."""
        changed, self.changed = self.changed, set()
        self.wake.clear()
        return changed

    def trusted(self, token: str) -> bool:
        book = self.books.get(token)
        return book is not None and book.trusted

    def order_books(self, tokens: Iterable[str]) -> tuple[dict[str, OrderBook], list[str]]:
        """The trusted books of ``tokens`` as ``OrderBook``s, and the tokens left out."""
        out: dict[str, OrderBook] = {}
        left_out: list[str] = []
        for token in tokens:
            book = self.books.get(token)
            if book is None or not book.trusted:
                left_out.append(token)
                continue
            try:
                out[token] = book.order_book()
            except BadVenueData as e:
                logger.warning("stream: book %s does not parse: %s", token, e)
                self.distrust([token], resync=True)
                left_out.append(token)
        return out, left_out
