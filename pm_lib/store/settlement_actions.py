"""The journal of live merges and redeems (``pm_lib.settlement.live`` owns the logic).

``settlement_action``: one row per on-chain action (a merge of complete sets, or a redeem of a
resolved market's positions), keyed ``<kind>:<condition>:<n>`` so two runs planning the same
action at once store one row and the other finds it. Its life, each step an
``settlement_action_event`` row written in the same transaction as the change:

``intended``    stored (and committed) before anything is signed
``submitting``  signed; its nonce (an EOA: and the transaction hash; a relayer wallet: and the
                payload's signature) stored before the bytes leave the process; the answer is
                not known yet
``submitted``   the venue answered: the transaction hash or relayer transaction id is stored
``confirmed``   the chain (receipt, relayer state, or the wallet's balances) shows it done
``applied``     booked in the ledger (synthetic fills), in the same transaction as the change
``failed``      reverted, refused, or proven never to have executed (its nonce unused)

An action leaves ``submitting``/``submitted`` only by a lookup, never by sending again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from pm_lib.store.dialect import conflict_insert
from pm_lib.store.rows import Mode
from pm_lib.store.tables import SettlementActionEventRecord, SettlementActionRecord

__all__ = [
    "APPLIED",
    "CONFIRMED",
    "FAILED",
    "INTENDED",
    "MERGE",
    "OPEN_STATUSES",
    "REDEEM",
    "SUBMITTED",
    "SUBMITTING",
    "ChainAction",
    "action",
    "action_events",
    "actions",
    "journal_action",
    "transition",
]

MERGE = "merge"
REDEEM = "redeem"
INTENDED = "intended"
SUBMITTING = "submitting"
SUBMITTED = "submitted"
CONFIRMED = "confirmed"
APPLIED = "applied"
FAILED = "failed"
OPEN_STATUSES = (INTENDED, SUBMITTING, SUBMITTED, CONFIRMED)

_ACTION = SettlementActionRecord.__table__  # type: ignore[attr-defined]
_EVENT = SettlementActionEventRecord.__table__  # type: ignore[attr-defined]


class ChainAction(BaseModel):
    """A merge or redeem: ``sizes`` shares of each token leave the wallet at ``prices`` pUSD a
    share (the payout; for a merge the pair sums to 1), bringing ``proceeds`` and realising
    ``proceeds - cost - fees`` on the position it closes."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    action_key: str = ""
    mode: str
    kind: str
    condition_id: str
    wallet: str
    wallet_type: str
    sizes: dict[str, Decimal]
    prices: dict[str, Decimal]
    chain_before: dict[str, int] = {}  # the wallet's on-chain balances (micro) when planned
    proceeds: Decimal
    cost: Decimal
    fees: Decimal
    realised: Decimal
    status: str = INTENDED
    nonce: str | None = None
    tx_hash: str | None = None
    relayer_tx_id: str | None = None
    signature: str | None = None
    detail: str | None = None
    created_at: datetime
    updated_at: datetime
    run_id: str | None = None
    flow_run_id: str | None = None


def _model(row: Any) -> ChainAction:
    data = dict(row._mapping)
    data["sizes"] = {t: Decimal(v) for t, v in data["sizes"].items()}
    data["prices"] = {t: Decimal(v) for t, v in data["prices"].items()}
    data["chain_before"] = {t: int(v) for t, v in data["chain_before"].items()}
    return ChainAction.model_validate(data)


def _event(session: Session, action_id: int, status: str, detail: str | None, at: datetime) -> None:
    session.execute(insert(_EVENT).values(action_id=action_id, status=status, detail=detail, at=at))


def journal_action(session: Session, action: ChainAction) -> ChainAction | None:
    """Store ``action`` as ``intended`` under its key (the planner's; else the next one of its
    kind and market); ``None`` when another run stored that key first."""
    key = action.action_key
    if not key:
        count = session.execute(
            select(func.count())
            .select_from(_ACTION)
            .where(_ACTION.c.kind == action.kind, _ACTION.c.condition_id == action.condition_id)
        ).scalar_one()
        key = f"{action.kind}:{action.condition_id}:{int(count) + 1}"
    values = action.model_dump(exclude={"id"}) | {
        "action_key": key,
        "status": INTENDED,
        "sizes": {t: str(v) for t, v in action.sizes.items()},
        "prices": {t: str(v) for t, v in action.prices.items()},
        "chain_before": {t: str(v) for t, v in action.chain_before.items()},
    }
    inserted = session.execute(
        conflict_insert(session, _ACTION)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["action_key"])
        .returning(_ACTION.c.id)
    ).one_or_none()
    if inserted is None:
        return None
    _event(session, inserted[0], INTENDED, None, action.created_at)
    return action.model_copy(update={"id": inserted[0], "action_key": key, "status": INTENDED})


def transition(
    session: Session,
    action_id: int,
    to: str,
    at: datetime,
    *,
    from_statuses: Iterable[str],
    detail: str | None = None,
    **handle: str | None,
) -> bool:
    """Move the action to ``to`` (storing any of ``nonce``/``tx_hash``/``relayer_tx_id``/
    ``signature`` given)
    if it is in one of ``from_statuses``; the change and its event in one transaction. False
    when it was elsewhere (another run moved it)."""
    allowed = set(handle) - {"nonce", "tx_hash", "relayer_tx_id", "signature"}
    if allowed:
        raise ValueError(f"unknown handle fields {sorted(allowed)}")
    values: dict[str, Any] = {"status": to, "updated_at": at}
    values |= {k: v for k, v in handle.items() if v is not None}
    if detail is not None:
        values["detail"] = detail
    done = session.execute(
        update(_ACTION)
        .where(_ACTION.c.id == action_id, _ACTION.c.status.in_(list(from_statuses)))
        .values(**values)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        return False
    note = ", ".join(f"{k}={v}" for k, v in handle.items() if v is not None and k != "signature")
    _event(session, action_id, to, "; ".join(x for x in (note, detail) if x) or None, at)
    return True


def actions(
    session: Session,
    mode: Mode,
    statuses: Iterable[str] | None = None,
    condition_id: str | None = None,
) -> list[ChainAction]:
    """The journalled actions of ``mode``, oldest first (of ``statuses``/``condition_id``)."""
    query = select(_ACTION).where(_ACTION.c.mode == mode).order_by(_ACTION.c.id)
    if statuses is not None:
        query = query.where(_ACTION.c.status.in_(list(statuses)))
    if condition_id is not None:
        query = query.where(_ACTION.c.condition_id == condition_id)
    return [_model(row) for row in session.execute(query)]


def action(session: Session, action_id: int) -> ChainAction:
    """One journalled action by id."""
    return _model(session.execute(select(_ACTION).where(_ACTION.c.id == action_id)).one())


def action_events(session: Session, action_id: int) -> list[tuple[str, str | None, datetime]]:
    """Every state change of the action: (status, detail, at), in order."""
    rows = session.execute(
        select(_EVENT.c.status, _EVENT.c.detail, _EVENT.c.at)
        .where(_EVENT.c.action_id == action_id)
        .order_by(_EVENT.c.id)
    )
    return [(r.status, r.detail, r.at) for r in rows]
