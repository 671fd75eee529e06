"""Run the emulator on uvicorn: in a background thread (tests, demo, benchmarks) or standalone."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from pm_lib.sim.app import create_app
from pm_lib.sim.venue import SimVenue

__all__ = ["RunningVenue", "free_port", "running_venue"]


@dataclass(frozen=True)
class RunningVenue:
    """A started emulator: point ``PM_CLOB_URL``/``PM_GAMMA_URL`` (or the SDK's host) here."""

    venue: SimVenue
    host: str
    port: int

    @property
    def clob_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def gamma_url(self) -> str:
        return f"http://{self.host}:{self.port}/gamma"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_venue(
    venue: SimVenue | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[RunningVenue]:
    """Serve ``venue`` on ``host:port`` (a free port when 0) in a daemon thread until exit."""
    venue = venue or SimVenue()
    port = port or free_port(host)
    config = uvicorn.Config(
        create_app(venue), host=host, port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"pm-venue-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"emulator failed to start on {host}:{port}")
        time.sleep(0.01)
    try:
        yield RunningVenue(venue=venue, host=host, port=port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
