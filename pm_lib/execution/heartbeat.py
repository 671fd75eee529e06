"""Heartbeats that keep resting live orders alive.

Once a wallet has sent one heartbeat, the venue cancels *all* its open orders if no heartbeat
arrives within 10 s (5 s buffer) (docs/VENUE.md 2.4). So this is also a dead man's switch: when
the process stops (and with it the heartbeats), its resting orders are cancelled shortly after;
reconcile later records them as CANCELED. Heartbeats start when the live executor first leaves
an order resting and stop when it is closed.

One beat never holds up the chain: its request has its own short timeout
(``PM_HEARTBEAT_TIMEOUT_SECONDS``, set on the adapter's HTTP client), beats keep a fixed
cadence measured from when each one was due (not from when the previous one ended), and after a
failed beat the next one goes ``RETRY_AFTER_FAILURE`` seconds later rather than a full interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pm_lib.errors import VenueError

__all__ = ["RETRY_AFTER_FAILURE", "Heartbeat"]

RETRY_AFTER_FAILURE = 1.0
"""Seconds between a failed heartbeat and the next attempt (at most the interval)."""

log = logging.getLogger(__name__)


class Heartbeat:
    """Sends ``send(previous_id) -> next_id`` every ``interval`` seconds in a daemon thread."""

    def __init__(self, send: Callable[[str], str], interval: float) -> None:
        self._send = send
        self._interval = interval
        self._retry_after = min(interval, RETRY_AFTER_FAILURE)
        self._id = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.beats = 0
        self.failures = 0

    @property
    def running(self) -> bool:
        """True while the heartbeat thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def beat(self) -> bool:
        """Send one heartbeat now; whether it went through (failures are counted and logged,
        never raised)."""
        with self._lock:
            try:
                self._id = self._send(self._id)
                self.beats += 1
                return True
            except VenueError as e:
                self.failures += 1
                log.warning("heartbeat failed (%s): %s", type(e).__name__, e)
                return False

    def start(self) -> None:
        """Beat now and then every ``interval`` seconds until ``stop`` (idempotent)."""
        if self.running:
            return
        self._stop.clear()
        self.beat()
        self._thread = threading.Thread(target=self._run, name="pm-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        due = time.monotonic() + self._interval
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            ok = self.beat()
            now = time.monotonic()
            due = max(due + self._interval, now) if ok else now + self._retry_after

    def stop(self) -> None:
        """Stop beating (the venue cancels resting orders about 10 s later)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval + 1)
            self._thread = None
