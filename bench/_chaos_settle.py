"""Settlement rounds of the fault campaign (``bench/chaos.py --settle N``).

Each round, on a fresh emulator and a fresh database (SQLite, or a throw-away PostgreSQL
schema is not needed: the rounds never share a wallet), with a fresh throw-away key:

1. draws a signature type (0 EOA, 1 proxy, 2 Safe, 3 deposit wallet) and a scenario:
   ``merge`` (10 YES + 10 NO of a binary market bought live, merged into 10 pUSD) or ``redeem``
   (a neg-risk basket of one YES per outcome, 10 shares each, bought live; the event resolves;
   the three markets redeemed);
2. draws 0-2 settlement faults and injects them on the submission of the first action:
   ``lost_rpc`` (the answer to ``eth_sendRawTransaction`` cut off after the transaction was
   taken), ``lost_relayer`` (the answer to the relayer's ``POST /submit`` cut off likewise),
   ``submit_502`` (a 502 before the submission ran), ``revert`` (the transaction reverts when
   mined), ``pending`` (held in the pool until released), ``lost_receipt`` (the answers to the
   receipt/transaction lookups cut off);
3. runs ``settle`` (live, in this process, through the real SDK) up to five times, removing the
   faults after the first run and releasing held transactions after the second;
4. checks: the wallet's pUSD on chain grew by exactly the proceeds once (``settled_twice`` /
   ``not_settled``), one successful chain transaction per settled condition
   (``duplicate_transaction``), the wallet's positions and the ledger's are all gone and equal
   (``chain_ledger_mismatch``), realised P&L = payout - cost - fees to the micro-unit
   (``realised_wrong``), one applied action per condition in the journal (``journal``).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_utils.crypto import keccak

from pm_lib.auth import credentials_from_mapping
from pm_lib.execution.live import LiveExecutor
from pm_lib.execution.multileg import execute_opportunity
from pm_lib.models import FeeSchedule, Leg, Market, Opportunity, OrderStatus, Outcome, Side
from pm_lib.portfolio.ledger import replay
from pm_lib.settings import Settings
from pm_lib.settlement import settle
from pm_lib.settlement.live import action_fills
from pm_lib.sim.server import RunningVenue, running_venue
from pm_lib.sim.state import Ladder, RestingOrder, SimEvent, SimMarket, VenueState
from pm_lib.sim.venue import SimConfig, SimVenue
from pm_lib.store import make_engine, session_scope, upgrade
from pm_lib.store.settlement_actions import APPLIED, actions
from pm_lib.store.trades import fills, upsert_fill

__all__ = ["SETTLE_FAULTS", "SETTLE_VIOLATIONS", "SettleRound", "settle_round"]

SETTLE_FAULTS = ("lost_rpc", "lost_relayer", "submit_502", "revert", "pending", "lost_receipt")
SETTLE_VIOLATIONS = (
    "setup",
    "settled_twice",
    "not_settled",
    "duplicate_transaction",
    "chain_ledger_mismatch",
    "realised_wrong",
    "journal",
)
D = Decimal
FEES = FeeSchedule(rate=D("0.04"), exponent=1)


def _token(name: str) -> str:
    """A CTF-like 256-bit token id: the unified SDK signs a small id (bits 40-103 all zero) as a
    protocol-v2 position for another exchange, and the adapter refuses it unsent."""
    return str(int.from_bytes(hashlib.sha256(f"pm-agent-chaos/{name}".encode()).digest(), "big"))


BINARY = ("0x" + "c1" * 32, _token("9001"), _token("9002"))
EVENT, GROUP = "ev-settle", "0x" + "e7" * 32
NEG_RISK = [("0x" + f"d{i}" * 32, _token(f"91{i}1"), _token(f"91{i}2")) for i in (1, 2, 3)]
ASKS = ("0.30", "0.31", "0.32")
KINDS = {0: "eoa", 1: "proxy", 2: "safe", 3: "deposit"}


@dataclass
class SettleRound:
    """What one round did and found."""

    number: int
    signature_type: int
    scenario: str
    faults: list[str]
    runs: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    violations: list[tuple[str, str]] = field(default_factory=list)


def _ladder(name: str, ask: str, bid: str = "0.28") -> Ladder:
    def queue(oid: str, side: str, price: str) -> deque[RestingOrder]:
        return deque([RestingOrder(oid, yes_side=side, yes_price=D(price), remaining=D(100))])

    return Ladder(
        bids={D(bid): queue(f"bg-{name}-b", "BUY", bid)},
        asks={D(ask): queue(f"bg-{name}-a", "SELL", ask)},
    )


def _sim_market(condition: str, yes: str, no: str, **extra: Any) -> SimMarket:
    return SimMarket(
        condition_id=condition,
        market_id=condition[-4:],
        question=f"Outcome {condition[-4:]}?",
        slug=f"outcome-{condition[-4:]}",
        outcomes=("Yes", "No"),
        token_ids=(yes, no),
        tick_size=D("0.01"),
        fees_enabled=True,
        fee_type="politics_fees",
        fee_rate=FEES.rate,
        fee_exponent=FEES.exponent,
        **extra,
    )


def _venue() -> SimVenue:
    """A binary market (YES ask 0.55, so NO ask 0.50) and a three-outcome neg-risk event."""
    state = VenueState()
    state.add_market(_sim_market(*BINARY), _ladder("bin", "0.55", "0.50"))
    for (condition, yes, no), ask in zip(NEG_RISK, ASKS, strict=True):
        state.add_market(
            _sim_market(
                condition, yes, no, neg_risk=True, neg_risk_market_id=GROUP, event_id=EVENT
            ),
            _ladder(condition[-4:], ask),
        )
    state.events[EVENT] = SimEvent(
        event_id=EVENT,
        title="Who wins?",
        slug="who-wins",
        neg_risk=True,
        neg_risk_market_id=GROUP,
        condition_ids=[c for c, _, _ in NEG_RISK],
    )
    return SimVenue(SimConfig(enforce_rate_limits=False), state=state)


def _market(condition: str, yes: str, no: str, neg_risk: bool) -> Market:
    return Market(
        condition_id=condition,
        market_id=condition[-4:],
        question=f"Outcome {condition[-4:]}?",
        slug=f"outcome-{condition[-4:]}",
        outcomes=(Outcome(name="Yes", token_id=yes), Outcome(name="No", token_id=no)),
        neg_risk=neg_risk,
        neg_risk_market_id=GROUP if neg_risk else None,
        event_id=EVENT if neg_risk else None,
        tick_size=D("0.01"),
        min_order_size=D("5"),
        fees=FEES,
    )


MARKETS = {BINARY[0]: _market(*BINARY, neg_risk=False)} | {
    c: _market(c, y, n, neg_risk=True) for c, y, n in NEG_RISK
}


def _opportunity(legs: list[tuple[str, str, str]]) -> Opportunity:
    order_legs = tuple(
        Leg(
            token_id=token,
            condition_id=condition,
            side=Side.BUY,
            size=D(10),
            limit_price=D(limit),
            expected_vwap=D(limit),
        )
        for token, condition, limit in legs
    )
    return Opportunity(
        id="settle-chaos",
        strategy="negrisk_arbitrage",
        market="group",
        legs=order_legs,
        edge=D("0.01"),
        cost=sum((leg.size * leg.limit_price for leg in order_legs), D(0)),
        fees=D(0),
        payout=D(10),
        reason="settlement chaos",
        created_at=datetime.now(UTC),
    )


class _Control:
    def __init__(self, running: RunningVenue) -> None:
        self.base = f"{running.clob_url}/_sim"

    def __call__(self, method: str, path: str, body: Any = None) -> Any:
        answer = httpx.request(method, self.base + path, json=body, timeout=10)
        answer.raise_for_status()
        return answer.json()


def _faults(control: _Control, kinds: list[str], signature_type: int) -> None:
    relayer = signature_type != 0
    for kind in kinds:
        if kind == "lost_rpc":
            control(
                "POST",
                "/faults",
                {
                    "kind": "response_lost",
                    "method": "POST",
                    "path": "/rpc",
                    "rpc_method": "eth_sendRawTransaction",
                    "count": 1,
                },
            )
        elif kind == "lost_relayer":
            control(
                "POST",
                "/faults",
                {"kind": "response_lost", "method": "POST", "path": "/relayer/submit", "count": 1},
            )
        elif kind == "submit_502":
            rule: dict[str, Any] = {"kind": "error", "status": 502, "method": "POST", "count": 1}
            if relayer:
                rule["path"] = "/relayer/submit"
            else:
                rule |= {"path": "/rpc", "rpc_method": "eth_sendRawTransaction"}
            control("POST", "/faults", rule)
        elif kind == "revert":
            control("POST", "/chain/faults", {"kind": "revert", "count": 1})
        elif kind == "pending":
            control("POST", "/chain/faults", {"kind": "pending", "count": 1})
        elif kind == "lost_receipt":
            if relayer:
                rule = {"path": "/relayer/v1/account/transactions/.*", "method": "GET"}
            else:
                rule = {"path": "/rpc", "method": "POST", "rpc_method": "eth_getTransactionReceipt"}
            control("POST", "/faults", {"kind": "response_lost", "count": 2} | rule)


def _fired(control: _Control) -> int:
    rules = control("GET", "/faults")
    chain = control("GET", "/chain/faults")
    return sum(int(r.get("fired", 0)) for r in rules) + sum(int(f.get("fired", 0)) for f in chain)


def _wallet(control: _Control, key: str, signature_type: int) -> tuple[str, dict[str, str]]:
    signer = str(Account.from_key(key).address)
    env = {"POLYMARKET_PRIVATE_KEY": key, "POLYMARKET_SIGNATURE_TYPE": str(signature_type)}
    if signature_type == 0:
        control("POST", f"/wallets/{signer}/fund", {"approve": True})
        return signer, env
    body = {"signer": signer, "type": KINDS[signature_type], "pusd": "10000", "approve": True}
    wallet = str(control("POST", "/chain/wallets", body)["wallet"])
    key_body = control("GET", f"/relayer/api-key?address={signer}")
    env |= {
        "POLYMARKET_FUNDER": wallet,
        "POLYMARKET_RELAYER_API_KEY": str(key_body["key"]),
        "POLYMARKET_RELAYER_API_KEY_ADDRESS": signer,
    }
    return wallet, env


def settle_round(
    rng: random.Random, workdir: Path, number: int, *, sabotage: bool = False
) -> SettleRound:
    """One round (module docstring). ``sabotage`` books the applied actions' fills a second
    time before the checks (a double settlement in the ledger), to prove the checks see it."""
    signature_type = rng.choice([0, 1, 2, 3])
    scenario = rng.choice(["merge", "redeem"])
    submit_lost = "lost_relayer" if signature_type else "lost_rpc"
    pool = [submit_lost, "submit_502", "revert", "pending", "lost_receipt"]
    kinds = rng.sample(pool, rng.choice([0, 1, 1, 2]))
    if "revert" in kinds and "pending" in kinds:
        kinds.remove("pending")
    found = SettleRound(number, signature_type, scenario, sorted(kinds))
    key = "0x" + keccak(text=f"pm-chaos-settle:{number}:{rng.random()}").hex()
    with running_venue(_venue()) as running:
        control = _Control(running)
        address, env = _wallet(control, key, signature_type)
        credentials = credentials_from_mapping(env)
        database = workdir / f"settle-{number}.db"
        settings = Settings(
            _env_file=None,
            mode="live",
            clob_url=running.clob_url,
            gamma_url=running.gamma_url,
            data_dir=workdir,
            database_url=f"sqlite:///{database}",
            http_timeout_seconds=5.0,
            http_max_retries=1,
            settle_confirm_seconds=2,
        )
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        try:
            _round(found, running, control, settings, engine, credentials, address, kinds, sabotage)
        finally:
            engine.dispose()
    return found


def _round(
    found: SettleRound,
    running: RunningVenue,
    control: _Control,
    settings: Settings,
    engine: Any,
    credentials: Any,
    address: str,
    kinds: list[str],
    sabotage: bool = False,
) -> None:
    if found.scenario == "merge":
        cond, yes, no = BINARY
        legs = [(yes, cond, "0.55"), (no, cond, "0.50")]
        proceeds, conditions = D(10), {cond}
    else:
        legs = [(yes, cond, ask) for (cond, yes, _), ask in zip(NEG_RISK, ASKS, strict=True)]
        proceeds, conditions = D(10), {c for c, _, _ in NEG_RISK}
    executor = LiveExecutor.connect(settings, engine, credentials, run_id="buy")
    try:
        outcome = execute_opportunity(
            executor,
            _opportunity(legs),
            MARKETS,
            {},
            settings=settings,
            engine=engine,
            run_id="buy",
        )
    finally:
        executor.close()
    if [r.status for r in outcome.results] != [OrderStatus.MATCHED] * len(legs):
        found.violations.append(("setup", f"buy did not fill: {outcome.results}"))
        return
    with session_scope(engine, read_only=True) as session:
        bought = replay(fills(session, "live"))
    cost_and_fees = -bought.cash_delta
    if found.scenario == "redeem":
        control("POST", f"/markets/{NEG_RISK[0][0]}/resolve", {"outcome": "Yes"})
    pusd_before = int(control("GET", f"/chain/wallets/{address}")["pusd"])
    _faults(control, kinds, found.signature_type)
    for run in range(5):
        report = asyncio.run(
            settle(engine, settings, "live", datetime.now(UTC), credentials=credentials)
        )
        found.runs += 1
        if run == 0:
            found.fired["any"] += _fired(control) > 0
            control("DELETE", "/faults")
            control("DELETE", "/chain/faults")
        if run == 1:
            control("POST", "/chain/mine", {"release": True})
        if not report.open and not report.failed and run > 0:
            break
    if sabotage:
        with session_scope(engine) as session:
            for item in actions(session, "live", [APPLIED]):
                for fill in action_fills(item, datetime.now(UTC)):
                    twice = fill.model_copy(update={"trade_id": fill.trade_id + "-again"})
                    upsert_fill(session, twice, mode="live")
    wallet = control("GET", f"/chain/wallets/{address}")
    gained = int(wallet["pusd"]) - pusd_before
    if gained > proceeds * 1_000_000:
        found.violations.append(("settled_twice", f"pUSD +{gained} for {proceeds}"))
    elif gained < proceeds * 1_000_000:
        found.violations.append(("not_settled", f"pUSD +{gained} for {proceeds}"))
    held = {t: int(u) for t, u in wallet["positions"].items() if int(u)}
    with session_scope(engine, read_only=True) as session:
        ledger = replay(fills(session, "live"))
        journal = actions(session, "live")
    open_positions = {t: p.size for t, p in ledger.positions.items() if p.size}
    if held or open_positions:
        found.violations.append(("chain_ledger_mismatch", f"chain {held}, ledger {open_positions}"))
    if ledger.cash_delta - bought.cash_delta != D(gained) / 1_000_000:
        found.violations.append(
            ("chain_ledger_mismatch", f"ledger cash {ledger.cash_delta}, chain +{gained}")
        )
    realised = sum((p.realised_pnl - p.fees_paid for p in ledger.positions.values()), D(0))
    if realised != proceeds - cost_and_fees:
        found.violations.append(("realised_wrong", f"{realised} != {proceeds - cost_and_fees}"))
    applied = Counter(a.condition_id for a in journal if a.status == APPLIED)
    if applied != Counter(dict.fromkeys(conditions, 1)):
        found.violations.append(("journal", f"applied per condition {dict(applied)}"))
    if any(a.status == APPLIED and not (a.tx_hash or a.relayer_tx_id or a.nonce) for a in journal):
        found.violations.append(("journal", "an applied action without a handle"))
    mined = [
        tx
        for tx in control("GET", "/chain/transactions")
        if tx["status"] == 1
        and address.lower() in {c["from"].lower() for c in tx["calls"]} | {tx["from"].lower()}
    ]
    if len(mined) != len(conditions):
        found.violations.append(
            ("duplicate_transaction", f"{len(mined)} settlement txs for {len(conditions)}")
        )
