"""The emulator's user channel (``/ws/user``): this account's orders and trades as they change.

The first message authenticates and subscribes: ``{"auth": {"apiKey", "secret",
"passphrase"}, "markets": [condition ids], "type": "user"}`` (an empty ``markets`` list: every
market). Wrong credentials close the connection (1008). Then, from the exchange's own records
(the same ones ``/data/orders`` and ``/data/trades`` serve), brought up to the venue clock at
each pump:

- ``order`` events (the OpenOrder shape plus ``event_type`` and ``type``): ``PLACEMENT`` when an
  order of the account first appears, ``UPDATE`` when its matched size grows, ``CANCELLATION``
  when it is cancelled;
- ``trade`` events (the ``/data/trades`` row plus ``event_type`` and ``type: "TRADE"``) at each
  status: MATCHED, MINED, CONFIRMED, RETRYING, FAILED (a ghost fill ends FAILED).

``PING`` -> ``PONG`` and the idle rule are the market channel's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from pm_lib.sim.lifecycle import ORDER_CANCELED
from pm_lib.sim.ws_faults import WsFaults, receive_frame

if TYPE_CHECKING:
    from pm_lib.sim.venue import SimVenue

__all__ = ["UserFeed"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class _UserConnection:
    ws: WebSocket
    user: str
    markets: set[str]
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    orders: dict[str, tuple[str, Decimal]] = field(default_factory=dict)
    trades: dict[str, str] = field(default_factory=dict)

    def wants(self, market: str) -> bool:
        return not self.markets or market in self.markets


class UserFeed:
    """The user channel of one venue."""

    def __init__(self, venue: SimVenue, faults: WsFaults) -> None:
        self.venue = venue
        self.faults = faults
        self.connections: set[_UserConnection] = set()
        self._pump: asyncio.Task[None] | None = None

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        cfg = self.venue.config
        try:
            text = await asyncio.wait_for(receive_frame(ws), timeout=cfg.ws_idle_seconds)
            msg = orjson.loads(text)
        except (TimeoutError, orjson.JSONDecodeError, WebSocketDisconnect):
            with contextlib.suppress(Exception):
                await ws.close(code=1008, reason="expected a user subscription")
            return
        user = self._authenticate(msg)
        if user is None:
            await ws.close(code=1008, reason="invalid api credentials")
            return
        conn = _UserConnection(ws, user, {str(m) for m in msg.get("markets") or []})
        self._prime(conn)
        self.connections.add(conn)
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run_pump())
        sender = asyncio.create_task(self._sender(conn))
        try:
            while True:
                try:
                    text = await asyncio.wait_for(receive_frame(ws), cfg.ws_idle_seconds)
                except TimeoutError:
                    await ws.close(code=1000, reason="idle: no PING")
                    return
                if text == "PING":
                    conn.queue.put_nowait(b"PONG")
        except WebSocketDisconnect:
            pass
        finally:
            self.connections.discard(conn)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sender

    def _authenticate(self, msg: Any) -> str | None:
        if not isinstance(msg, dict) or str(msg.get("type", "")).lower() != "user":
            return None
        auth = msg.get("auth")
        if not isinstance(auth, dict):
            return None
        with self.venue.state.lock:
            key = self.venue.exchange.accounts.keys.get(str(auth.get("apiKey", "")))
        if key is None or (auth.get("secret"), auth.get("passphrase")) != (
            key.secret,
            key.passphrase,
        ):
            return None
        return key.address.lower()

    def _prime(self, conn: _UserConnection) -> None:
        """What exists at subscribe time is not news: only later changes are sent."""
        exchange = self.venue.exchange
        with self.venue.state.lock:
            exchange.advance()
            for order in exchange.orders.values():
                if order.user == conn.user:
                    conn.orders[order.order_id] = (order.status, order.size_matched)
            for trade in exchange.trades.values():
                if trade.involves(conn.user):
                    conn.trades[trade.trade_id] = trade.status

    async def _sender(self, conn: _UserConnection) -> None:
        while True:
            message = await conn.queue.get()
            if message is None:
                await conn.ws.close(code=1011, reason="connection dropped")
                return
            await conn.ws.send_text(message.decode())

    async def _run_pump(self) -> None:
        while self.connections:
            await asyncio.sleep(self.venue.config.ws_interval_seconds)
            try:
                self.pump()
            except Exception:
                logger.exception("user channel pump failed")

    def pump(self) -> None:
        """Send each connection the order and trade changes of its account."""
        exchange = self.venue.exchange
        now_ms = str(int(time.time() * 1000))
        with self.venue.state.lock:
            exchange.advance()
            orders = list(exchange.orders.values())
            trades = list(exchange.trades.values())
        for conn in list(self.connections):
            for order in orders:
                if order.user != conn.user or not conn.wants(order.market):
                    continue
                seen = conn.orders.get(order.order_id)
                now = (order.status, order.size_matched)
                if seen == now:
                    continue
                conn.orders[order.order_id] = now
                if seen is None:
                    kind = "PLACEMENT"
                elif order.status == ORDER_CANCELED and seen[0] != ORDER_CANCELED:
                    kind = "CANCELLATION"
                else:
                    kind = "UPDATE"
                event = {**order.as_json(), "event_type": "order", "type": kind}
                event["timestamp"] = now_ms
                conn.queue.put_nowait(orjson.dumps(event))
            for trade in trades:
                if not trade.involves(conn.user) or not conn.wants(trade.market):
                    continue
                if conn.trades.get(trade.trade_id) == trade.status:
                    continue
                conn.trades[trade.trade_id] = trade.status
                event = {**trade.as_json(conn.user), "event_type": "trade", "type": "TRADE"}
                event["timestamp"] = now_ms
                conn.queue.put_nowait(orjson.dumps(event))
