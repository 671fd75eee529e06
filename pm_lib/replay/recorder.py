"""Recording the venue into the recording format (docs/RECORDING.md).

Until pm-agent streams the market channel, a recording is made of ``POST /books`` snapshots:

- at start, the open order-book markets' Gamma rows (``/markets/keyset``, ``closed=false``) go to
  ``markets.json`` as Gamma sent them;
- every ``interval`` seconds every token's book is read through ``POST /books`` (chunks of
  ``PM_BOOKS_BATCH_SIZE``, inside the /books rate budget) and each book whose ``hash`` changed
  since the last snapshot is written as a ``book`` message: the venue's book object plus
  ``event_type: "book"``, ``timestamp`` = when the snapshot was received (ms; all books of one
  snapshot share it, so a replay evaluates them together, as one scan does) and the venue's own
  ``timestamp`` kept as ``book_timestamp``;
- message files rotate every ``rotate_messages`` lines (``market/000001.jsonl``, ... or
  ``.jsonl.gz`` with ``gzip``); each file is complete and in time order when it is closed.

Works against the emulator and the real venue (the same clients and budgets as the scan).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import orjson

from pm_lib.errors import BadVenueData
from pm_lib.replay.recording import MARKETS_FILE, MESSAGES_DIR
from pm_lib.settings import Settings
from pm_lib.venue.books import MAX_BOOKS_PER_REQUEST
from pm_lib.venue.gamma import gamma_reader, keyset_pages
from pm_lib.venue.http import RetryPolicy, VenueReader, open_venue_client
from pm_lib.venue.ratelimit import RateLimiter
from pm_lib.venue.wire_gamma import is_open_order_book_market, parse_gamma_market

__all__ = ["RecordSummary", "RecordingWriter", "record"]

logger = logging.getLogger(__name__)


class RecordingWriter:
    """Appends messages to rotating files of a recording directory."""

    def __init__(
        self, directory: Path, *, rotate_messages: int = 100_000, gzip_files: bool = False
    ):
        self.folder = directory / MESSAGES_DIR
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rotate_messages = rotate_messages
        self.gzip_files = gzip_files
        self.files: list[Path] = []
        self.written = 0
        self._handle: IO[bytes] | None = None
        self._in_file = 0

    def _next_file(self) -> IO[bytes]:
        self.close()
        suffix = ".jsonl.gz" if self.gzip_files else ".jsonl"
        path = self.folder / f"{len(self.files) + 1:06d}{suffix}"
        self.files.append(path)
        self._in_file = 0
        if self.gzip_files:
            return cast(IO[bytes], gzip.open(path, "wb"))
        return path.open("wb")

    def write(self, message: dict[str, Any]) -> None:
        if self._handle is None or self._in_file >= self.rotate_messages:
            self._handle = self._next_file()
        self._handle.write(orjson.dumps(message) + b"\n")
        self._in_file += 1
        self.written += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@dataclass
class RecordSummary:
    directory: Path
    markets: int = 0
    tokens: int = 0
    snapshots: int = 0
    messages: int = 0
    files: list[Path] = field(default_factory=list)


async def _market_rows(reader: VenueReader, settings: Settings) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    filters = {"limit": str(settings.gamma_page_size), "closed": "false"}
    async for page in keyset_pages(
        reader, f"{settings.gamma_url}/markets/keyset", "markets", filters
    ):
        for raw in page:
            if not isinstance(raw, dict) or not is_open_order_book_market(raw):
                continue
            try:
                parse_gamma_market(raw)  # what the replay cannot read is not recorded
            except BadVenueData as e:
                logger.info("not recording market %s: %s", e.ident, e.reason)
                continue
            rows.append(raw)
    return rows


def _tokens(rows: list[dict[str, Any]]) -> list[str]:
    tokens: list[str] = []
    for row in rows:
        ids = row.get("clobTokenIds")
        tokens.extend(json.loads(ids) if isinstance(ids, str) else ids or [])
    return list(dict.fromkeys(str(t) for t in tokens))


async def record(
    settings: Settings,
    directory: Path,
    *,
    duration_s: float | None = None,
    snapshots: int | None = None,
    interval_s: float = 1.0,
    rotate_messages: int = 100_000,
    gzip_files: bool = False,
    clock: Callable[[], float] = time.time,
) -> RecordSummary:
    """Record the venue of ``settings`` into ``directory`` for ``duration_s`` seconds or
    ``snapshots`` snapshots (whichever ends first; one of them is needed)."""
    if duration_s is None and snapshots is None:
        raise ValueError("record needs a duration or a number of snapshots")
    directory.mkdir(parents=True, exist_ok=True)
    summary = RecordSummary(directory)
    writer = RecordingWriter(directory, rotate_messages=rotate_messages, gzip_files=gzip_files)
    started = clock()
    hashes: dict[str, str] = {}
    try:
        async with open_venue_client(settings) as client:
            rows = await _market_rows(gamma_reader(client, settings), settings)
            (directory / MARKETS_FILE).write_bytes(orjson.dumps(rows))
            tokens = _tokens(rows)
            summary.markets, summary.tokens = len(rows), len(tokens)
            books = VenueReader(
                client,
                RateLimiter.for_budget(
                    settings.books_rate_limit_per_10s, settings.rate_budget_fraction
                ),
                RetryPolicy.from_settings(settings),
            )
            size = min(settings.books_batch_size, MAX_BOOKS_PER_REQUEST)
            while True:
                began = clock()
                await _snapshot(books, settings, tokens, size, writer, hashes, clock)
                summary.snapshots += 1
                if snapshots is not None and summary.snapshots >= snapshots:
                    break
                if duration_s is not None and clock() - started >= duration_s:
                    break
                await asyncio.sleep(max(0.0, interval_s - (clock() - began)))
    finally:
        writer.close()
    summary.messages, summary.files = writer.written, writer.files
    return summary


async def _snapshot(
    reader: VenueReader,
    settings: Settings,
    tokens: list[str],
    size: int,
    writer: RecordingWriter,
    hashes: dict[str, str],
    clock: Callable[[], float],
) -> None:
    chunks = [tokens[i : i + size] for i in range(0, len(tokens), size)]
    gate = asyncio.Semaphore(max(1, settings.http_concurrency))

    async def read(chunk: list[str]) -> Any:
        async with gate:
            return await reader.post_json(
                f"{settings.clob_url}/books", [{"token_id": t} for t in chunk]
            )

    answers = await asyncio.gather(*(read(c) for c in chunks))
    stamp = int(clock() * 1000)
    for answer in answers:
        for raw in answer if isinstance(answer, list) else []:
            if not isinstance(raw, dict) or "asset_id" not in raw:
                continue
            token = str(raw["asset_id"])
            digest = str(raw.get("hash", "")) or orjson.dumps(raw).decode()
            if hashes.get(token) == digest:
                continue
            hashes[token] = digest
            message = dict(raw)
            message["book_timestamp"] = raw.get("timestamp")
            message["event_type"] = "book"
            message["timestamp"] = str(stamp)
            message["recv_ms"] = stamp
            writer.write(message)
