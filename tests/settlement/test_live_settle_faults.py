"""Live settlement under faults: never settles twice, never books what did not happen.

Each test buys 10 YES + 10 NO of the binary market live, so settle merges 10 pairs (10 pUSD),
with one fault injected into the emulator on the action's submission:

- lost answer (``response_lost``: the submission ran, its answer was cut off) on the RPC's
  ``eth_sendRawTransaction`` (EOA) or the relayer's ``POST /submit`` (proxy, Safe, deposit): the
  action is resolved by lookup (receipt of the hash journalled before the send; the relayer nonce
  and the wallet's balances) and applied in the same run; one transaction on chain;
- a 502 before the submission ran: looked up, proven never executed (nonce unused), failed; the
  next run merges once;
- a revert: failed by its receipt / relayer state; the next run merges once;
- pending (held in the pool): left open, the next run finds it confirmed and applies it,
  without sending again.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import session_scope
from pm_lib.store.settlement_actions import APPLIED, FAILED, SUBMITTED, SUBMITTING, actions
from tests.execution.emulator import COND, NO, YES, control
from tests.settlement.live_helpers import (
    KINDS,
    SIGNATURE_TYPES,
    Wallet,
    buy_live,
    chain_units,
    ledger_of,
    open_wallet,
    settle_cli,
)

pytestmark = pytest.mark.timeout(120)
D = Decimal
PAIRS = 10_000_000


def _submit_fault(signature_type: int, kind: str, **extra: Any) -> dict[str, Any]:
    if signature_type == 0:
        return {
            "kind": kind,
            "method": "POST",
            "path": "/rpc",
            "rpc_method": "eth_sendRawTransaction",
            "count": 1,
        } | extra
    return {"kind": kind, "method": "POST", "path": "/relayer/submit", "count": 1} | extra


def _bought(running: RunningVenue, settings: Settings, engine: Engine, sig: int) -> Wallet:
    wallet = open_wallet(running, sig)
    buy_live(settings, engine, wallet, [(YES, COND, "10", "0.55"), (NO, COND, "10", "0.50")])
    return wallet


def _merges_on_chain(running: RunningVenue, wallet: Wallet) -> list[dict[str, Any]]:
    """The mined, successful transactions that touched the wallet's merge."""
    found = []
    for tx in control(running, "GET", "/chain/transactions"):
        senders = {c["from"].lower() for c in tx["calls"]} | {str(tx["from"]).lower()}
        if wallet.address.lower() in senders and tx["status"] == 1:
            found.append(tx)
    return found


def _settled_once(running: RunningVenue, engine: Engine, wallet: Wallet, pusd: int) -> None:
    assert chain_units(running, wallet.address) - pusd == PAIRS  # exactly once
    assert chain_units(running, wallet.address, YES) == 0
    assert chain_units(running, wallet.address, NO) == 0
    assert len(_merges_on_chain(running, wallet)) == 1
    ledger = ledger_of(engine)
    assert all(p.size == 0 for p in ledger.positions.values())
    with session_scope(engine, read_only=True) as session:
        assert [a.status for a in actions(session, "live")].count(APPLIED) == 1


@pytest.mark.parametrize("sig", SIGNATURE_TYPES, ids=KINDS.get)
def test_a_lost_answer_is_looked_up_and_never_sent_again(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    sig: int,
) -> None:
    wallet = _bought(running, live_settings, engine, sig)
    pusd = chain_units(running, wallet.address)
    control(running, "POST", "/faults", _submit_fault(sig, "response_lost"))

    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 0, body
    [merge] = body["applied"]
    assert merge["nonce"] is not None
    _settled_once(running, engine, wallet, pusd)
    code, again = settle_cli(monkeypatch, live_settings, wallet)
    assert (code, again["applied"], again["open"], again["failed"]) == (0, [], [], [])
    _settled_once(running, engine, wallet, pusd)


@pytest.mark.parametrize("sig", SIGNATURE_TYPES, ids=KINDS.get)
def test_a_submission_that_never_arrived_fails_and_the_next_run_settles_once(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    sig: int,
) -> None:
    wallet = _bought(running, live_settings, engine, sig)
    pusd = chain_units(running, wallet.address)
    control(running, "POST", "/faults", _submit_fault(sig, "error", status=502))

    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 1 and body["applied"] == []
    [failed] = body["failed"]
    assert "never" in failed["detail"]
    assert chain_units(running, wallet.address) == pusd
    code, body = settle_cli(monkeypatch, live_settings, wallet)
    assert code == 0 and len(body["applied"]) == 1, body
    _settled_once(running, engine, wallet, pusd)


@pytest.mark.parametrize("sig", SIGNATURE_TYPES, ids=KINDS.get)
def test_a_reverted_merge_fails_and_books_nothing(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    sig: int,
) -> None:
    wallet = _bought(running, live_settings, engine, sig)
    pusd = chain_units(running, wallet.address)
    control(running, "POST", "/chain/faults", {"kind": "revert", "count": 1})

    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 1 and body["applied"] == []
    [failed] = body["failed"]
    assert failed["status"] == FAILED
    assert chain_units(running, wallet.address) == pusd
    assert ledger_of(engine).positions[YES].size == 10  # nothing booked
    code, body = settle_cli(monkeypatch, live_settings, wallet)
    assert code == 0 and len(body["applied"]) == 1, body
    _settled_once(running, engine, wallet, pusd)


@pytest.mark.parametrize("sig", SIGNATURE_TYPES, ids=KINDS.get)
def test_a_pending_merge_stays_open_and_is_applied_once_it_is_mined(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    sig: int,
) -> None:
    wallet = _bought(running, live_settings, engine, sig)
    pusd = chain_units(running, wallet.address)
    control(running, "POST", "/chain/faults", {"kind": "pending", "count": 1})

    code, body = settle_cli(monkeypatch, live_settings, wallet, PM_SETTLE_CONFIRM_SECONDS="2")

    assert code == 0 and body["applied"] == [] and body["failed"] == []
    [still] = body["open"]
    assert still["status"] in (SUBMITTED, SUBMITTING)
    assert chain_units(running, wallet.address) == pusd
    code, body = settle_cli(monkeypatch, live_settings, wallet, PM_SETTLE_CONFIRM_SECONDS="2")
    assert code == 0 and body["applied"] == [] and len(body["open"]) == 1  # not sent again

    control(running, "POST", "/chain/mine", {"release": True})
    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 0 and len(body["applied"]) == 1, body
    _settled_once(running, engine, wallet, pusd)


def test_two_runs_planning_the_same_merge_store_and_send_it_once(
    running: RunningVenue, live_settings: Settings, engine: Engine
) -> None:
    from datetime import UTC, datetime

    from pm_lib.settlement.live import plan_actions, settle_live_sync
    from pm_lib.store.settlement_actions import journal_action
    from pm_lib.venue.chain import open_chain_client

    wallet = _bought(running, live_settings, engine, 0)
    pusd = chain_units(running, wallet.address)
    now = datetime.now(UTC)
    with open_chain_client(live_settings, wallet.credentials) as chain:
        [first], _ = plan_actions(engine, chain, now)
        [second], _ = plan_actions(engine, chain, now)  # planned before the first is stored
        with session_scope(engine) as session:
            assert journal_action(session, first) is not None
        with session_scope(engine) as session:
            assert journal_action(session, second) is None  # its key is taken: nothing stored
        # the first was stored but never sent (its run "died"): the next run fails it (no
        # signed request left) and merges under a new key, once
        result = settle_live_sync(engine, chain, lambda: datetime.now(UTC), poll_delay=0.1)
        with session_scope(engine) as session:
            assert journal_action(session, second) is None  # a stale plan never gets in

    assert [a.status for a in result.failed] == [FAILED]
    assert [a.status for a in result.applied] == [APPLIED]
    _settled_once(running, engine, wallet, pusd)


@pytest.mark.parametrize("sig", [1, 2, 3], ids=KINDS.get)
def test_a_lost_answer_to_a_pending_relayed_merge_is_found_and_applied_once(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    sig: int,
) -> None:
    """Found by the chaos rounds (deposit wallet, seed 21, round 42): a held transaction does
    not move a deposit wallet's nonce, so "nonce unused" wrongly meant "never arrived"; the
    merge then ran unbooked. The lookup now finds the submission in the relayer's list."""
    wallet = _bought(running, live_settings, engine, sig)
    pusd = chain_units(running, wallet.address)
    control(running, "POST", "/chain/faults", {"kind": "pending", "count": 1})
    control(running, "POST", "/faults", _submit_fault(sig, "response_lost"))

    code, body = settle_cli(monkeypatch, live_settings, wallet, PM_SETTLE_CONFIRM_SECONDS="2")

    assert code == 0 and body["failed"] == [], body
    [still] = body["open"]
    assert still["relayer_tx_id"]  # found in the relayer's list by its signature
    control(running, "POST", "/chain/mine", {"release": True})
    code, body = settle_cli(monkeypatch, live_settings, wallet)
    assert code == 0 and len(body["applied"]) == 1, body
    _settled_once(running, engine, wallet, pusd)


@pytest.mark.parametrize("sig", [1, 2, 3], ids=KINDS.get)
def test_a_lost_answer_to_a_relayed_merge_that_reverted_fails_it(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    sig: int,
) -> None:
    """Found by the chaos rounds (proxy, seed 21, round 23): taken by the relayer, answer lost,
    reverted: the wallet's balances never moved and the action stayed open for ever."""
    wallet = _bought(running, live_settings, engine, sig)
    pusd = chain_units(running, wallet.address)
    control(running, "POST", "/chain/faults", {"kind": "revert", "count": 1})
    control(running, "POST", "/faults", _submit_fault(sig, "response_lost"))

    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 1 and body["applied"] == [], body
    [failed] = body["failed"]
    assert "STATE_FAILED" in failed["detail"]
    code, body = settle_cli(monkeypatch, live_settings, wallet)
    assert code == 0 and len(body["applied"]) == 1, body
    _settled_once(running, engine, wallet, pusd)
