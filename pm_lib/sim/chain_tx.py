"""The emulated chain: signed transactions, nonces, a mempool, blocks and receipts.

``eth_sendRawTransaction`` bodies are decoded (legacy EIP-155 and typed EIP-2718/1559
transactions), the sender is recovered from the signature, and the transaction is admitted
the way geth (and Polygon's bor, a geth fork) admits it into its pool:

- a chain id other than the venue's is refused (``invalid chain id for signer``); a legacy
  transaction without EIP-155 replay protection too (``only replay-protected (EIP-155)
  transactions allowed over RPC``);
- a transaction whose hash the pool already holds: ``already known``; a nonce below the
  account's next one: ``nonce too low: next nonce N, tx nonce M`` (so re-sending a mined
  transaction is refused that way); another transaction with the nonce of a pending one:
  ``replacement transaction underpriced``; a nonce above the next one is queued until the gap
  fills, as geth does; ``gas`` below 21000: ``intrinsic gas too low``; a gas price under the
  chain's floor: ``transaction underpriced``.

An admitted transaction is mined after ``SimConfig.chain_mine_after_seconds`` of venue clock (0:
at once), each in its own block. Mining runs the call (``pm_lib.sim.chain_calls``) from the
sender; a revert leaves the state untouched and gives a receipt with status 0, and the nonce is
spent either way. Relayed transactions (``pm_lib.sim.relayer``) are mined the same way, sent
by the emulator's relay address, their calls run from the smart wallet.

Faults (``POST /_sim/chain/faults``): ``revert`` makes the next matching transactions revert
when mined; ``pending`` keeps them in the pool, never mined, until ``POST /_sim/chain/mine``
with ``{"release": true}``.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import rlp
from eth_account import Account
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from pm_lib.sim.accounts import Accounts
from pm_lib.sim.chain_calls import ChainWorld, Revert
from pm_lib.sim.state import VenueState

__all__ = [
    "CHAIN_FAULT_KINDS",
    "Chain",
    "ChainFault",
    "ChainTx",
    "RpcError",
    "WalletCall",
]

GWEI = 10**9
MIN_GAS_PRICE = 25 * GWEI  # Polygon PoS' minimum priority fee (docs/EMULATOR.md)
CALL_GAS = 200_000  # what eth_estimateGas answers for an emulated contract call
TRANSFER_GAS = 21_000
CHAIN_FAULT_KINDS = ("revert", "pending")
RELAY_ADDRESS = to_checksum_address(keccak(text="pm-sim relay")[-20:])
OPERATOR_ADDRESS = to_checksum_address(keccak(text="pm-sim exchange operator")[-20:])


class RpcError(Exception):
    """A JSON-RPC error: ``code``, ``message`` and optional ``data``, as geth answers them."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclass(frozen=True)
class WalletCall:
    """One call a transaction makes, and the account it runs as."""

    sender: str
    to: str
    data: bytes
    value: int = 0


@dataclass
class ChainTx:
    """One transaction, pending or mined."""

    tx_hash: str
    sender: str
    to: str | None
    nonce: int
    gas: int
    gas_price: int
    value: int
    data: bytes
    chain_id: int
    tx_type: int
    calls: list[WalletCall]
    submitted_at: float
    raw: str = ""
    v: int = 0
    r: int = 0
    s: int = 0
    mine_at: float | None = None  # None: queued (nonce gap) or held by a fault
    held: bool = False
    queued: bool = False
    relayed: bool = False  # sent by the relayer: its many relay accounts keep no common order
    forced_revert: str | None = None
    block_number: int | None = None
    mined_at: float | None = None
    status: int | None = None
    revert_reason: str | None = None
    on_mined: Callable[[ChainTx], None] | None = field(default=None, repr=False)

    @property
    def pending(self) -> bool:
        return self.block_number is None


@dataclass
class ChainFault:
    """An injected chain fault: the next ``count`` matching transactions revert or hang."""

    fault_id: str
    kind: str
    count: int | None = 1  # None: every matching transaction
    to: str | None = None  # match the transaction's target (or any inner call's)
    sender: str | None = None  # match the signer (EOA) or the wallet
    reason: str = "pm-sim: injected revert"
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in CHAIN_FAULT_KINDS:
            raise ValueError(f"unknown chain fault kind {self.kind!r}; one of {CHAIN_FAULT_KINDS}")

    def matches(self, tx: ChainTx, signer: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        targets = {c.to.lower() for c in tx.calls} | {(tx.to or "").lower()}
        senders = {c.sender.lower() for c in tx.calls} | {tx.sender.lower(), signer.lower()}
        if self.to is not None and self.to.lower() not in targets:
            return False
        return self.sender is None or self.sender.lower() in senders

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big") if value else 0


def _decode_raw(raw: bytes) -> dict[str, Any]:
    """The fields of a signed transaction; raises ``RpcError`` when it cannot be decoded."""
    try:
        if raw and raw[0] < 0x7F:
            fields = dict(TypedTransaction.from_bytes(HexBytes(raw)).as_dict())
            return {
                "type": raw[0],
                "chain_id": int(fields["chainId"]),
                "nonce": int(fields["nonce"]),
                "gas": int(fields["gas"]),
                "gas_price": int(fields.get("maxFeePerGas", fields.get("gasPrice", 0))),
                "to": fields.get("to") or None,
                "value": int(fields.get("value", 0)),
                "data": bytes(fields.get("data", b"")),
                "v": int(fields["v"]),
                "r": int(fields["r"]),
                "s": int(fields["s"]),
            }
        items = rlp.decode(raw)
        if not isinstance(items, list) or len(items) != 9:
            raise ValueError("a legacy transaction has 9 fields")
        nonce, gas_price, gas, to, value, data, v, r, s = items
        v_int = _int(v)
        if v_int in (27, 28):
            raise RpcError(-32000, "only replay-protected (EIP-155) transactions allowed over RPC")
        return {
            "type": 0,
            "chain_id": (v_int - 35) // 2,
            "nonce": _int(nonce),
            "gas": _int(gas),
            "gas_price": _int(gas_price),
            "to": to_checksum_address(to) if to else None,
            "value": _int(value),
            "data": bytes(data),
            "v": v_int,
            "r": _int(r),
            "s": _int(s),
        }
    except RpcError:
        raise
    except Exception as e:  # rlp, eth-account and eth-utils raise many kinds
        raise RpcError(-32000, f"rlp: {e}") from None


TradeLookup = Callable[[str], "tuple[int, str] | None"]


class Chain:
    """The emulated Polygon: nonces, pool, blocks. Callers need not hold the venue lock.

    ``trade_lookup`` (set by the venue) answers for a CLOB trade's ``transaction_hash``:
    ``(status, exchange)`` once the trade is mined (status 1) or failed (0), None before, so
    the settlement transactions the exchange reports have receipts too."""

    trade_lookup: TradeLookup | None = None

    def __init__(
        self,
        state: VenueState,
        accounts: Accounts,
        chain_id: int,
        mine_after_seconds: Callable[[], float],
    ) -> None:
        self.state = state
        self.accounts = accounts
        self.chain_id = chain_id
        self.mine_after_seconds = mine_after_seconds
        self.lock: threading.RLock = state.lock
        self.world = ChainWorld(accounts, state)
        self._fault_ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        """Forget every transaction, nonce, block and fault (``POST /_sim/reset``)."""
        with self.lock:
            self.txs: dict[str, ChainTx] = {}
            self.order: list[str] = []  # hashes in admission order
            self.nonces: dict[str, int] = {}  # mined (latest) nonce per sender, lower-case
            self.block_number = 1
            self.genesis_time = self.now()
            self.faults: list[ChainFault] = []
            self.trade_blocks: dict[str, int] = {}  # trade transaction hash -> its block

    def now(self) -> float:
        return self.state.clock.now()

    # -- nonces ------------------------------------------------------------------------------

    def latest_nonce(self, address: str) -> int:
        return self.nonces.get(address.lower(), 0)

    def pending_nonce(self, address: str) -> int:
        """The next nonce counting admitted, not yet mined transactions (not queued ones)."""
        nonce = self.latest_nonce(address)
        waiting = {
            t.nonce
            for t in self.txs.values()
            if t.pending and not t.queued and t.sender.lower() == address.lower()
        }
        while nonce in waiting:
            nonce += 1
        return nonce

    # -- admission ---------------------------------------------------------------------------

    def send_raw(self, raw_hex: str) -> str:
        """``eth_sendRawTransaction``: admit a signed transaction, return its hash."""
        try:
            raw = bytes.fromhex(raw_hex.removeprefix("0x"))
        except ValueError:
            raise RpcError(-32602, "invalid argument 0: json: cannot unmarshal hex") from None
        fields = _decode_raw(raw)
        try:
            sender = str(Account.recover_transaction(raw))
        except Exception:
            raise RpcError(-32000, "invalid sender") from None
        tx_hash = "0x" + keccak(raw).hex()
        with self.lock:
            self.advance()
            if fields["chain_id"] != self.chain_id:
                raise RpcError(-32000, "invalid chain id for signer")
            known = self.txs.get(tx_hash)
            if known is not None and known.pending:
                raise RpcError(-32000, "already known")
            latest = self.latest_nonce(sender)
            if fields["nonce"] < latest:
                raise RpcError(
                    -32000, f"nonce too low: next nonce {latest}, tx nonce {fields['nonce']}"
                )
            if any(
                t.pending and t.sender.lower() == sender.lower() and t.nonce == fields["nonce"]
                for t in self.txs.values()
            ):
                raise RpcError(-32000, "replacement transaction underpriced")
            if fields["gas"] < TRANSFER_GAS:
                raise RpcError(-32000, "intrinsic gas too low")
            if fields["gas_price"] < MIN_GAS_PRICE:
                raise RpcError(-32000, "transaction underpriced")
            to = fields["to"]
            calls = [WalletCall(sender, to, fields["data"], fields["value"])] if to else []
            tx = ChainTx(
                tx_hash=tx_hash,
                sender=sender,
                to=to,
                nonce=fields["nonce"],
                gas=fields["gas"],
                gas_price=fields["gas_price"],
                value=fields["value"],
                data=fields["data"],
                chain_id=fields["chain_id"],
                tx_type=fields["type"],
                calls=calls,
                submitted_at=self.now(),
                raw="0x" + raw.hex(),
                v=fields["v"],
                r=fields["r"],
                s=fields["s"],
            )
            if to is None:
                tx.forced_revert = "pm-sim: contract creation is not emulated"
            elif fields["gas"] < self.estimate(calls):
                tx.forced_revert = "out of gas"
            self._admit(tx, signer=sender, queued=fields["nonce"] > self.pending_nonce(sender))
            self.advance()
            return tx_hash

    def submit_relayed(
        self,
        calls: Sequence[WalletCall],
        *,
        to: str,
        data: bytes,
        signer: str,
        tag: str,
        on_mined: Callable[[ChainTx], None] | None = None,
    ) -> ChainTx:
        """Admit a transaction the relayer sends from its relay address for a smart wallet."""
        with self.lock:
            nonce = sum(1 for t in self.txs.values() if t.relayed)
            tx = ChainTx(
                tx_hash="0x" + keccak(text=f"pm-sim-relayed:{tag}:{nonce}").hex(),
                sender=RELAY_ADDRESS,
                to=to,
                nonce=nonce,
                gas=self.estimate(calls) + 100_000,
                gas_price=MIN_GAS_PRICE + 5 * GWEI,
                value=0,
                data=data,
                chain_id=self.chain_id,
                tx_type=0,
                calls=list(calls),
                submitted_at=self.now(),
                relayed=True,
                on_mined=on_mined,
            )
            self._admit(tx, signer=signer, queued=False)
            self.advance()
            return tx

    def _admit(self, tx: ChainTx, *, signer: str, queued: bool) -> None:
        for fault in self.faults:
            if fault.matches(tx, signer):
                if fault.count is not None:
                    fault.count -= 1
                fault.fired += 1
                if fault.kind == "revert":
                    tx.forced_revert = fault.reason
                else:
                    tx.held = True
                break
        tx.queued = queued
        if not queued and not tx.held:
            tx.mine_at = self.now() + self.mine_after_seconds()
        self.txs[tx.tx_hash] = tx
        self.order.append(tx.tx_hash)

    # -- mining ------------------------------------------------------------------------------

    def advance(self, *, release: bool = False) -> list[str]:
        """Mine every due transaction in admission order (``release``: held ones too)."""
        mined: list[str] = []
        with self.lock:
            now = self.now()
            progress = True
            while progress:
                progress = False
                for tx_hash in self.order:
                    tx = self.txs[tx_hash]
                    if not tx.pending:
                        continue
                    if release and tx.held:
                        tx.held = False
                        tx.mine_at = now
                    if tx.queued and tx.nonce == self.latest_nonce(tx.sender):
                        tx.queued = False
                        tx.mine_at = now + self.mine_after_seconds()
                    if tx.mine_at is None or tx.mine_at > now:
                        continue
                    if not tx.relayed and tx.nonce != self.latest_nonce(tx.sender):
                        continue  # an earlier nonce of this sender is still held
                    self._mine(tx, now)
                    mined.append(tx_hash)
                    progress = True
            self.order = [h for h in self.order if self.txs[h].pending]
        return mined

    def _mine(self, tx: ChainTx, now: float) -> None:
        self.block_number += 1
        tx.block_number = self.block_number
        tx.mined_at = now
        if not tx.relayed:
            self.nonces[tx.sender.lower()] = tx.nonce + 1
        try:
            if tx.forced_revert is not None:
                raise Revert(tx.forced_revert)
            self.run(tx.calls)
            tx.status = 1
        except Revert as e:
            tx.status = 0
            tx.revert_reason = e.reason
        if tx.on_mined is not None:
            tx.on_mined(tx)

    def run(self, calls: Sequence[WalletCall]) -> None:
        """Run ``calls`` all or nothing; raises ``Revert`` with the first failure."""
        with self.lock:
            try:
                for call in calls:
                    self.world.execute(call.to, call.data, sender=call.sender, value=call.value)
            except Revert:
                self.world.rollback()
                raise
            self.world.commit()

    def simulate(self, calls: Sequence[WalletCall]) -> None:
        """Run ``calls`` and undo them: raises ``Revert`` as mining would."""
        with self.lock:
            try:
                for call in calls:
                    self.world.execute(call.to, call.data, sender=call.sender, value=call.value)
            finally:
                self.world.rollback()

    def estimate(self, calls: Sequence[WalletCall]) -> int:
        """Gas the calls need (a fixed figure per call; plain transfers 21000)."""
        return TRANSFER_GAS + sum(CALL_GAS for c in calls if c.data)

    # -- faults ------------------------------------------------------------------------------

    def add_fault(self, **fields: Any) -> ChainFault:
        with self.lock:
            fault = ChainFault(fault_id=f"c{next(self._fault_ids)}", **fields)
            self.faults.append(fault)
            return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    # -- views -------------------------------------------------------------------------------

    def block_hash(self, number: int) -> str:
        return "0x" + keccak(text=f"pm-sim-block:{self.genesis_time}:{number}").hex()

    def block_time(self, tx: ChainTx | None = None) -> int:
        if tx is not None and tx.mined_at is not None:
            return int(tx.mined_at)
        return int(self.now())

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """``eth_getTransactionReceipt``: None while pending or unknown."""
        with self.lock:
            self.advance()
            tx = self.txs.get(tx_hash.lower())
            if tx is None:
                return self._trade_receipt(tx_hash.lower())
            if tx.block_number is None:
                return None
            gas_used = min(tx.gas, self.estimate(tx.calls))
            return {
                "transactionHash": tx.tx_hash,
                "transactionIndex": "0x0",
                "blockHash": self.block_hash(tx.block_number),
                "blockNumber": hex(tx.block_number),
                "from": tx.sender.lower(),
                "to": tx.to.lower() if tx.to else None,
                "cumulativeGasUsed": hex(gas_used),
                "gasUsed": hex(gas_used),
                "effectiveGasPrice": hex(tx.gas_price),
                "contractAddress": None,
                "logs": [],
                "logsBloom": "0x" + "00" * 256,
                "status": hex(tx.status or 0),
                "type": hex(tx.tx_type),
            }

    def _trade_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The receipt of a CLOB trade's settlement transaction (the exchange's operator
        calling the exchange), once the trade is mined or failed."""
        found = self.trade_lookup(tx_hash) if self.trade_lookup is not None else None
        if found is None:
            return None
        status, exchange = found
        number = self.trade_blocks.get(tx_hash)
        if number is None:
            self.block_number += 1
            number = self.trade_blocks[tx_hash] = self.block_number
        return {
            "transactionHash": tx_hash,
            "transactionIndex": "0x0",
            "blockHash": self.block_hash(number),
            "blockNumber": hex(number),
            "from": OPERATOR_ADDRESS.lower(),
            "to": exchange.lower(),
            "cumulativeGasUsed": hex(CALL_GAS),
            "gasUsed": hex(CALL_GAS),
            "effectiveGasPrice": hex(MIN_GAS_PRICE),
            "contractAddress": None,
            "logs": [],
            "logsBloom": "0x" + "00" * 256,
            "status": hex(status),
            "type": "0x2",
        }

    def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        """``eth_getTransactionByHash``: pending ones have a null block."""
        with self.lock:
            self.advance()
            tx = self.txs.get(tx_hash.lower())
            if tx is None:
                return None
            number = tx.block_number
            return {
                "hash": tx.tx_hash,
                "nonce": hex(tx.nonce),
                "blockHash": self.block_hash(number) if number is not None else None,
                "blockNumber": hex(number) if number is not None else None,
                "transactionIndex": "0x0" if number is not None else None,
                "from": tx.sender.lower(),
                "to": tx.to.lower() if tx.to else None,
                "value": hex(tx.value),
                "gas": hex(tx.gas),
                "gasPrice": hex(tx.gas_price),
                "input": "0x" + tx.data.hex(),
                "type": hex(tx.tx_type),
                "chainId": hex(tx.chain_id),
                "v": hex(tx.v),
                "r": hex(tx.r),
                "s": hex(tx.s),
            }

    def block(self, tag: str) -> dict[str, Any] | None:
        """``eth_getBlockByNumber`` (header fields only; no transaction list)."""
        with self.lock:
            self.advance()
            if tag in ("latest", "pending", "safe", "finalized"):
                number = self.block_number
            elif tag == "earliest":
                number = 0
            else:
                number = int(tag, 16)
                if number > self.block_number:
                    return None
            return {
                "number": hex(number),
                "hash": self.block_hash(number),
                "parentHash": self.block_hash(number - 1) if number else "0x" + "00" * 32,
                "timestamp": hex(int(self.now())),
                "baseFeePerGas": hex(GWEI),
                "gasLimit": hex(30_000_000),
                "gasUsed": "0x0",
                "miner": "0x" + "00" * 20,
                "transactions": [],
            }

    def as_json(self, tx: ChainTx) -> dict[str, Any]:
        """The control view of a transaction."""
        return {
            "hash": tx.tx_hash,
            "raw": tx.raw,
            "from": tx.sender,
            "to": tx.to,
            "nonce": tx.nonce,
            "pending": tx.pending,
            "held": tx.held,
            "queued": tx.queued,
            "block_number": tx.block_number,
            "status": tx.status,
            "revert_reason": tx.revert_reason,
            "calls": [
                {"from": c.sender, "to": c.to, "data": "0x" + c.data.hex()} for c in tx.calls
            ],
        }
