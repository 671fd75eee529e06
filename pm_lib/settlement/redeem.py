"""The settle step: every position in a resolved market redeemed at its payout, once.

Per held token of a resolved market (``market_resolution``) a ``Settlement`` is planned:
``size`` shares at ``payout`` (1 pUSD for the winner, 0 for the others) bring ``proceeds``;
``cost`` is the shares at their average price, ``fees`` what the token's fills paid, and
``realised`` = ``proceeds - cost - fees`` (exact, to the micro-pUSD).

Paper: each planned settlement is journalled ``pending`` (committed before anything is
applied), then applied once: in one transaction the row turns ``applied`` and the ledger gets a
synthetic SELL fill of the shares at the payout price, fee 0, CONFIRMED (trade id
``settlement-<id>``, order id ``redeem-<token>``). The fill is how the ledger turns the position
into cash: every reader of ``pm_lib.portfolio.ledger.replay`` (paper cash, positions, the
executors' own position checks, P&L per day) sees the position closed at the payout, and
``realised_pnl`` (gross, per the ledger's rule) grows by ``(payout - avg_price) x size``. A re-run
finds the (mode, token) journalled and applied: nothing settles twice.

Live: the same resolutions, then ``pm_lib.settlement.live``: merges and redeems on chain through
the SDK (``pm_lib.venue.chain``), journalled like orders, booked in the ledger the same way (a
synthetic SELL fill per token) once the chain shows them done; the wallet's on-chain balances are
reconciled with the ledger after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pm_lib.auth import Credentials
from pm_lib.errors import BadVenueData
from pm_lib.models import ZERO, Fill, MarketResolution, Side, SkippedItem, TradeStatus
from pm_lib.portfolio.ledger import replay
from pm_lib.settings import Settings
from pm_lib.settlement.live import ChainDifference, settle_live
from pm_lib.settlement.resolutions import refresh_resolutions
from pm_lib.store.engine import session_scope
from pm_lib.store.rows import Mode
from pm_lib.store.settlement import (
    PENDING,
    Settlement,
    journal_settlement,
    mark_settlement_applied,
    market_resolutions,
    settlements,
)
from pm_lib.store.settlement_actions import ChainAction
from pm_lib.store.trades import fills, upsert_fill
from pm_lib.venue.chain import ChainClient, open_chain_client
from pm_lib.venue.http import open_venue_client

__all__ = ["SettleReport", "plan_settlements", "settle", "settlement_fill"]

logger = logging.getLogger(__name__)

_MICRO = Decimal("0.000001")


def _micro(value: Decimal) -> Decimal:
    return value.quantize(_MICRO, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class SettleReport:
    """One settle run: resolutions newly read, settlements applied now (paper) or chain actions
    applied, still open and failed (live), the wallet's differences from the ledger (live)."""

    mode: Mode
    resolved: tuple[MarketResolution, ...] = ()
    settled: tuple[Settlement, ...] = ()
    applied: tuple[ChainAction, ...] = ()
    open: tuple[ChainAction, ...] = ()
    failed: tuple[ChainAction, ...] = ()
    differences: tuple[ChainDifference, ...] = ()
    pusd: Decimal | None = None  # live: the wallet's pUSD on chain after the run
    skipped: tuple[SkippedItem, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def proceeds(self) -> Decimal:
        return sum((s.proceeds for s in self.settled), ZERO) + sum(
            (a.proceeds for a in self.applied), ZERO
        )

    @property
    def realised(self) -> Decimal:
        return sum((s.realised for s in self.settled), ZERO) + sum(
            (a.realised for a in self.applied), ZERO
        )


def plan_settlements(
    session: Session,
    mode: Mode,
    now: datetime,
    *,
    run_id: str | None = None,
    flow_run_id: str | None = None,
) -> tuple[list[Settlement], list[str]]:
    """The redemptions the stored resolutions allow for ``mode``'s open positions, and notes
    on positions that cannot be settled (a short position, a token the resolution does not
    pay). Raises ``BadVenueData`` when a resolution lacks a payout for a held token."""
    ledger = replay(fills(session, mode))
    held = {t: p for t, p in ledger.positions.items() if p.size != ZERO}
    resolutions = market_resolutions(session, {p.condition_id for p in held.values()})
    plan: list[Settlement] = []
    notes: list[str] = []
    for token, position in sorted(held.items()):
        resolution = resolutions.get(position.condition_id)
        if resolution is None:
            continue
        if token not in resolution.payouts:
            raise BadVenueData(
                "resolution", position.condition_id, f"no payout for held token {token}"
            )
        if position.size < ZERO:
            notes.append(f"token {token}: short {-position.size} shares, not settled")
            continue
        payout = resolution.payouts[token]
        proceeds = _micro(position.size * payout)
        cost = _micro(position.size * position.avg_price)
        plan.append(
            Settlement(
                mode=mode,
                token_id=token,
                condition_id=position.condition_id,
                size=position.size,
                payout=payout,
                proceeds=proceeds,
                cost=cost,
                fees=position.fees_paid,
                realised=proceeds - cost - position.fees_paid,
                created_at=now,
                run_id=run_id,
                flow_run_id=flow_run_id,
            )
        )
    return plan, notes


def settlement_fill(settlement: Settlement, at: datetime) -> Fill:
    """The ledger entry of an applied settlement: the shares sold at the payout, no fee."""
    if settlement.id is None:
        raise ValueError("a settlement is applied only once journalled (it has no id)")
    return Fill(
        trade_id=f"settlement-{settlement.id}",
        order_id=f"redeem-{settlement.token_id}",
        token_id=settlement.token_id,
        condition_id=settlement.condition_id,
        side=Side.SELL,
        size=settlement.size,
        price=settlement.payout,
        fee=ZERO,
        status=TradeStatus.CONFIRMED,
        is_taker=False,
        matched_at=at,
    )


def _apply_pending(engine: Engine, mode: Mode, now: datetime) -> list[Settlement]:
    with session_scope(engine) as session:
        pending = settlements(session, mode, PENDING)
    applied = []
    for row in pending:
        assert row.id is not None
        with session_scope(engine) as session:
            if not mark_settlement_applied(session, row.id, now):
                continue  # another run applied it meanwhile
            upsert_fill(
                session,
                settlement_fill(row, now),
                mode=mode,
                run_id=row.run_id,
                flow_run_id=row.flow_run_id,
                at=now,
            )
        applied.append(row.model_copy(update={"status": "applied", "applied_at": now}))
        logger.info(
            "settled %s %s shares of %s at %s: realised %s",
            mode,
            row.size,
            row.token_id,
            row.payout,
            row.realised,
        )
    return applied


async def settle(
    engine: Engine,
    settings: Settings,
    mode: Mode,
    now: datetime,
    *,
    client: httpx.AsyncClient | None = None,
    credentials: Credentials | None = None,
    chain: ChainClient | None = None,
    run_id: str | None = None,
    flow_run_id: str | None = None,
) -> SettleReport:
    """Read how the held markets resolved, then settle: paper at the payouts, live on chain
    (``chain``, else a client opened for ``credentials``; the caller checked the arming)."""
    own = client is None
    http = client or open_venue_client(settings)
    try:
        resolved, skipped = await refresh_resolutions(http, engine, settings, mode, now)
    finally:
        if own:
            await http.aclose()
    if mode != "paper":
        return await _settle_on_chain(
            engine,
            settings,
            resolved,
            skipped,
            credentials=credentials,
            chain=chain,
            run_id=run_id,
            flow_run_id=flow_run_id,
        )
    with session_scope(engine) as session:
        plan, notes = plan_settlements(session, mode, now, run_id=run_id, flow_run_id=flow_run_id)
    with session_scope(engine) as session:
        for item in plan:
            journal_settlement(session, item)  # stored before it is applied
    applied = _apply_pending(engine, mode, now)
    return SettleReport(
        mode=mode,
        resolved=tuple(resolved),
        settled=tuple(applied),
        skipped=tuple(skipped),
        notes=tuple(notes),
    )


async def _settle_on_chain(
    engine: Engine,
    settings: Settings,
    resolved: list[MarketResolution],
    skipped: list[SkippedItem],
    *,
    credentials: Credentials | None,
    chain: ChainClient | None,
    run_id: str | None,
    flow_run_id: str | None,
) -> SettleReport:
    import asyncio
    from datetime import UTC

    if chain is None and credentials is None:
        raise ValueError("a live settle needs the wallet's credentials or a chain client")
    own = chain is None
    if chain is None:
        assert credentials is not None
        chain = await asyncio.to_thread(open_chain_client, settings, credentials)
    try:
        result = await settle_live(
            engine,
            chain,
            lambda: datetime.now(UTC),
            run_id=run_id,
            flow_run_id=flow_run_id,
            polls=settings.settle_confirm_seconds,
            poll_delay=1.0,
        )
    finally:
        if own:
            await asyncio.to_thread(chain.close)
    return SettleReport(
        mode="live",
        resolved=tuple(resolved),
        applied=tuple(result.applied),
        open=tuple(result.open),
        failed=tuple(result.failed),
        differences=tuple(result.differences),
        pusd=Decimal(result.pusd) / 1_000_000 if result.pusd is not None else None,
        skipped=tuple(skipped),
        notes=tuple(result.notes),
    )
