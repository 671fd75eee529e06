"""Live settlement on the emulator, end to end, through the real SDK over HTTP and a real DB.

Per signature type (0 EOA: on-chain transactions through the emulator's JSON-RPC; 1 proxy,
2 Safe and 3 deposit wallet: gasless through its relayer with a relayer API key):

- a neg-risk basket (one YES of each of the three outcomes, 10 shares at asks 0.30, 0.31, 0.32)
  is bought LIVE through pm-agent's live executor; the event resolves (outcome 1 "Yes");
  ``pm-agent settle --live --json`` redeems the three markets: the wallet's pUSD on chain grows
  by exactly the payout (10), the positions are gone on chain and in the DB, and the realised
  P&L equals payout - cost - fees to the micro-unit (10 - 9.30 - 0.2566 = 0.4434);
- 10 YES (ask 0.55) and 10 NO (ask 0.50) of the binary market are bought live; settle merges
  the 10 complete pairs: the wallet gains exactly 10 pUSD, both positions are gone;
- a second settle does nothing (the journal finds every action applied).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine

from pm_lib.settings import Settings
from pm_lib.sim.server import RunningVenue
from pm_lib.store import session_scope
from pm_lib.store.settlement_actions import APPLIED, action_events, actions
from tests.execution.emulator import COND, NEG_RISK, NO, YES, control
from tests.settlement.live_helpers import (
    BASKET_COST,
    BASKET_FEES,
    BASKET_PAYOUT,
    KINDS,
    MICRO,
    SIGNATURE_TYPES,
    buy_live,
    chain_units,
    ledger_of,
    open_wallet,
    settle_cli,
)

D = Decimal
pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("signature_type", SIGNATURE_TYPES, ids=KINDS.get)
def test_a_live_basket_resolves_and_settles_at_exactly_its_payout(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    signature_type: int,
) -> None:
    wallet = open_wallet(running, signature_type)
    legs = [
        (yes, cond, "10", ask)
        for (cond, yes, _), ask in zip(NEG_RISK, ("0.30", "0.31", "0.32"), strict=True)
    ]
    buy_live(live_settings, engine, wallet, legs)
    bought = ledger_of(engine)
    assert bought.cash_delta == -(BASKET_COST + BASKET_FEES)
    for _, yes, _ in NEG_RISK:
        assert chain_units(running, wallet.address, yes) == 10_000_000

    control(running, "POST", f"/markets/{NEG_RISK[0][0]}/resolve", {"outcome": "Yes"})
    pusd_before = chain_units(running, wallet.address)
    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 0, body
    applied = body["applied"]
    assert isinstance(applied, list) and len(applied) == 3
    assert {a["kind"] for a in applied} == {"redeem"}
    assert (body["proceeds"], body["realised"]) == ("10", "0.4434")
    assert chain_units(running, wallet.address) - pusd_before == 10_000_000  # exactly the payout
    for _, yes, no in NEG_RISK:
        assert chain_units(running, wallet.address, yes) == 0
        assert chain_units(running, wallet.address, no) == 0
    after = ledger_of(engine)
    assert all(p.size == 0 for p in after.positions.values())  # gone in the DB
    assert after.cash_delta - bought.cash_delta == BASKET_PAYOUT
    realised = sum((p.realised_pnl - p.fees_paid for p in after.positions.values()), D(0))
    assert realised == BASKET_PAYOUT - BASKET_COST - BASKET_FEES == D("0.4434")
    reconcile = body["reconcile"]
    assert isinstance(reconcile, dict) and reconcile["differences"] == []
    assert D(reconcile["pusd"]) == D(pusd_before + 10_000_000) * MICRO
    with session_scope(engine, read_only=True) as session:
        journal = actions(session, "live")
        assert [a.status for a in journal] == [APPLIED] * 3
        handles = [a.tx_hash if signature_type == 0 else a.relayer_tx_id for a in journal]
        assert all(handles)
        events = [s for s, _, _ in action_events(session, journal[0].id or 0)]
    assert events == ["intended", "submitting", "submitted", "confirmed", "applied"]

    code, again = settle_cli(monkeypatch, live_settings, wallet)
    assert code == 0 and again["applied"] == [] and again["open"] == [] and again["failed"] == []
    assert chain_units(running, wallet.address) - pusd_before == 10_000_000


@pytest.mark.parametrize("signature_type", SIGNATURE_TYPES, ids=KINDS.get)
def test_a_merge_of_n_complete_pairs_returns_n_pusd(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    signature_type: int,
) -> None:
    wallet = open_wallet(running, signature_type)
    buy_live(live_settings, engine, wallet, [(YES, COND, "10", "0.55"), (NO, COND, "10", "0.50")])
    bought = ledger_of(engine)
    cost = D("10") * (D("0.55") + D("0.50"))
    fees = -bought.cash_delta - cost
    pusd_before = chain_units(running, wallet.address)

    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 0, body
    [merge] = body["applied"]  # type: ignore[misc]
    assert merge["kind"] == "merge" and merge["proceeds"] == "10"
    assert D(merge["realised"]) == D(10) - cost - fees
    assert chain_units(running, wallet.address) - pusd_before == 10_000_000  # N pUSD
    assert chain_units(running, wallet.address, YES) == 0
    assert chain_units(running, wallet.address, NO) == 0
    after = ledger_of(engine)
    assert all(p.size == 0 for p in after.positions.values())
    assert after.cash_delta - bought.cash_delta == D(10)
    realised = sum((p.realised_pnl - p.fees_paid for p in after.positions.values()), D(0))
    assert realised == D(10) - cost - fees


def test_settle_reports_a_wallet_that_differs_from_the_ledger(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wallet = open_wallet(running, 0)
    buy_live(live_settings, engine, wallet, [(YES, COND, "10", "0.55"), (NO, COND, "10", "0.50")])
    control(running, "POST", f"/wallets/{wallet.address}/fund", {"tokens": {YES: "1"}})

    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 1
    assert body["applied"] == []
    assert body["reconcile"]["differences"] == [  # type: ignore[index]
        {"token_id": YES, "condition_id": COND, "ledger": "10", "chain": "11"}
    ]
    assert any("differs from the ledger" in n for n in body["notes"])  # type: ignore[union-attr]
    with session_scope(engine, read_only=True) as session:
        assert actions(session, "live") == []


@pytest.mark.parametrize("signature_type", [0, 3], ids=KINDS.get)
def test_a_complete_set_of_a_neg_risk_market_merges_through_its_adapter(
    running: RunningVenue,
    live_settings: Settings,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    signature_type: int,
) -> None:
    wallet = open_wallet(running, signature_type)
    cond, yes, no = NEG_RISK[0]  # YES ask 0.30; NO ask 1 - 0.28 (the YES bid) = 0.72
    buy_live(live_settings, engine, wallet, [(yes, cond, "10", "0.30"), (no, cond, "10", "0.72")])
    pusd_before = chain_units(running, wallet.address)

    code, body = settle_cli(monkeypatch, live_settings, wallet)

    assert code == 0, body
    [merge] = body["applied"]
    assert (merge["kind"], merge["condition_id"], merge["proceeds"]) == ("merge", cond, "10")
    assert chain_units(running, wallet.address) - pusd_before == 10_000_000
    assert (
        chain_units(running, wallet.address, yes) == chain_units(running, wallet.address, no) == 0
    )
    assert all(p.size == 0 for p in ledger_of(engine).positions.values())
