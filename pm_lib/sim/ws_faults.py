"""WebSocket faults, set from ``/_sim/ws-faults`` like the REST faults (docs/EMULATOR.md).

Kinds, as a client sees them:

- ``drop``: every open market connection (or ``count`` of them) is closed at the next pump
  (code 1011), as when the venue restarts a socket server;
- ``stall``: the connections stay open but deliver nothing, PONG included, for ``seconds``
  (what they would have sent is lost): a silent stall the client must notice by its own clock;
- ``gap``: the next ``count`` ``price_change`` messages of each connection are lost: the book
  the client holds no longer hashes to what the venue says next;
- ``storm``: for ``seconds`` every new connection is closed at once (1013), and the open ones
  are dropped: a reconnect storm the client must ride out with backoff.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

if TYPE_CHECKING:
    from pm_lib.sim.ws_market import MarketFeed

__all__ = ["WS_FAULT_KINDS", "WsFault", "WsFaults", "receive_frame"]

WS_FAULT_KINDS = ("drop", "stall", "gap", "storm")


@dataclass
class WsFault:
    kind: str
    count: int | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in WS_FAULT_KINDS:
            raise ValueError(f"unknown ws fault kind {self.kind!r}; one of {WS_FAULT_KINDS}")
        if self.kind in ("stall", "storm") and self.seconds <= 0:
            raise ValueError(f"a {self.kind} fault needs seconds > 0")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1")


class WsFaults:
    """Faults waiting for the next pump, and the storm window."""

    def __init__(self) -> None:
        self.pending: list[WsFault] = []
        self.storm_until = 0.0
        self.applied: list[dict[str, Any]] = []

    def add(self, fault: WsFault) -> None:
        self.pending.append(fault)
        if fault.kind == "storm":
            self.storm_until = time.monotonic() + fault.seconds

    def clear(self) -> None:
        self.pending.clear()
        self.storm_until = 0.0

    def storm_active(self) -> bool:
        return time.monotonic() < self.storm_until

    def tick(self, feed: MarketFeed) -> None:
        """Apply pending faults to the feed's connections (called by its pump)."""
        if not self.pending:
            return
        faults, self.pending = self.pending, []
        now = time.monotonic()
        for fault in faults:
            conns = sorted(feed.connections, key=id)
            if fault.count is not None and fault.kind != "gap":
                conns = conns[: fault.count]
            for conn in conns:
                if fault.kind in ("drop", "storm"):
                    conn.queue.put_nowait(None)  # the sender closes it
                elif fault.kind == "stall":
                    conn.stalled_until = now + fault.seconds
                else:
                    conn.gaps += fault.count or 1
            self.applied.append({**asdict(fault), "connections": len(conns)})


async def receive_frame(ws: WebSocket) -> str:
    """The next client frame as text (the venue takes text and binary frames alike)."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("text") is not None:
        return str(message["text"])
    return bytes(message.get("bytes") or b"").decode("utf-8", errors="replace")
