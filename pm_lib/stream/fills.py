"""The user channel: this account's order and trade events into the stored intents and fills.

``UserStream`` subscribes to ``/ws/user`` with the account's L2 credentials (docs/VENUE.md
4.5) and, as events arrive:

- ``trade`` (MATCHED, MINED, CONFIRMED, RETRYING, FAILED): our fills in the row
  (``pm_lib.venue.trading.trade_row_fills``, the one parser, fees included) stored through
  ``FillSync.store`` (the one writer: under the intent whose order filled, statuses only move
  forward), so a ghost fill's FAILED reverses it in positions and P&L as soon as it happens;
- ``order`` (PLACEMENT, UPDATE, CANCELLATION): the intent holding that venue order id moves to
  the reported status with its matched size, when the intent state machine allows it.

Reconcile stays the safety net: it re-reads the venue and reports what the stream missed (a
dropped connection loses events; the stream does not replay them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from pm_lib.auth import ApiCredentials
from pm_lib.errors import BadVenueData
from pm_lib.execution.live_fills import FillSync
from pm_lib.store import intent_by_order_id, session_scope
from pm_lib.store.orders import can_transition, update_intent
from pm_lib.venue.trading import TradingClient, trade_row_fills
from pm_lib.venue.wire_fields import to_decimal
from pm_lib.venue.wire_orders import normalise_order_status

__all__ = ["UserCounters", "UserStream"]

logger = logging.getLogger(__name__)


@dataclass
class UserCounters:
    trades: int = 0
    fills_stored: int = 0
    orders: int = 0
    intents_moved: int = 0
    refused: int = 0
    reconnects: int = 0


class UserStream:
    """This account's user channel, written into the store until cancelled."""

    def __init__(
        self,
        url: str,
        client: TradingClient,
        api: ApiCredentials,
        engine: Engine,
        *,
        run_id: str,
        flow_run_id: str | None = None,
        markets: Iterable[str] = (),
        ping_seconds: float = 5.0,
    ) -> None:
        self.url = url
        self.client = client
        self.api = api
        self.engine = engine
        self.markets = list(markets)
        self.ping_seconds = ping_seconds
        self.fills = FillSync(
            client, engine, run_id=run_id, flow_run_id=flow_run_id, clock=lambda: datetime.now(UTC)
        )
        self.counters = UserCounters()
        self.connected = asyncio.Event()
        self.on_change: Callable[[], None] | None = None  # e.g. the window's kept account

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                async with connect(self.url, ping_interval=None, open_timeout=10) as ws:
                    await self._session(ws)
                    failures = 0
            except (OSError, WebSocketException, TimeoutError) as e:
                logger.info("user channel lost (%s)", e)
            self.connected.clear()
            failures += 1
            self.counters.reconnects += 1
            await asyncio.sleep(min(5.0, 0.2 * 2 ** (failures - 1)) * (0.5 + random.random()))

    async def _session(self, ws: ClientConnection) -> None:
        await ws.send(
            orjson.dumps(
                {
                    "auth": {
                        "apiKey": self.api.api_key.get_secret_value(),
                        "secret": self.api.secret.get_secret_value(),
                        "passphrase": self.api.passphrase.get_secret_value(),
                    },
                    "markets": self.markets,
                    "type": "user",
                }
            ).decode()
        )
        self.connected.set()
        pinger = asyncio.create_task(self._pinger(ws))
        try:
            async for raw in ws:
                text = raw if isinstance(raw, str) else raw.decode()
                if text != "PONG":
                    self.handle(orjson.loads(text))
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    async def _pinger(self, ws: ClientConnection) -> None:
        while True:
            await asyncio.sleep(self.ping_seconds)
            await ws.send("PING")

    def handle(self, event: Any) -> None:
        """One user-channel event (or a list of them) into the store."""
        if isinstance(event, list):
            for item in event:
                self.handle(item)
            return
        if not isinstance(event, Mapping):
            return
        try:
            if event.get("event_type") == "trade":
                self._trade(event)
            elif event.get("event_type") == "order":
                self._order(event)
        except (BadVenueData, ValueError, KeyError) as e:
            self.counters.refused += 1
            logger.warning("user channel: %s event refused: %s", event.get("event_type"), e)

    def _trade(self, event: Mapping[str, Any]) -> None:
        self.counters.trades += 1
        found = trade_row_fills(
            event, self.client.owner, self.client.addresses, self.fills.fees_for
        )
        stored = self.fills.store(found)
        self.counters.fills_stored += stored
        if stored and self.on_change is not None:
            self.on_change()

    def _order(self, event: Mapping[str, Any]) -> None:
        self.counters.orders += 1
        status = normalise_order_status(event.get("status"))
        matched = to_decimal(event.get("size_matched", "0"))
        with session_scope(self.engine) as session:
            intent = intent_by_order_id(session, str(event.get("id", "")))
            if intent is None:
                return
            same = intent.status is status and intent.filled_size == matched
            if same or not can_transition(intent.status, status):
                return
            update_intent(session, intent.intent_key, status=status, filled_size=matched)
        self.counters.intents_moved += 1
        if self.on_change is not None:
            self.on_change()
