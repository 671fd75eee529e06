"""Live settlement: merge complete sets and redeem resolved positions on chain, journalled like
an order, booked in the one portfolio once.

The actions (``pm_lib.store.settlement_actions``), planned from the live ledger:

- **redeem**: every condition with a stored resolution (``market_resolution``) in which the
  wallet holds shares: all of them are redeemed at their payout (1 pUSD for the winner, 0 for
  the others; redeeming the losers clears them from the wallet).
- **merge**: every unresolved market in which the wallet holds both the YES and the NO: ``N``
  = the smaller of the two are merged into ``N`` pUSD at once (capital freed before the
  resolution). Neg-risk conversion is not used (``pm_lib.venue.chain``).

An action is planned only when the wallet's on-chain balances of its tokens equal the ledger's
(else it is reported as a reconcile difference and left alone: what the chain would burn is not
what the ledger would book), and when no earlier action of the same condition is still open.

Each action, in order, every change committed with its ``settlement_action_event``:

1. ``intended``: stored before anything is signed (with the balances seen on chain);
2. ``submitting``: the SDK signed it; its nonce (and an EOA's transaction hash) are stored by the
   send hook of ``pm_lib.venue.chain`` *before* the request leaves;
3. ``submitted``: the answer's transaction hash / relayer transaction id stored at once;
4. ``confirmed`` or ``failed``: by lookup only: an EOA's by the receipt of the hash, else the
   nonce (used by another transaction, pending in the pool, or unknown to the node); a relayer
   wallet's by the relayer's state of its transaction, found by id, else in the key owner's
   transaction list by the payload's signature (absent: it never arrived). An ambiguous answer
   (a timeout, a lost response, a 5xx) leaves the action ``submitting``/``submitted`` and is
   looked up, now and on every later run, never sent again. An action proven never to have
   executed (never sent, or its nonce still unused) is ``failed``; the next attempt is a new
   action, signed with that same nonce, so at most one of them can execute;
5. ``applied``: in one transaction with the status change, the ledger gets one synthetic SELL
   fill per token (fee 0, CONFIRMED, trade id ``chain-<action>-<token>``) at the payout for a
   redeem, and for a merge at prices summing to 1 pUSD a pair (the first token by id at its
   average price, the other at the rest). The position closes, the cash grows by exactly the
   proceeds, and the action's ``realised`` = proceeds - cost - fees (to the micro-unit; a
   merge takes its pro-rata share of the fees paid) is what the portfolio realises.

A re-run finds the journal: open actions are looked up first, an applied one is never planned
again (the ledger no longer holds its shares).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import Engine

from pm_lib.auth import Credentials
from pm_lib.models import ZERO, Fill, Side, TradeStatus
from pm_lib.portfolio.ledger import replay
from pm_lib.settings import Settings
from pm_lib.store.engine import session_scope
from pm_lib.store.rows import Mode
from pm_lib.store.settlement import market_resolutions
from pm_lib.store.settlement_actions import (
    APPLIED,
    CONFIRMED,
    FAILED,
    INTENDED,
    MERGE,
    OPEN_STATUSES,
    REDEEM,
    SUBMITTED,
    SUBMITTING,
    ChainAction,
    action,
    actions,
    journal_action,
    transition,
)
from pm_lib.store.trades import fills, upsert_fill
from pm_lib.venue.chain import (
    AMBIGUOUS,
    MICRO_UNITS,
    ChainClient,
    ChainOutcome,
    SendHandle,
    classify_error,
)

__all__ = [
    "ChainDifference",
    "LiveSettleResult",
    "action_fills",
    "chain_differences",
    "chain_reconcile",
    "plan_actions",
    "settle_live",
]

logger = logging.getLogger(__name__)

_MICRO = Decimal("0.000001")
_ONE = Decimal(1)
MODE: Mode = "live"


def _micro(value: Decimal) -> Decimal:
    return value.quantize(_MICRO, rounding=ROUND_HALF_EVEN)


def _units(shares: Decimal) -> int:
    return int((shares * MICRO_UNITS).to_integral_value(rounding=ROUND_DOWN))


@dataclass(frozen=True)
class ChainDifference:
    """A token whose on-chain balance differs from the ledger's position (micro-shares)."""

    token_id: str
    condition_id: str
    ledger: int
    chain: int


@dataclass
class LiveSettleResult:
    """One live settle pass: actions applied now, still open, failed now; differences."""

    applied: list[ChainAction] = field(default_factory=list)
    open: list[ChainAction] = field(default_factory=list)
    failed: list[ChainAction] = field(default_factory=list)
    differences: list[ChainDifference] = field(default_factory=list)
    pusd: int | None = None
    notes: list[str] = field(default_factory=list)


def _held(engine: Engine) -> dict[str, tuple[str, Decimal, Decimal, Decimal]]:
    """token -> (condition, size, avg_price, fees_paid) of the live ledger's open positions."""
    with session_scope(engine) as session:
        ledger = replay(fills(session, MODE))
    return {
        t: (p.condition_id, p.size, p.avg_price, p.fees_paid)
        for t, p in ledger.positions.items()
        if p.size != ZERO
    }


def chain_differences(
    engine: Engine, chain: ChainClient, tokens: dict[str, str] | None = None
) -> list[ChainDifference]:
    """The ledger's live positions against the wallet's ERC-1155 balances (one batch read).
    ``tokens`` (token -> condition) adds tokens the ledger no longer holds (expected 0)."""
    held = _held(engine)
    wanted = {t: c for t, (c, _, _, _) in held.items()} | (tokens or {})
    found = chain.position_balances(sorted(wanted))
    diffs = []
    for token, condition in sorted(wanted.items()):
        ledger = _units(held[token][1]) if token in held else 0
        if found.get(token, 0) != ledger:
            diffs.append(ChainDifference(token, condition, ledger, found.get(token, 0)))
    return diffs


def plan_actions(
    engine: Engine,
    chain: ChainClient,
    now: datetime,
    *,
    run_id: str | None = None,
    flow_run_id: str | None = None,
) -> tuple[list[ChainAction], list[str]]:
    """The merges and redeems the live ledger allows now, and notes on what was left alone.

    Each planned action's key is ``<kind>:<condition>:<n + 1>`` with ``n`` the actions of that
    kind and market journalled when the plan began, read *before* the ledger: a run that plans
    from a ledger another run is about to change collides with that run's key and stores
    nothing (``journal_action``), so two runs never send the same action."""
    with session_scope(engine) as session:
        journal = actions(session, MODE)
    seen = Counter((a.kind, a.condition_id) for a in journal)
    busy = {a.condition_id for a in journal if a.status in OPEN_STATUSES}
    held = _held(engine)
    by_condition: dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]] = defaultdict(dict)
    for token, (condition, size, avg, fees) in held.items():
        by_condition[condition][token] = (size, avg, fees)
    with session_scope(engine) as session:
        resolutions = market_resolutions(session, set(by_condition))
    notes: list[str] = []
    every_token = set(held) | {
        t for c in by_condition if c in resolutions for t in resolutions[c].payouts
    }
    balances = chain.position_balances(sorted(every_token))
    plan: list[ChainAction] = []
    for condition, tokens in sorted(by_condition.items()):
        if condition in busy:
            continue
        if any(size < ZERO for size, _, _ in tokens.values()):
            notes.append(f"market {condition}: a short position, not settled")
            continue
        resolution = resolutions.get(condition)
        market_tokens = set(tokens) | set(resolution.payouts if resolution else ())
        mismatch = [
            t
            for t in market_tokens
            if balances.get(t, 0) != (_units(tokens[t][0]) if t in tokens else 0)
        ]
        if resolution is None and len(tokens) < 2:
            continue  # nothing to merge, not resolved
        if mismatch:
            notes.append(
                f"market {condition}: on-chain balance differs from the ledger for "
                f"{', '.join(sorted(mismatch))}; not settled (see differences)"
            )
            continue
        common = {
            "mode": MODE,
            "condition_id": condition,
            "wallet": chain.wallet,
            "wallet_type": chain.wallet_type,
            "chain_before": {t: balances.get(t, 0) for t in market_tokens},
            "created_at": now,
            "updated_at": now,
            "run_id": run_id,
            "flow_run_id": flow_run_id,
        }
        if resolution is not None:
            missing = [t for t in tokens if t not in resolution.payouts]
            if missing:
                notes.append(f"market {condition}: no payout for {', '.join(missing)}")
                continue
            sizes = {t: s for t, (s, _, _) in tokens.items()}
            prices = {t: resolution.payouts[t] for t in tokens}
            proceeds = sum((_micro(sizes[t] * prices[t]) for t in tokens), ZERO)
            cost = sum((_micro(s * avg) for s, avg, _ in tokens.values()), ZERO)
            fees = sum((f for _, _, f in tokens.values()), ZERO)
            plan.append(
                ChainAction(
                    kind=REDEEM,
                    action_key=f"{REDEEM}:{condition}:{seen[(REDEEM, condition)] + 1}",
                    sizes=sizes,
                    prices=prices,
                    proceeds=proceeds,
                    cost=cost,
                    fees=fees,
                    realised=proceeds - cost - fees,
                    **common,
                )
            )
            continue
        (yes, (ys, ya, yf)), (no, (ns, na, nf)) = sorted(tokens.items())[:2]
        pairs = min(ys, ns)
        if len(tokens) != 2 or pairs <= ZERO:
            continue
        yes_price = min(max(_micro(ya), ZERO), _ONE)
        cost = _micro(pairs * ya) + _micro(pairs * na)
        fees = _micro(yf * pairs / ys) + _micro(nf * pairs / ns)
        plan.append(
            ChainAction(
                kind=MERGE,
                action_key=f"{MERGE}:{condition}:{seen[(MERGE, condition)] + 1}",
                sizes={yes: pairs, no: pairs},
                prices={yes: yes_price, no: _ONE - yes_price},
                proceeds=_micro(pairs),
                cost=cost,
                fees=fees,
                realised=_micro(pairs) - cost - fees,
                **common,
            )
        )
    return plan, notes


def action_fills(item: ChainAction, at: datetime) -> list[Fill]:
    """The ledger entries of an applied action: each token's shares sold at its price."""
    if item.id is None:
        raise ValueError("an action is booked only once journalled (it has no id)")
    return [
        Fill(
            trade_id=f"chain-{item.id}-{token}",
            order_id=f"{item.kind}-{item.id}",
            token_id=token,
            condition_id=item.condition_id,
            side=Side.SELL,
            size=size,
            price=item.prices[token],
            fee=ZERO,
            status=TradeStatus.CONFIRMED,
            is_taker=False,
            matched_at=at,
        )
        for token, size in sorted(item.sizes.items())
    ]


class _Journal:
    """The journal writes of one action (each its own committed transaction)."""

    def __init__(self, engine: Engine, action_id: int, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.action_id = action_id
        self.clock = clock

    def move(
        self, to: str, frm: tuple[str, ...], detail: str | None = None, **handle: str | None
    ) -> bool:
        with session_scope(self.engine) as session:
            return transition(
                session,
                self.action_id,
                to,
                self.clock(),
                from_statuses=frm,
                detail=detail,
                **handle,
            )

    def on_send(self, handle: SendHandle) -> None:
        # called by the send hook before the request leaves; a retried send (the SDK re-signs
        # after a relayer's "nonce too low") stores its newer nonce
        moved = self.move(
            SUBMITTING,
            (INTENDED, SUBMITTING),
            "signed, sending",
            nonce=handle.nonce,
            tx_hash=handle.tx_hash,
            signature=handle.signature,
        )
        if not moved:
            raise RuntimeError(f"settlement action {self.action_id} is no longer intended")

    def current(self) -> ChainAction:
        with session_scope(self.engine) as session:
            return action(session, self.action_id)


def look_up(chain: ChainClient, item: ChainAction) -> ChainOutcome:
    """Where an open action stands, from the chain and the relayer only (never a send)."""
    if item.status == INTENDED or item.nonce is None:
        return ChainOutcome("failed", None, "never sent (no signed request left the process)")
    nonce = int(item.nonce)
    if item.wallet_type == "EOA":
        if item.tx_hash:
            receipt = chain.receipt(item.tx_hash)
            if receipt.state != "pending":
                return receipt
        latest, pending = chain.eoa_nonces()
        if latest > nonce:
            return ChainOutcome(
                "failed", item.tx_hash, f"nonce {nonce} used by another transaction"
            )
        if pending > nonce:
            return ChainOutcome("pending", item.tx_hash, f"nonce {nonce} pending in the pool")
        return ChainOutcome(
            "failed", item.tx_hash, f"never reached the node (nonce {nonce} unused)"
        )
    if item.relayer_tx_id:
        return chain.relayer_transaction(item.relayer_tx_id)
    found = chain.relayer_find(item.signature, item.nonce)
    if found is not None:
        return found
    return ChainOutcome(
        "failed", None, f"the relayer has no such transaction (nonce {nonce}): it never arrived"
    )


def _apply(engine: Engine, item: ChainAction, at: datetime) -> ChainAction | None:
    assert item.id is not None
    with session_scope(engine) as session:
        if not transition(session, item.id, APPLIED, at, from_statuses=(CONFIRMED,)):
            return None
        for fill in action_fills(item, at):
            upsert_fill(
                session, fill, mode=MODE, run_id=item.run_id, flow_run_id=item.flow_run_id, at=at
            )
    logger.info(
        "settled %s %s on chain: proceeds %s, realised %s (tx %s)",
        item.kind,
        item.condition_id,
        item.proceeds,
        item.realised,
        item.tx_hash or item.relayer_tx_id,
    )
    return item.model_copy(update={"status": APPLIED})


def _resolve(
    engine: Engine,
    chain: ChainClient,
    journal: _Journal,
    *,
    polls: int,
    poll_delay: float,
) -> ChainAction:
    """Look the action up until it is confirmed or failed (or ``polls`` run out), journalling
    the verdict; a confirmed action is applied."""
    item = journal.current()
    for attempt in range(max(polls, 1)):
        if item.status not in (SUBMITTING, SUBMITTED, INTENDED):
            break
        try:
            verdict = look_up(chain, item)
        except Exception as error:  # a lookup that fails leaves the action as it was
            logger.warning("settlement action %s: lookup failed: %s", item.id, error)
            verdict = ChainOutcome("pending", None, f"lookup failed: {type(error).__name__}")
        # only from the status the lookup saw: a run that moved it meanwhile (its send hook
        # firing) wins, and this verdict is dropped
        found = {"tx_hash": verdict.tx_hash, "relayer_tx_id": verdict.relayer_tx_id}
        if verdict.state == "confirmed":
            journal.move(CONFIRMED, (item.status,), verdict.detail, **found)
        elif verdict.state == "failed":
            journal.move(FAILED, (item.status,), verdict.detail, **found)
        elif verdict.relayer_tx_id and not item.relayer_tx_id:  # found at the relayer
            journal.move(SUBMITTED, (item.status,), verdict.detail, **found)
        item = journal.current()
        if item.status in (SUBMITTING, SUBMITTED) and attempt + 1 < polls:
            time.sleep(poll_delay)
    if item.status == CONFIRMED:
        applied = _apply(engine, item, journal.clock())
        return applied or journal.current()
    return item


def _execute(
    engine: Engine,
    chain: ChainClient,
    item: ChainAction,
    clock: Callable[[], datetime],
    *,
    polls: int,
    poll_delay: float,
) -> ChainAction:
    assert item.id is not None
    journal = _Journal(engine, item.id, clock)
    try:
        if item.kind == MERGE:
            units = min(_units(s) for s in item.sizes.values())
            answer = chain.merge(item.condition_id, units, journal.on_send)
        else:
            answer = chain.redeem(item.condition_id, journal.on_send)
    except Exception as error:
        state = journal.current()
        kind = classify_error(error)
        detail = f"{type(error).__name__}: {error}"[:500]
        if state.status == INTENDED:
            journal.move(FAILED, (INTENDED,), f"not sent: {detail}")
            return journal.current()
        if kind != AMBIGUOUS and state.wallet_type == "EOA" and state.tx_hash is None:
            journal.move(FAILED, (SUBMITTING,), f"refused: {detail}")
            return journal.current()
        # ambiguous (or a refusal we cannot trust): resolved by lookup, never sent again
        journal.move(SUBMITTING, (SUBMITTING,), f"{kind} answer: {detail}")
    else:
        journal.move(
            SUBMITTED,
            (SUBMITTING,),
            "venue answered",
            tx_hash=answer.tx_hash,
            relayer_tx_id=answer.relayer_tx_id,
        )
    return _resolve(engine, chain, journal, polls=polls, poll_delay=poll_delay)


def settle_live_sync(
    engine: Engine,
    chain: ChainClient,
    clock: Callable[[], datetime],
    *,
    run_id: str | None = None,
    flow_run_id: str | None = None,
    polls: int = 30,
    poll_delay: float = 1.0,
) -> LiveSettleResult:
    """Look up the open actions, then plan and execute new ones; reconcile after."""
    result = LiveSettleResult()
    with session_scope(engine) as session:
        still_open = actions(session, MODE, OPEN_STATUSES)
    for item in still_open:
        assert item.id is not None
        done = _resolve(
            engine, chain, _Journal(engine, item.id, clock), polls=1, poll_delay=poll_delay
        )
        _sort(result, done)
    plan, notes = plan_actions(engine, chain, clock(), run_id=run_id, flow_run_id=flow_run_id)
    result.notes += notes
    for planned in plan:
        with session_scope(engine) as session:
            stored = journal_action(session, planned)  # committed before anything is signed
        if stored is None:
            result.notes.append(f"market {planned.condition_id}: another run journalled it first")
            continue
        _sort(result, _execute(engine, chain, stored, clock, polls=polls, poll_delay=poll_delay))
    touched = {t: a.condition_id for a in result.applied for t in a.sizes}
    result.differences = chain_differences(engine, chain, touched)
    result.pusd = chain.pusd_balance()
    return result


def _sort(result: LiveSettleResult, item: ChainAction) -> None:
    if item.status == APPLIED:
        result.applied.append(item)
    elif item.status == FAILED:
        result.failed.append(item)
    else:
        result.open.append(item)


async def settle_live(
    engine: Engine,
    chain: ChainClient,
    clock: Callable[[], datetime],
    **options: Any,
) -> LiveSettleResult:
    """``settle_live_sync`` (same options) off the event loop: the SDK's chain calls block."""
    return await asyncio.to_thread(settle_live_sync, engine, chain, clock, **options)


def chain_reconcile(
    engine: Engine, settings: Settings, credentials: Credentials
) -> tuple[int, list[ChainDifference]]:
    """The wallet's pUSD on chain (micro-units) and the tokens whose on-chain balance differs
    from the live ledger (``pm-agent reconcile --live``). A trade matched at the CLOB but not
    yet mined shows as a difference until it is."""
    from pm_lib.venue.chain import open_chain_client

    with open_chain_client(settings, credentials) as chain:
        return chain.pusd_balance(), chain_differences(engine, chain)
