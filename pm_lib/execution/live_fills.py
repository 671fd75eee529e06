"""Our trades at the venue, as stored fills: fees applied, owners found, statuses advanced.

The venue's trade rows carry no fee, so taker fees come from the market's schedule: the one the
request carried, else the stored catalogue, else ``/clob-markets`` (cached per market). A fill
is stored under the intent whose order it filled, or under none (adopted by reconcile).
Statuses only move forward (``pm_lib.store.trades``), so re-reading a trade is harmless.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import Engine

from pm_lib.models import FeeSchedule, Fill, TradeStatus
from pm_lib.store import (
    fills,
    fills_for_intent,
    intent_by_order_id,
    session_scope,
    stored_market,
    upsert_fill,
)
from pm_lib.venue.trading import TradingClient

__all__ = ["PROVISIONAL", "FillSync"]

PROVISIONAL = frozenset({TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.RETRYING})


class FillSync:
    """Reads one wallet's trades from the venue and stores them as live fills."""

    def __init__(
        self,
        client: TradingClient,
        engine: Engine,
        *,
        run_id: str,
        flow_run_id: str | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._client = client
        self._engine = engine
        self._run_id = run_id
        self._flow_run_id = flow_run_id
        self._clock = clock
        self._fees: dict[str, FeeSchedule] = {}

    def remember_fees(self, condition_id: str, fees: FeeSchedule) -> None:
        """Use ``fees`` for the market's fills (what the order request carried)."""
        self._fees.setdefault(condition_id, fees)

    def fees_for(self, condition_id: str) -> FeeSchedule:
        """The market's taker-fee schedule: from requests, the catalogue, or the venue."""
        if condition_id not in self._fees:
            with session_scope(self._engine) as session:
                market = stored_market(session, condition_id)
            if market is not None:
                self._fees[condition_id] = market.fees
            else:
                self._fees[condition_id] = self._client.market_info(condition_id).fees
        return self._fees[condition_id]

    def fetch(self, trade_ids: Iterable[str]) -> list[Fill]:
        """Our fills in the given trades (one request per trade id)."""
        found: list[Fill] = []
        for trade_id in dict.fromkeys(trade_ids):
            found.extend(self._client.trades(trade_id=trade_id, fees_for=self.fees_for))
        return found

    def after(self, since: datetime | None) -> list[Fill]:
        """Our fills in every trade after ``since`` (all when None)."""
        return self._client.trades(after=since, fees_for=self.fees_for)

    def store(self, found: Iterable[Fill]) -> int:
        """Store fills under their intents (or none: adopted); how many rows changed."""
        changed = 0
        with session_scope(self._engine) as session:
            for fill in found:
                owner = intent_by_order_id(session, fill.order_id)
                changed += upsert_fill(
                    session,
                    fill,
                    mode="live",
                    intent_key=owner.intent_key if owner is not None else None,
                    run_id=self._run_id,
                    flow_run_id=self._flow_run_id,
                    at=self._clock(),
                )
        return changed

    def of_intent(self, intent_key: str) -> list[Fill]:
        """The stored fills of one intent."""
        with session_scope(self._engine) as session:
            return fills_for_intent(session, intent_key)

    def sync(self, since: datetime | None) -> list[Fill]:
        """Store our trades after ``since`` and re-read the stored provisional ones."""
        found = self.after(since)
        with session_scope(self._engine) as session:
            provisional = {f.trade_id for f in fills(session, "live") if f.status in PROVISIONAL}
        found.extend(self.fetch(provisional - {f.trade_id for f in found}))
        self.store(found)
        return found
