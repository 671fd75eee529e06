"""Each TradingClient owns its HTTP connection; the SDK's one private seam is checked here.

The SDK sends every request through one module-level client; pm-agent installs one routing
client there once, and each request goes out on the connection of the adapter that made it.
"""

from __future__ import annotations

import asyncio
import threading

import httpx
from py_clob_client_v2.http_helpers import helpers as sdk_http

from pm_lib.auth import Credentials
from pm_lib.settings import Settings
from pm_lib.venue.trading import (
    HEARTBEAT_PATHS,
    SdkHttp,
    TradingClient,
    install_sdk_router,
    venue_version,
)


class Recording(httpx.BaseTransport):
    """A real transport to the emulator that notes each request's path and read timeout, and
    can hold ``/balance-allowance`` requests at a barrier (to keep two clients' in flight)."""

    def __init__(self, gate: threading.Barrier | None = None) -> None:
        self._inner = httpx.HTTPTransport()
        self._gate = gate
        self.seen: list[tuple[str, float | None]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append((request.url.path, request.extensions["timeout"]["read"]))
        if self._gate is not None and request.url.path == "/balance-allowance":
            self._gate.wait(timeout=10)
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def test_the_sdk_sends_through_the_one_client_pm_agent_installs() -> None:
    """Fails loudly if an SDK upgrade moves ``http_helpers.helpers._http_client``."""
    installed = install_sdk_router()
    assert install_sdk_router() is installed, "installed once"
    assert sdk_http._http_client is installed
    seen: list[str] = []

    def venue(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"version": 2})

    assert venue_version("http://venue.invalid", SdkHttp(2.0, httpx.MockTransport(venue))) == 2
    assert seen == ["/version"]


def test_the_connection_follows_an_sdk_call_into_a_worker_thread() -> None:
    seen: list[str] = []

    def venue(request: httpx.Request) -> httpx.Response:
        seen.append(threading.current_thread().name)
        return httpx.Response(200, json={"version": 2})

    http = SdkHttp(2.0, httpx.MockTransport(venue))

    async def off_loop() -> object:
        with http.active():
            return await asyncio.to_thread(sdk_http.get, "http://venue.invalid/version")

    assert asyncio.run(off_loop()) == {"version": 2}
    assert len(seen) == 1 and seen[0] != threading.current_thread().name


def test_two_clients_in_one_process_keep_their_own_timeouts_and_transports(
    live_settings: Settings, credentials: Credentials
) -> None:
    gate = threading.Barrier(2)  # both balance reads in flight at the same time
    first, second = Recording(gate), Recording(gate)
    fast = live_settings.model_copy(
        update={"http_timeout_seconds": 3.0, "heartbeat_timeout_seconds": 1.0}
    )
    slow = live_settings.model_copy(
        update={"http_timeout_seconds": 7.0, "heartbeat_timeout_seconds": 2.0}
    )
    a = TradingClient.connect(fast, credentials, transport=first)
    b = TradingClient.connect(slow, credentials, transport=second)
    balances: list[object] = []
    threads = [threading.Thread(target=lambda c=c: balances.append(c.collateral())) for c in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    a.heartbeat("")
    b.heartbeat("")

    assert len(balances) == 2, "both reads went through while the other was in flight"
    assert ("/balance-allowance", 3.0) in first.seen and ("/balance-allowance", 7.0) in second.seen
    assert {t for p, t in first.seen if p in HEARTBEAT_PATHS} == {1.0}
    assert {t for p, t in second.seen if p in HEARTBEAT_PATHS} == {2.0}
    assert {t for p, t in first.seen if p not in HEARTBEAT_PATHS} == {3.0}
    assert {t for p, t in second.seen if p not in HEARTBEAT_PATHS} == {7.0}
    for seen in (first.seen, second.seen):  # no request went out on the other's connection
        assert [p for p, _ in seen].count("/balance-allowance") == 1
