"""Choose the executor once: paper by default, live only when every safety catch is released.

Live needs all three of: ``PM_MODE=live`` in the settings, an explicit arming for this run
(``--live`` / ``live=True``), and credentials that load and validate. Each missing catch has its
own message, so an operator sees exactly which one held. Paper never needs credentials.
``run_credentials`` is the one check; flows call it when a run starts (``flows.runtime.open_run``)
so a misconfigured run refuses before it scans, and ``make_executor`` calls it again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from pm_lib.errors import ConfigurationError
from pm_lib.execution.base import BookSource, Executor
from pm_lib.models import OrderBook
from pm_lib.settings import Settings

if TYPE_CHECKING:  # the signing stack (eth_account) loads only when live credentials do
    from pm_lib.auth import Credentials
    from pm_lib.venue.trading import TradingClient

__all__ = [
    "ARMED_IN_PAPER_MODE",
    "LIVE_NOT_ARMED",
    "NO_CREDENTIALS",
    "ExecutorWindow",
    "make_executor",
    "run_credentials",
]

ARMED_IN_PAPER_MODE = (
    "live trading was armed for this run but PM_MODE is 'paper': set PM_MODE=live to trade "
    "live, or run without --live (live=False)"
)
LIVE_NOT_ARMED = (
    "PM_MODE=live but this run is not armed: pass --live (live=True) to trade live, or set "
    "PM_MODE=paper; nothing was sent"
)
NO_CREDENTIALS = "live trading needs credentials, and they did not load"


def run_credentials(
    settings: Settings,
    *,
    live_armed: bool,
    credentials: Credentials | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials | None:
    """``None`` for a paper run, the credentials of an armed live run, or ``ConfigurationError``
    naming the catch that held (mode and arming disagree, credentials missing or malformed)."""
    if settings.mode == "paper" and not live_armed:
        return None
    if settings.mode != "live":
        raise ConfigurationError(ARMED_IN_PAPER_MODE)
    if not live_armed:
        raise ConfigurationError(LIVE_NOT_ARMED)
    if credentials is not None:
        return credentials
    from pm_lib.auth import load_credentials

    try:
        return load_credentials(environ)
    except ConfigurationError as e:
        # The inner message names the variable and the rule only (see pm_lib.auth).
        raise ConfigurationError(f"{NO_CREDENTIALS}: {e}") from None


class ExecutorWindow:
    """What the executors of one stream window's runs share: live, one SDK client (its HTTP
    connection pool, its cached tick sizes, neg-risk flags and venue version), connected on
    first use instead of once per run; paper executors have nothing to share.

    Each live executor made with the window holds the client until it closes; ``close`` (the
    window's end, or its cancellation) closes the client once the last executor using it has
    closed, and no executor is made after it.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        live_armed: bool,
        credentials: Credentials | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self._keys = run_credentials(
            settings, live_armed=live_armed, credentials=credentials, environ=environ
        )
        self._lock = threading.Lock()
        self._client: TradingClient | None = None
        self._users = 0
        self.closed = False
        self.connects = 0

    def acquire(self) -> TradingClient | None:
        """The shared client (connected on first use) for one more executor; None in paper."""
        if self._keys is None:
            return None
        with self._lock:
            if self.closed:
                raise ConfigurationError("the stream window is closed: no new orders")
            if self._client is None:
                from pm_lib.venue.trading import TradingClient

                self._client = TradingClient.connect(self.settings, self._keys)
                self.connects += 1
            self._users += 1
            return self._client

    def release(self) -> None:
        """One executor done with the client (closes it if the window closed meanwhile)."""
        with self._lock:
            self._users = max(0, self._users - 1)
            self._close_if_idle()

    def close(self) -> None:
        """End the window: the client closes now, or when its last executor closes. Idempotent."""
        with self._lock:
            self.closed = True
            self._close_if_idle()

    @property
    def keys(self) -> Credentials | None:
        """The window's credentials (None: paper)."""
        return self._keys

    @property
    def client_open(self) -> bool:
        return self._client is not None

    def _close_if_idle(self) -> None:
        if self.closed and self._users == 0 and self._client is not None:
            client, self._client = self._client, None
            client.close()


def make_executor(
    settings: Settings,
    *,
    live_armed: bool,
    engine: Engine,
    run_id: str = "",
    flow_run_id: str | None = None,
    books: Mapping[str, OrderBook] | None = None,
    book_source: BookSource | None = None,
    credentials: Credentials | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
    window: ExecutorWindow | None = None,
) -> Executor:
    """The executor for this run: ``PaperExecutor`` unless live is configured, armed and keyed.

    ``books`` are the books the run already fetched (paper simulates against them; live ignores
    them); ``book_source`` fetches books paper was not given. ``run_id`` scopes intent keys;
    ``flow_run_id`` (the Prefect flow run) is stored with every intent and fill it writes.
    ``window``: a live executor shares the window's client instead of connecting its own.
    """
    if window is not None:  # validated once for the window
        keys = window.keys
    else:
        keys = run_credentials(
            settings, live_armed=live_armed, credentials=credentials, environ=environ
        )
    if keys is None:
        from pm_lib.execution.paper import PaperExecutor

        return PaperExecutor(
            settings,
            engine,
            books=books,
            book_source=book_source,
            run_id=run_id,
            flow_run_id=flow_run_id,
            clock=clock,
        )
    from pm_lib.execution.live import LiveExecutor

    shared = window.acquire() if window is not None else None
    if shared is not None:
        assert window is not None
        return LiveExecutor(
            settings,
            engine,
            shared,
            run_id=run_id,
            flow_run_id=flow_run_id,
            clock=clock,
            release_client=window.release,
        )
    return LiveExecutor.connect(
        settings, engine, keys, run_id=run_id, flow_run_id=flow_run_id, clock=clock
    )
